"""`lint`: the events of files checked against the Segment Spec, as the receiver checks them."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..core.checks import finding_lines, lint as lint_body, lint_doc
from ..core.files import UnreadableError, read_events
from ..core.model import SEVERITIES, Event
from ..core.templates import TOKEN, fill
from ..core.text import inert, inert_json
from .common import EXIT_LINT_ERRORS, EXIT_OK, EXIT_USAGE
from .settings import Settings


def lint(args: argparse.Namespace, settings: Settings) -> int:
    """Lint every event of every file; exit 1 if any has an error-severity finding."""
    as_json = settings.json
    now = time.time()
    counts = dict.fromkeys(SEVERITIES, 0)
    events = 0
    unreadable, read = False, False
    templates: list[str] = []  # files read as they are that hold the tester's {{placeholders}}
    for name in args.files:
        try:
            data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
            if args.fill:
                data = fill(data.decode("utf-8", "replace")).encode()
            elif TOKEN.search(data.decode("utf-8", "replace")):
                templates.append("stdin" if name == "-" else name)
            problems: list[str] = []
            found = read_events(data, "stdin" if name == "-" else name, problems)
            for problem in problems:
                print(f"segment-inspector: cannot lint {inert(problem)}", file=sys.stderr)
            unreadable = unreadable or bool(problems)
            read = True
        except (OSError, UnreadableError) as err:
            reason = f"{name}: {err.strerror}" if isinstance(err, OSError) else str(err)
            print(f"segment-inspector: cannot lint {inert(reason)}", file=sys.stderr)
            unreadable = True
            continue
        for where, event in found:
            events += 1
            findings = lint_body(event, now=now)
            for f in findings:
                counts[f.severity] += 1
            if as_json:
                print(inert_json(lint_doc(where, event, findings)))
            elif findings:
                view = Event.of(event)
                title = " ".join(part for part in (view.type, view.event and repr(view.event)) if part)
                print(inert(f"{where}  {title or 'event'}"))
                for line in (line for f in findings for line in finding_lines(f)):
                    print(inert(line))
    if read and not as_json:  # nothing read: the errors above say it all
        totals = ", ".join(f"{n} {severity}{'s' if n != 1 and severity != 'info' else ''}"
                           for severity, n in counts.items())
        print(f"{events} event{'s' if events != 1 else ''}: {totals}")
    if templates:
        print(f"segment-inspector: {inert(', '.join(templates[:3]))}{' and more' if len(templates) > 3 else ''} "
              "hold {{placeholders}} like Segment's endpoint-tester templates: add --fill to lint them "
              "filled with fake data", file=sys.stderr)
    if unreadable:
        return EXIT_USAGE
    return EXIT_LINT_ERRORS if counts["error"] else EXIT_OK

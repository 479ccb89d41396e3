"""`lint` and `plan check`: the events of files checked against the Segment Spec or a tracking
plan, as the receiver checks them."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..core.checks import finding_lines, lint as lint_body, lint_doc
from ..core.files import UnreadableError, read_events
from ..core.model import SEVERITIES, Event, Finding
from ..core.templates import TOKEN, fill
from ..core.text import inert, inert_json
from .common import EXIT_LINT_ERRORS, EXIT_OK, EXIT_USAGE
from .settings import Settings


class FileEvents:
    """The events of files named on the command line (`-` is stdin), each with where it is;
    what could not be read is said on stderr and remembered."""

    def __init__(self, names: list[str], fill_templates: bool, verb: str) -> None:
        self.names, self.fill, self.verb = names, fill_templates, verb
        self.unreadable = self.read = False
        self.templates: list[str] = []  # files read as they are that hold the tester's {{placeholders}}

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        for name in self.names:
            try:
                data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
                if self.fill:
                    data = fill(data.decode("utf-8", "replace")).encode()
                elif TOKEN.search(data.decode("utf-8", "replace")):
                    self.templates.append("stdin" if name == "-" else name)
                problems: list[str] = []
                found = read_events(data, "stdin" if name == "-" else name, problems)
                for problem in problems:
                    print(f"segment-inspector: cannot {self.verb} {inert(problem)}", file=sys.stderr)
                self.unreadable = self.unreadable or bool(problems)
                self.read = True
            except (OSError, UnreadableError) as err:
                reason = f"{name}: {err.strerror}" if isinstance(err, OSError) else str(err)
                print(f"segment-inspector: cannot {self.verb} {inert(reason)}", file=sys.stderr)
                self.unreadable = True
                continue
            yield from found


def report(files: FileEvents, findings_of: Callable[[Any], list[Finding]], as_json: bool) -> int:
    """Print each event's findings (one JSON document an event with `as_json`), then the totals;
    exit 1 if any finding is an error, 2 if a file could not be read."""
    counts = dict.fromkeys(SEVERITIES, 0)
    events = 0
    for where, event in files:
        events += 1
        findings = findings_of(event)
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
    if files.read and not as_json:  # nothing read: the errors above say it all
        totals = ", ".join(f"{n} {severity}{'s' if n != 1 and severity != 'info' else ''}"
                           for severity, n in counts.items())
        print(f"{events} event{'s' if events != 1 else ''}: {totals}")
    if files.templates:
        shown = ", ".join(files.templates[:3]) + (" and more" if len(files.templates) > 3 else "")
        print(f"segment-inspector: {inert(shown)} hold {{{{placeholders}}}} like Segment's endpoint-tester "
              f"templates: add --fill to {files.verb} them filled with fake data", file=sys.stderr)
    if files.unreadable:
        return EXIT_USAGE
    return EXIT_LINT_ERRORS if counts["error"] else EXIT_OK


def lint(args: argparse.Namespace, settings: Settings) -> int:
    """Lint every event of every file; exit 1 if any has an error-severity finding."""
    now = time.time()
    return report(FileEvents(args.files, args.fill, "lint"), lambda event: lint_body(event, now=now),
                  settings.json)

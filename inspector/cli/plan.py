"""`plan infer` makes a tracking plan from the kept events; `plan check` checks files against one."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import orjson

from ..core.plans import Checking, PlanError, infer, load_plan, samples_of
from ..core.text import inert, inert_json
from .common import EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, RuntimeFailure, UsageError
from .history import matching
from .lint import FileEvents, report
from .settings import Settings


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser],
               data_dir: Callable[[argparse.ArgumentParser], None]) -> None:
    plan = commands.add_parser("plan", help="tracking plans: infer one from the history, check events against one")
    actions = plan.add_subparsers(dest="plan_command", metavar="ACTION", required=True)
    made = actions.add_parser("infer", help="a plan from the kept events, and what they disagree on")
    made.add_argument("query", nargs="*", help="which exchanges (see docs/query.md; default: all)")
    made.add_argument("--out", metavar="PLAN.json", default="-",
                      help="where to write the plan, in Segment's Public API form (default: stdout)")
    made.add_argument("--force", action="store_true", help="overwrite an existing file")
    made.add_argument("--limit", type=int, default=0, help="only the newest N matching exchanges (default: all)")
    made.add_argument("--json", action="store_true", default=None, help="the report as one JSON document")
    data_dir(made)
    check = actions.add_parser("check", help="check the events of files against a plan, like lint")
    check.add_argument("plan", metavar="PLAN", help="a plan: Segment's Public API rules, or a map of event to schema")
    check.add_argument("files", nargs="+", metavar="FILE", help="JSON or JSON Lines files; - reads stdin")
    check.add_argument("--no-unplanned-properties", dest="unplanned_properties", action="store_false",
                       help="a property the plan does not list is a violation, not a warning")
    check.add_argument("--fill", action="store_true", help="fill {{placeholders}} first, as lint --fill does")
    check.add_argument("--json", action="store_true", default=None, help="one JSON result per event")


def plan(args: argparse.Namespace, settings: Settings) -> int:
    return PLAN_COMMANDS[args.plan_command](args, settings)


def check(args: argparse.Namespace, settings: Settings) -> int:
    """Each event's violations of the plan; exit 1 on one, 2 if the plan or a file is unusable."""
    try:
        checking = Checking(load_plan(args.plan), unplanned_properties=args.unplanned_properties)
    except PlanError as err:
        print(f"segment-inspector: cannot use the plan: {inert(str(err))}", file=sys.stderr)
        return EXIT_USAGE
    return report(FileEvents(args.files, args.fill, "check"), checking.event, settings.json)


def infer_plan(args: argparse.Namespace, settings: Settings) -> int:
    """Write the plan the matching events make; say what they disagree on."""
    inferred = infer(samples_of(matching(args, settings)))
    if not inferred.samples:
        print("segment-inspector: no track, identify or group event matches: no plan made", file=sys.stderr)
        return EXIT_NOT_FOUND
    data = orjson.dumps(inferred.plan.to_public_api(), option=orjson.OPT_INDENT_2) + b"\n"
    to_stdout = args.out == "-"
    if to_stdout:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        out = Path(args.out)
        if out.exists() and not args.force:
            raise UsageError(f"not overwriting {inert(str(out))}; --force overwrites")
        try:
            out.write_bytes(data)
        except OSError as err:
            raise RuntimeFailure(f"cannot write {inert(str(out))}: {err.strerror or err}") from None
    said = sys.stderr if to_stdout else sys.stdout
    if settings.json:
        print(inert_json({**inferred.to_doc(), "out": None if to_stdout else args.out}), file=said)
        return EXIT_OK
    rules = len(inferred.plan.rules)
    print(f"{rules} rule{'s' if rules != 1 else ''} from {inferred.samples} events"
          + ("" if to_stdout else f", written to {inert(args.out)}"), file=said)
    for name, count in inferred.counts.items():
        print(inert(f"  {name:<40} {count} events"), file=said)
    if inferred.disagreements:
        print("what the traffic disagrees on (a plan cannot say it):", file=said)
    for item in inferred.disagreements:
        ids = f"  ({', '.join(item.ids)})" if item.ids else ""
        print(inert(f"  {item.kind:<8} {item.rule}  {item.path}  {item.text}{ids}"), file=said)
    return EXIT_OK


PLAN_COMMANDS = {"infer": infer_plan, "check": check}

"""`review` (readiness checks against the user's endpoint) and `delivery` (Event Delivery
over what went through the inspector).

`review`'s exit codes are the rest of the CLI's: 0 nothing failed, 1 a check failed, 2 bad
usage, 3 the endpoint cannot be reached or the history cannot be written.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from ..core import values
from ..core.files import UnreadableError
from ..core.history import History, HistoryUnavailable
from ..core.history.files import write_atomic
from ..core.text import inert, inert_json
from ..review.report import check_row, markdown, text
from ..review.runner import CALL_TYPES, Check, ReviewOptions, ReviewReport, review as run_review, templates_of
from .common import EXIT_OK, RuntimeFailure, UsageError, load_history, query, value_of
from .settings import Settings


def review(args: argparse.Namespace, settings: Settings) -> int:
    return run(args, settings.data_dir, settings.json)


def delivery(args: argparse.Namespace, settings: Settings) -> int:
    from ..core.event_delivery import DEFAULT_WINDOW, summarize, text as report_text

    store = load_history(settings.data_dir)
    report = summarize(store, query(" ".join(args.query) or DEFAULT_WINDOW))
    print(inert_json(report.to_doc()) if settings.json else "\n".join(report_text(report)))
    return EXIT_OK


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """The `review` subcommand and its options."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "review", help="check your endpoint against everything Segment's partner review asks")
    add = parser.add_argument
    add("--to", required=True, metavar="URL", help="your endpoint")
    add("--api-key", dest="review_key", required=True, metavar="KEY", help="an API key your endpoint accepts")
    add("--unsupported", action="append", default=[], choices=CALL_TYPES, metavar="TYPE",
        help="a call type your destination does not support: 501 to it passes (repeatable)")
    add("--concurrency", type=int, default=10, help="requests in flight for the corpus (default 10)")
    add("--templates", action="append", default=[], metavar="PATH",
        help="Segment's endpoint-tester templates to send (a directory of .log files, or files; "
             "default: the tester's own, shipped with segment-inspector)")
    add("--report", metavar="FILE.md", help="write the Markdown report to attach to your submission")
    add("--json", action="store_true", default=None, help="the report as JSON on stdout")
    add("--seed", type=int, help="seed the generated events, for a run that sends the same events again")
    add("--data-dir", default=argparse.SUPPRESS, help="where the history is kept")
    return parser


def run(args: argparse.Namespace, directory: Path, as_json: bool) -> int:
    """Review `args.to`, keeping every request in a history session of its own in `directory`."""
    url = value_of("--to", values.url, args.to)
    if args.concurrency < 1:
        raise UsageError("--concurrency: must be 1 or more")
    try:
        templates = templates_of(args.templates)
    except OSError as err:
        raise UsageError(inert(f"--templates: {err.filename}: {err.strerror}")) from None
    except UnreadableError as err:
        raise UsageError(inert(f"--templates: {err}")) from None
    options = ReviewOptions(url, args.review_key, frozenset(args.unsupported), args.concurrency,
                            templates, args.seed)
    live = sys.stderr.isatty()

    def on_check(check: Check) -> None:
        if live:
            sys.stderr.write("\r\x1b[K")
        if not as_json:
            print(check_row(check), flush=True)

    def on_progress(label: str, done: int, total: int) -> None:
        if live:
            sys.stderr.write(f"\r{label}: {done}/{total}")
            sys.stderr.flush()

    if not as_json:
        print(inert(f"review of {url}"), flush=True)
    try:
        report = asyncio.run(kept_review(options, directory, on_check=on_check, on_progress=on_progress))
    except RuntimeFailure:
        if live:
            sys.stderr.write("\r\x1b[K")
        raise
    if as_json:
        print(inert_json(report.to_doc()))
    else:
        print("\n".join(text(report)[1 + len(report.checks):]))
    if args.report:
        try:
            write_atomic(Path(args.report), markdown(report).encode())  # 0600, like the history it quotes
        except OSError as err:
            raise RuntimeFailure(inert(f"cannot write {args.report}: {err.strerror or err}")) from None
    if report.down is not None:
        raise RuntimeFailure(inert(f"{url} cannot be reached: {report.down}"))
    return report.exit_code


async def kept_review(options: ReviewOptions, directory: Path, **callbacks: Any) -> ReviewReport:
    """The review of `options.url`, every request it sends kept in a history session of its own
    in `directory`; RuntimeFailure when they cannot be kept (it stops: each must be openable later)."""
    history = History(directory)
    try:
        session = history.start_session()
    except OSError as err:
        raise RuntimeFailure(inert(f"cannot use the data directory {directory}: {err}")) from None
    try:
        report = await run_review(options, keep=history.add, **callbacks)
    except HistoryUnavailable as err:
        raise RuntimeFailure(inert(f"review stopped: its requests cannot be kept in the history in {directory} "
                                   f"({err})")) from None
    finally:
        history.close()
    report.session = session
    return report

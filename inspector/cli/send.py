"""Playing Segment: `send` its traffic to an endpoint, `replay` kept requests to one."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core import values
from ..core.files import UnreadableError, read_events
from ..core.model import OUTCOME_TEXT, Event
from ..core.templates import TOKEN, fill
from ..core.text import inert, inert_json
from .common import EXIT_FAILURE, EXIT_NOT_FOUND, EXIT_OK, UsageError, left_out, value_of
from .history import matching
from .settings import Settings


def _replay_line(result: Any) -> str:
    status = "---" if result.status is None else str(result.status)
    text = (f"{status:<4} {result.outcome:<9} {result.seconds * 1000:8.1f} ms  {result.label[:40]:<40} "
            f"{result.exchange_id}")
    if result.error:
        text += f"  {result.error}"
    if result.location:
        text += f"  redirect to {result.location}, not followed (Segment follows none)"
    if result.message:
        text += f"  message: {result.message!r}"
    return inert(text)


def replay(args: argparse.Namespace, settings: Settings) -> int:
    """Send the matching requests again to --to; exit 1 unless each was delivered, 3 if the target is down."""
    from ..replay import replay_exchanges

    url = value_of("--to", values.url, args.to)
    timeout = value_of("--timeout", values.duration, args.timeout)
    as_json = settings.json
    exchanges = matching(args, settings)
    if not exchanges:
        print("segment-inspector: no exchange matches: nothing replayed", file=sys.stderr)
        return EXIT_NOT_FOUND

    def show_result(result: Any) -> None:
        print(inert_json(result.to_doc()) if as_json else _replay_line(result), flush=True)

    report = asyncio.run(replay_exchanges(exchanges, url, api_key=args.replay_key, timeout=timeout,
                                          on_result=show_result))
    for exchange_id, reason in report.skipped:
        left_out(exchange_id, reason)
    if report.down is not None:
        sent = len(report.results)
        print(f"segment-inspector: {inert(url)} is down ({report.down}): {len(report.unsent)} of "
              f"{sent + len(report.unsent)} requests not sent, from {report.unsent[0]}. Segment retries such "
              "requests for up to 4 hours; nothing is lost: the history is unchanged, replay again once "
              "the target is up.", file=sys.stderr)
        return EXIT_FAILURE
    if not report.results:
        print("segment-inspector: none of the matching exchanges is a request Segment sends: nothing replayed",
              file=sys.stderr)
        return EXIT_NOT_FOUND
    outcomes = [result.outcome for result in report.results]
    if not as_json:
        counts = ", ".join(f"{outcomes.count(o)} {o}" for o in ("delivered", "retried", "dropped"))
        print(f"{len(outcomes)} sent to {inert(url)}: {counts}")
        for outcome in ("retried", "dropped"):
            if outcome in outcomes:
                print(f"  {OUTCOME_TEXT[outcome]}")
    return EXIT_OK if report.all_delivered else EXIT_NOT_FOUND


def _send_events(args: argparse.Namespace, rng: Any) -> tuple[list[Any], Callable[[], list[Any]] | None]:
    """The events to send (the files', placeholders filled, or a generated corpus), and how
    to make the next pass: files with placeholders are filled anew for every pass."""
    from ..core.generate import corpus

    if not args.from_files:
        return corpus(rng), None
    texts: list[tuple[str, str]] = []
    for name in args.from_files:
        try:
            data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
        except OSError as err:
            raise UsageError(f"cannot send {inert(f'{name}: {err.strerror}')}") from None
        texts.append(("stdin" if name == "-" else name, data.decode("utf-8", "replace")))

    def filled() -> list[Any]:
        events: list[Any] = []
        for label, text in texts:
            events += [event for _, event in read_events(fill(text, rng).encode(), label)]
        return events

    try:
        events = filled()
    except UnreadableError as err:
        raise UsageError(f"cannot send {inert(str(err))}") from None
    return events, (filled if any(TOKEN.search(text) for _, text in texts) else None)


def _send_text(report: Any) -> list[str]:
    rate = f" ({report.events / report.seconds:.0f} events/s)" if report.seconds else ""
    lines = [f"sent {report.events} events to {report.target} in {report.seconds:.2f} s{rate}: "
             f"{report.delivered} delivered, {report.failed} failed",
             f"  attempts {report.attempts}, retries {report.retries}"]
    lines.append("  status: " + ", ".join(f"{status} x{n}" for status, n in sorted(report.statuses.items())))
    lines.append("  types: " + ", ".join(f"{kind} {c['delivered']}/{c['delivered'] + c['failed']}"
                                         for kind, c in sorted(report.types.items())) + " delivered")
    latency = report.latencies.to_doc()
    if latency["max"] is not None:
        lines.append("  latency: " + ", ".join(f"{k} {v:.1f} ms" for k, v in latency.items()))
    for code, entry in sorted(report.findings.items()):
        lines.append(f"  {entry['severity']:<7} {code} x{entry['count']}  {entry['example']}")
    if report.failures:
        lines.append(f"failures (first {len(report.failures)} of {report.failed}):")
    for failure in report.failures:
        answer = str(failure.status) if failure.status is not None else failure.error
        view = Event.of(failure.event)
        title = " ".join(part for part in (view.type, view.event and repr(view.event)) if part) or "event"
        extra = f"  message: {failure.message!r}" if failure.message else ""
        lines.append(f"  {answer} ({failure.outcome}) after {failure.attempts} attempt"
                     f"{'s' if failure.attempts != 1 else ''}  {title}  messageId {view.message_id}{extra}")
        lines.append("    " + inert_json(failure.event)[:400])
    return [inert(line) for line in lines]


def send(args: argparse.Namespace, settings: Settings) -> int:
    """Send Segment's traffic to --to; exit 0 if all was delivered, 1 on any failure, 3 if down."""
    import random

    from ..core.generate import stream
    from ..send import SendOptions, progress_line, send as send_events

    url = value_of("--to", values.url, args.to)
    timeout = value_of("--timeout", values.duration, args.timeout)
    seconds = None if args.duration is None else value_of("--duration", values.duration, args.duration)
    for flag, value, low in (("--count", args.count, 1), ("--concurrency", args.concurrency, 1),
                             ("--retries", args.retries, 0)):
        if value is not None and value < low:
            raise UsageError(f"{flag}: must be {low} or more")
    if args.rate is not None and not 0 < args.rate < float("inf"):
        raise UsageError("--rate: must be more than 0")
    if args.count is not None and seconds is not None:
        raise UsageError("--count and --duration: give one or the other")
    rng = random.Random(args.seed)
    events, refill = _send_events(args, rng)
    if not events:
        raise UsageError("nothing to send: the files hold no events")
    deadline = time.monotonic() + seconds if seconds else None
    source = stream(events, rng, count=args.count, deadline=deadline, refill=refill)
    as_json = settings.json
    progress = progress_line(args.count or (None if deadline else len(events)), seconds) \
        if sys.stderr.isatty() else None
    options = SendOptions(url, api_key=args.send_key, settings=settings.delivery_settings,
                          concurrency=args.concurrency, rate=args.rate, timeout=timeout, retries=args.retries,
                          time_scale=settings.time_scale, seed=args.seed, shared_secret=settings.shared_secret)
    report = asyncio.run(send_events(source, options, progress))
    if progress is not None:
        print(file=sys.stderr)
    if as_json:
        print(inert_json(report.to_doc()))
    else:
        print("\n".join(_send_text(report)))
    if report.down is not None:
        print(f"segment-inspector: {inert(url)} is down ({report.down}): Segment would retry for up to "
              "4 hours; nothing more was sent", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK if report.all_delivered else EXIT_NOT_FOUND

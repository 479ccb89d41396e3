"""Replay: send captured requests again to an endpoint, the way Segment sends them, and say
what each answer means to Segment.

Each request goes out as a POST of its body exactly as received, with Segment's
headers (`inspector.delivery.segment_headers`: Authorization with the given key or the
captured one, the captured X-Segment-Settings), one after another in the given order.
Like Segment, a replay follows no redirect and waits about 5 seconds for an answer. A
timeout or a dropped connection is what Segment retries; a target that
cannot be reached at all (connection refused, unknown host) stops the replay: the
requests not sent are reported, and the history is never changed by a replay.

Used by `segment-inspector replay` and meant for the TUI: `replay_exchanges` is a
coroutine for the caller's event loop, with a callback per answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from .core.model import OUTCOME_TEXT, Exchange, Outcome, endpoint_answer, segment_outcome
from .core.naming import exchange_label
from .delivery import SEGMENT_TIMEOUT, client, request, segment_headers


@dataclass(slots=True)
class ReplayResult:
    """What the target answered to one replayed request, and what Segment would do next."""

    exchange_id: str
    label: str  # type and event name, `batch-N`, or `request`
    message_id: str | None
    status: int | None = None  # None when no answer came
    seconds: float = 0.0
    body: bytes = b""
    message: str | None = None  # the answer's JSON `message`, which Segment shows in its debugger
    location: str | None = None  # a redirect's target, not followed
    error: str | None = None  # why no answer came: "no answer within 5 s", "connection refused", ...

    @property
    def outcome(self) -> Outcome:
        return segment_outcome(self.status)

    @property
    def meaning(self) -> str:
        return OUTCOME_TEXT[self.outcome]

    def to_doc(self) -> dict[str, Any]:
        return {"id": self.exchange_id, "label": self.label, "messageId": self.message_id,
                "status": self.status, "time": round(self.seconds, 4), "outcome": self.outcome,
                "message": self.message, "location": self.location, "error": self.error,
                "body": self.body.decode("utf-8", "replace")}


@dataclass(slots=True)
class ReplayReport:
    """Every answer, in order; the requests not sent because the target was down; what was skipped."""

    target: str
    results: list[ReplayResult] = field(default_factory=list)
    unsent: list[str] = field(default_factory=list)  # exchange ids
    down: str | None = None  # why the target could not be reached
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (exchange id, why)

    @property
    def all_delivered(self) -> bool:
        return self.down is None and all(result.outcome == "delivered" for result in self.results)


def replayable(exchanges: Sequence[Exchange]) -> tuple[list[Exchange], list[tuple[str, str]]]:
    """The exchanges Segment could have sent (POST, whole body), and why the others are left out."""
    keep, skipped = [], []
    for exchange in exchanges:
        if exchange.method != "POST":
            skipped.append((exchange.id, f"a {exchange.method} request, not one Segment sends"))
        elif exchange.raw_head:
            skipped.append((exchange.id, "the HTTP parser refused it: only its first bytes were kept"))
        elif exchange.truncated:
            skipped.append((exchange.id, f"only the first {len(exchange.body)} of its {exchange.body_size} "
                                         "bytes were kept (over --max-body)"))
        else:
            keep.append(exchange)
    return keep, skipped


async def replay_one(session: aiohttp.ClientSession, exchange: Exchange, url: str, *,
                     api_key: str | None = None, timeout: float = SEGMENT_TIMEOUT) -> tuple[ReplayResult, bool]:
    """Send one request; the answer, and False when the target could not be reached at all."""
    first = exchange.events[0] if len(exchange.events) == 1 else None
    key = api_key if api_key is not None else (exchange.auth.key if exchange.auth else None)
    headers = segment_headers(key, exchange.header("X-Segment-Settings"))
    encoding = exchange.header("Content-Encoding")
    if encoding:  # the body is sent again as it came: compressed, saying so
        headers["Content-Encoding"] = encoding
    destination, reached = await request(session, url, exchange.body, timeout=timeout, headers=headers)
    status, answer = destination.status, endpoint_answer(destination, "destination", url)
    return ReplayResult(exchange.id, exchange_label(exchange), first.message_id if first else None, status,
                        destination.duration, destination.body, answer.message if answer else None,
                        destination.header("Location") if status and 300 <= status < 400 else None,
                        destination.error), reached


async def replay_exchanges(exchanges: Sequence[Exchange], url: str, *, api_key: str | None = None,
                           timeout: float = SEGMENT_TIMEOUT,
                           on_result: Callable[[ReplayResult], None] | None = None,
                           session: aiohttp.ClientSession | None = None) -> ReplayReport:
    """Send the exchanges to `url` one by one; `on_result` sees each answer as it comes."""
    keep, skipped = replayable(exchanges)
    report = ReplayReport(url, skipped=skipped)
    own = session is None
    session = session or client()
    try:
        for index, exchange in enumerate(keep):
            result, reached = await replay_one(session, exchange, url, api_key=api_key, timeout=timeout)
            if not reached:
                report.down = result.error
                report.unsent = [e.id for e in keep[index:]]
                break
            report.results.append(result)
            if on_result is not None:
                on_result(result)
    finally:
        if own:
            await session.close()
    return report

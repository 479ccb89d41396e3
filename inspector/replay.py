"""Replay: send captured requests again to an endpoint, the way Segment sends them, and say
what each answer means to Segment.

Each request goes out as a POST of its body exactly as received, with Segment's
headers (User-Agent Segment.io/1.0, Accept */*, Cache-Control no-cache, Content-Type
application/json, Connection Keep-Alive, Authorization Basic base64("<key>:") with the
given key or the captured one, the captured X-Segment-Settings, and no other but Host
and Content-Length), one after another in the given
order. Like Segment, a replay follows no redirect and waits about 5 seconds for an
answer. A timeout or a dropped connection is what Segment retries; a target that
cannot be reached at all (connection refused, unknown host) stops the replay: the
requests not sent are reported, and the history is never changed by a replay.

Used by `segment-inspector replay` and meant for the TUI: `replay_exchanges` is a
coroutine for the caller's event loop, with a callback per answer.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from .core.checks.answers import message_of
from .core.model import OUTCOME_TEXT, Exchange, segment_outcome
from .core.exporters.common import exchange_label

SEGMENT_TIMEOUT = 5.0
MAX_ANSWER = 64 * 1024  # an answer body kept beyond this is cut: Segment shows only a message


def segment_headers(api_key: str | None, settings: str | None = None) -> dict[str, str]:
    """The headers Segment sends; aiohttp adds Host and Content-Length."""
    headers = {
        "User-Agent": "Segment.io/1.0",
        "Accept": "*/*",
        "Cache-Control": "no-cache",
        "Content-Type": "application/json",
        "Connection": "Keep-Alive",
    }
    if api_key is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{api_key}:".encode()).decode("ascii")
    if settings is not None:
        headers["X-Segment-Settings"] = settings
    return headers


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
    error: str | None = None  # why no answer came: "timed out after 5 s", "connection reset", ...

    @property
    def outcome(self) -> str:
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
        elif exchange.truncated:
            skipped.append((exchange.id, f"only the first {len(exchange.body)} of its {exchange.body_size} "
                                         "bytes were kept (over --max-body)"))
        else:
            keep.append(exchange)
    return keep, skipped


async def replay_one(session: aiohttp.ClientSession, exchange: Exchange, url: str, *,
                     api_key: str | None = None, timeout: float = SEGMENT_TIMEOUT) -> ReplayResult:
    """Send one request; connection failures (the target is down) raise aiohttp.ClientConnectorError."""
    first = exchange.events[0] if len(exchange.events) == 1 else None
    result = ReplayResult(exchange.id, exchange_label(exchange), first.message_id if first else None)
    started = time.perf_counter()
    try:
        async with session.post(url, data=exchange.body, headers=segment_headers(
            api_key if api_key is not None else (exchange.auth.key if exchange.auth else None),
            exchange.header("X-Segment-Settings")),
                                skip_auto_headers=("Accept-Encoding",), allow_redirects=False,
                                timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            result.status = response.status
            result.body = await response.content.read(MAX_ANSWER)
            result.location = response.headers.get("Location") if 300 <= response.status < 400 else None
    except aiohttp.ClientConnectorError:
        raise
    except (asyncio.TimeoutError, TimeoutError):
        result.error = f"no answer within {timeout:g} s"
    except aiohttp.ClientError as err:
        result.error = str(err) or type(err).__name__
    result.seconds = time.perf_counter() - started
    result.message = message_of(result.body)
    return result


def unreachable(err: aiohttp.ClientConnectorError) -> str:
    """Why the target cannot be reached, in the system's words: `connection refused`."""
    error = getattr(err, "os_error", None)
    if isinstance(error, socket.gaierror):
        reason = f"cannot resolve {err.host}: {error.strerror}"
    elif isinstance(error, OSError) and error.errno and error.errno > 0:
        reason = os.strerror(error.errno)
    else:
        reason = str(error or err)
    return (reason or "cannot connect").lower()


async def replay_exchanges(exchanges: Sequence[Exchange], url: str, *, api_key: str | None = None,
                           timeout: float = SEGMENT_TIMEOUT,
                           on_result: Callable[[ReplayResult], None] | None = None,
                           session: aiohttp.ClientSession | None = None) -> ReplayReport:
    """Send the exchanges to `url` one by one; `on_result` sees each answer as it comes."""
    keep, skipped = replayable(exchanges)
    report = ReplayReport(url, skipped=skipped)
    own = session is None
    session = session or aiohttp.ClientSession()
    try:
        for index, exchange in enumerate(keep):
            try:
                result = await replay_one(session, exchange, url, api_key=api_key, timeout=timeout)
            except aiohttp.ClientConnectorError as err:
                report.down = unreachable(err)
                report.unsent = [e.id for e in keep[index:]]
                break
            report.results.append(result)
            if on_result is not None:
                on_result(result)
    finally:
        if own:
            await session.close()
    return report

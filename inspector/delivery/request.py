"""One request to an endpoint, sent the way Segment sends it, and its answer.

Segment POSTs each event with its own headers (segment.md §3.1), follows no redirect
(the legacy framework's `redirects(0)`) and gives up after about 5 s (§3.3). Only the
headers given go out (aiohttp adds Host and Content-Length); the answer's body is kept
up to `MAX_ANSWER`, enough to pass a forwarded answer on. A failure to get an answer is
not raised: it comes back as a Destination with `error` set, in one wording.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from yarl import URL

from ..core import intake
from ..core.checks.answers import Limits, judge
from ..core.checks.request import SEGMENT_USER_AGENT
from ..core.model import Destination, Event, Exchange, Finding

SEGMENT_TIMEOUT = 5.0
MAX_ANSWER = 1024 * 1024  # bytes of an answer's body kept
NO_AUTO_HEADERS = ("Accept-Encoding", "User-Agent", "Content-Type", "Accept")


def segment_headers(api_key: str | None, settings: str | None = None) -> dict[str, str]:
    """The headers Segment sends; aiohttp adds Host and Content-Length."""
    headers = {
        "User-Agent": SEGMENT_USER_AGENT,
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


def encode_settings(settings: dict[str, Any]) -> str:
    """X-Segment-Settings: base64 of the JSON object of the destination's custom settings."""
    return base64.b64encode(orjson.dumps(settings)).decode("ascii")


def settings_header(text: str) -> str:
    """The X-Segment-Settings value of `--settings JSON`; ValueError unless it is a JSON object."""
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ValueError("must be a JSON object, such as '{\"region\": \"eu\"}'")
    return encode_settings(parsed)


def client(limit: int = 0, *, verify: bool = True) -> aiohttp.ClientSession:
    """A session as Segment's: no cookies kept, at most `limit` connections (0: no limit).
    `verify=False` accepts any certificate: only for the inspector's own receiver."""
    connector = aiohttp.TCPConnector(limit=limit, ttl_dns_cache=60, ssl=verify)
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())


def why(err: BaseException, timeout: float) -> str:
    """Why no answer came, in the system's words: `connection refused`, `no answer within 5 s`."""
    if isinstance(err, (asyncio.TimeoutError, TimeoutError)):
        return f"no answer within {timeout:g} s"
    if isinstance(err, aiohttp.ClientConnectorError):
        error = getattr(err, "os_error", None)
        if isinstance(error, socket.gaierror):
            return f"cannot resolve {err.host}: {error.strerror}"
        if isinstance(error, OSError) and error.errno and error.errno > 0:
            return os.strerror(error.errno).lower()
        return str(error or err).lower() or "cannot connect"
    if isinstance(err, aiohttp.ServerDisconnectedError):
        return "connection closed without an answer (reset)"
    if isinstance(err, aiohttp.ClientOSError) and err.errno:
        return os.strerror(err.errno).lower()
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


async def request(session: aiohttp.ClientSession, url: str | URL, body: bytes, *,
                  headers: Mapping[str, str], method: str = "POST",
                  timeout: float = SEGMENT_TIMEOUT) -> tuple[Destination, bool]:
    """Send `body` with exactly `headers`; the answer, and False when no connection could be
    made at all (refused, unknown host): the target is down."""
    destination = Destination(str(url))
    started = time.perf_counter()
    try:
        async with session.request(method, url, data=body, headers=headers, skip_auto_headers=NO_AUTO_HEADERS,
                                   allow_redirects=False,
                                   timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            destination.status = response.status
            destination.headers = [(name.decode("latin-1"), value.decode("latin-1"))
                                   for name, value in response.raw_headers]
            chunks, size = [], 0
            while size < MAX_ANSWER and (chunk := await response.content.readany()):
                chunks.append(chunk)
                size += len(chunk)
            destination.body = b"".join(chunks)[:MAX_ANSWER]
    except (aiohttp.ClientError, TimeoutError, ValueError) as err:
        destination.status = None
        destination.error = why(err, timeout)
        destination.duration = time.perf_counter() - started
        return destination, not isinstance(err, aiohttp.ClientConnectorError)
    destination.duration = time.perf_counter() - started
    return destination, True


@dataclass(slots=True)
class Attempt:
    """One delivery attempt: the request as sent, with the answer and the judge's findings on it."""

    exchange: Exchange  # POST to the URL (as `path`), the headers and body sent, events, auth
    reached: bool  # False: no connection could be made (refused, unknown host)

    @property
    def destination(self) -> Destination:
        assert self.exchange.destination is not None
        return self.exchange.destination

    @property
    def findings(self) -> list[Finding]:
        return self.exchange.findings

    @property
    def outcome(self) -> str:
        """What Segment does next: delivered, retried or dropped."""
        return self.destination.outcome


async def attempt(session: aiohttp.ClientSession, url: str, body: bytes, *, api_key: str | None = None,
                  settings: str | None = None, headers: Mapping[str, str] | None = None,
                  events: list[Event] | None = None, timeout: float = SEGMENT_TIMEOUT,
                  limits: Limits = Limits()) -> Attempt:
    """POST `body` byte for byte as Segment would, and judge the answer as a forwarded one is.

    `headers` replaces Segment's (`segment_headers(api_key, settings)`) when given. `events`
    spares parsing the body; without them the body is parsed, and a malformed body is judged
    as one (the body is never checked first: a developer may mean to send malformed JSON).
    """
    sent = dict(segment_headers(api_key, settings) if headers is None else headers)
    started = time.time()
    destination, reached = await request(session, url, body, headers=sent, timeout=timeout)
    exchange = intake.sent(url=url, headers=list(sent.items()), body=body, destination=destination,
                           started=started, events=events)
    exchange.findings = judge(exchange, destination, limits)
    return Attempt(exchange, reached)

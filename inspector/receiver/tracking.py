"""Segment's HTTP Tracking API on the receiver's port, and Segment's delivery of each event.

The SDKs (analytics-python's `host=`, analytics-node's `host`, analytics.js's `apiHost`)
POST to `/v1/batch`, `/v1/import` or `/v1/<call>`; every other path stays the partner
receiver. Each source call is kept in the history (kind "source") before it is answered
`{"success": true}`; its events then go through `inspector.core.pipeline` (dedupe,
integrations, envelope) and are delivered one by one, in the background, through
`inspector.delivery` with Segment's headers and retries: to `deliver_to`, or by default
to this receiver's own partner side, whose records are then linked to the source call.
A delivery elsewhere is kept as its own record (kind "delivery"), linted and judged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from ..core.checks import finding, lint_event
from ..core.checks.request import TRACKING_REFUSED as REFUSED, UNKNOWN_WRITE_KEY
from ..core.checks.wire import surrogate_paths, visible_surrogates, without_surrogates
from ..core.hub import Hub
from ..core.intake import read
from ..core.model import Answer, Event, Exchange, Link
from ..core.pipeline import (
    DEDUPE_WINDOW,
    MAX_BATCH,
    PATHS,
    SUCCESS,
    Dedupe,
    Refused,
    check_write_key,
    lint_call,
    parse_duration,
    process,
    read_call,
)
from ..core.signature import HEADER as SIGNATURE, sign
from ..delivery import Attempt, Retrying, client, deliver, segment_headers, settings_header
from .guard import Guard, peer_of
from .limit import own_delivery_header
from .reading import closing, headers_of, keep, read_or_refuse, response_of

log = logging.getLogger(__name__)

# Segment retried "nine times over the course of four hours" (segment.md §3.4, older wording).
RETRIES = 9
CONCURRENCY = 64  # deliveries in flight
DESTINATION = "Segment Inspector"  # the destination's name in `integrations`, by default
READ_LIMIT = 4 * MAX_BATCH  # bytes read, and bytes a compressed body may inflate to



@dataclass(slots=True)
class TrackingOptions:
    """How the inspector plays Segment between a source and a destination."""

    write_keys: frozenset[str] = frozenset()  # empty: any key
    dedupe_window: float = DEDUPE_WINDOW
    destination: str = DESTINATION  # the name `integrations` turns on and off
    deliver_to: str | None = None  # None: this receiver's own partner side
    api_key: str = "segment"
    settings: str | None = None  # X-Segment-Settings, already base64
    time_scale: float = 1.0
    shared_secret: str | None = None  # sign each delivery's X-Signature as the Webhooks destination does
    retries: int = RETRIES
    concurrency: int = CONCURRENCY


def own_url(request: web.Request) -> str:
    """This receiver's partner side, by the address the call came in on (not its Host)."""
    local = request.transport.get_extra_info("sockname") if request.transport else None
    host, port = (local[0], local[1]) if isinstance(local, tuple) else ("127.0.0.1", request.url.port)
    host = f"[{host}]" if ":" in str(host) else host
    return f"{request.scheme}://{host}:{port}/"


class Tracking:
    """The Tracking API's handler and Segment's deliveries, for one receiver."""

    def __init__(self, hub: Hub, options: TrackingOptions | None, guard: Guard) -> None:
        self.hub = hub
        self.guard = guard
        self.options = options or TrackingOptions()
        self.dedupe = Dedupe(self.options.dedupe_window)
        self.retrying = Retrying(self.options.retries, self.options.time_scale)
        self._tasks: set[asyncio.Task[None]] = set()
        self._sessions: dict[bool, aiohttp.ClientSession] = {}
        self._slots: asyncio.Semaphore | None = None
        self._headers = segment_headers(self.options.api_key, self.options.settings)

    # -- the Tracking API --------------------------------------------------------

    async def receive(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        raw, size, refused = await read_or_refuse(request, READ_LIMIT, self.guard, "source")
        exchange, deliveries = (refused, []) if refused is not None else self._call(request, raw, size)
        exchange.duration = time.perf_counter() - started
        assert exchange.answer is not None  # each way above answers
        # On disk before Segment's answer: nothing acknowledged is lost.
        unkept = keep(self.hub, exchange, self.guard)
        if refused is not None:  # a body not read whole cannot be followed
            return await closing(request, unkept or response_of(exchange.answer))
        if unkept is not None:
            unkept.force_close()
            return unkept
        if deliveries:
            target = self.options.deliver_to or own_url(request)
            for event in deliveries:
                self._spawn(self._deliver(exchange.id, event, target, self.options.deliver_to is None))
        return response_of(exchange.answer)

    def _call(self, request: web.Request, raw: bytes, size: int) -> tuple[Exchange, list[dict[str, Any]]]:
        """The source call as kept and answered, and the events to deliver."""
        path, _, query = request.raw_path.partition("?")
        exchange = read(method=request.method, path=path, query=query, peer=peer_of(request),
                        headers=headers_of(request), body=raw, body_size=size, kind="source",
                        max_decoded=READ_LIMIT)
        assert exchange.auth is not None
        deliveries: list[dict[str, Any]] = []
        try:
            if exchange.truncated:
                raise Refused(400, f"the body is {size} bytes, over Segment's limit of 500 KB")
            if exchange.body_error is not None:
                raise Refused(400, exchange.body_error.message)
            surrogates = sorted(surrogate_paths(exchange.data))
            if surrogates:  # valid JSON, but not Unicode text: flagged, then carried as escapes
                exchange.findings += [finding("WIRE001", "a lone surrogate: not Unicode text; the body is kept as "
                                              "sent, its events carry the escape", visible_surrogates(path))
                                      for path in surrogates]
                exchange.data = without_surrogates(exchange.data)
            call = read_call(exchange.path, exchange.data, len(exchange.content),
                             exchange.auth.key if exchange.auth.ok else None)
            exchange.events = [Event.of(event) for event in call.typed()]
            try:
                check_write_key(call.write_key, self.options.write_keys)
            except Refused as refused:
                exchange.findings.append(finding(UNKNOWN_WRITE_KEY, refused.message, "header:Authorization"))
                raise
            exchange.findings += lint_call(call, exchange.time)
            exchange.pipeline, deliveries = process(call, exchange.time, self.dedupe, self.options.destination)
            exchange.answer = Answer(200, SUCCESS, "tracking api", f"{len(deliveries)} of {len(call.events)} "
                                     "events to deliver")
        except Refused as refused:
            if refused.status == 400:
                exchange.findings.append(finding(REFUSED, refused.message, "$"))
            exchange.answer = Answer(refused.status, orjson.dumps({"message": refused.message}), "tracking api",
                                     refused.message)
        return exchange, deliveries

    # -- delivering ----------------------------------------------------------------

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _session(self, own: bool) -> aiohttp.ClientSession:
        session = self._sessions.get(own)
        if session is None or session.closed:
            session = self._sessions[own] = client(self.options.concurrency, verify=not own)
        return session

    async def _deliver(self, source: str, event: dict[str, Any], url: str, own: bool) -> None:
        """Deliver one event until Segment would stop; each attempt is linked to the source call."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.options.concurrency)
        body = orjson.dumps(event)
        headers = dict(self._headers)
        if self.options.shared_secret is not None:
            headers[SIGNATURE] = sign(body, event, self.options.shared_secret)
        link = Link(source, event["messageId"], 1, self.options.retries + 1)
        view = Event.of(event)
        if own:  # our partner side reads the link from it
            headers.update(own_delivery_header(link))

        def attempted(attempt: Attempt) -> None:
            if not own:
                self._keep(attempt, replace(link), event)
            link.attempt += 1
            if own:  # the headers of the next attempt
                headers.update(own_delivery_header(link))

        async with self._slots:
            try:
                await deliver(self._session(own), url, body, self.retrying, on_attempt=attempted,
                              headers=headers, events=[view])
            except Exception:  # a bug of ours must not take the receiver down with it
                log.exception("delivering %s failed", link.message_id)

    def _keep(self, attempt: Attempt, link: Link, event: dict[str, Any]) -> None:
        """An attempt to another endpoint, kept as a record: linted as delivered, its answer judged."""
        exchange = attempt.exchange
        exchange.kind, exchange.link, exchange.data = "delivery", link, event
        exchange.findings = lint_event(event, now=exchange.time) + exchange.findings
        if keep(self.hub, exchange, self.guard) is not None:
            log.error("cannot keep a delivery of %s", link.message_id)

    async def settle(self) -> None:
        """Wait until every delivery under way is finished (tests, benchmarks)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()


TRACKING = web.AppKey("tracking", Tracking)


def install(app: web.Application, hub: Hub, options: TrackingOptions | None, guard: Guard) -> Tracking:
    """Serve the Tracking API's paths on `app`; register before the partner receiver's catch-all."""
    tracking = app[TRACKING] = Tracking(hub, options, guard)
    for path in PATHS:
        app.router.add_post(path, tracking.receive)

    async def closing(_: web.Application) -> None:
        await tracking.close()

    app.on_shutdown.append(closing)
    return tracking


def options_from(setting: Callable[..., Any]) -> TrackingOptions:
    """TrackingOptions from `setting(name, default)` (flags, then the config file); ValueError
    names the flag that is wrong."""
    deliver_to = setting("deliver-to")
    if deliver_to is not None and not str(deliver_to).lower().startswith(("http://", "https://")):
        raise ValueError(f"--deliver-to: {str(deliver_to)[:80]!r} is not an http:// or https:// URL")
    try:
        window = parse_duration(setting("dedupe-window", DEDUPE_WINDOW))
    except ValueError as err:
        raise ValueError(f"--dedupe-window: {err}") from None
    scale = float(setting("time-scale", 1.0))
    if scale <= 0:
        raise ValueError("--time-scale: must be more than 0")
    settings = setting("settings")
    try:
        header = None if settings is None else settings_header(settings)
    except ValueError as err:
        raise ValueError(f"--settings: {err}") from None
    api_keys = setting("api-key", []) or []
    return TrackingOptions(
        write_keys=frozenset(setting("write-key", []) or []), dedupe_window=window,
        destination=setting("destination-name") or DESTINATION, deliver_to=deliver_to,
        api_key=setting("deliver-api-key") or (api_keys[0] if api_keys else "segment"), settings=header,
        time_scale=scale, shared_secret=setting("shared-secret"))

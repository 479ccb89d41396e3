"""Segment's HTTP Tracking API on the receiver's port.

The SDKs (analytics-python's `host=`, analytics-node's `host`, analytics.js's `apiHost`)
POST to `/v1/batch`, `/v1/import` or `/v1/<call>`; every other path stays the partner
receiver. A call is read by the receiver's own intake (kind "source"), checked as
Segment's API checks it (`calls`), its events passed through dedupe, integrations and the
envelope (`pipeline`), then kept in the history before it is answered `{"success": true}`,
and its events queued for delivery (`deliveries`). A call whose events would not fit the
delivery queue, or would take its client past the rate limit (each event counts), gets
429 with Retry-After before anything of it is accepted.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from aiohttp import web

from ..core.checks import finding
from ..core.checks.request import QUEUE_FULL, TRACKING_REFUSED as REFUSED, UNKNOWN_WRITE_KEY
from ..core.checks.wire import surrogate_paths, visible_surrogates, without_surrogates
from ..core.hub import Hub
from ..core.intake import read
from ..core.model import Answer, Event, Exchange
from ..receiver.guard import Guard, peer_of
from ..receiver.limit import CLIENT, RateLimit
from ..receiver.reading import closing, headers_of, keep, plain, read_or_refuse, response_of
from .calls import MAX_BATCH, PATHS, SUCCESS, Call, Refused, check_write_key, lint_call, read_call
from .cors import PREFLIGHT, cors
from .deliveries import Deliveries
from .options import TrackingOptions
from .pipeline import Dedupe, process

READ_LIMIT = 4 * MAX_BATCH  # bytes read, and bytes a compressed body may inflate to
ENVELOPE = 512  # bytes Segment's envelope may add to an event, counted before the queue has room
RETRY_AFTER = "5"  # seconds, when the delivery queue is full


def own_url(request: web.Request) -> str:
    """This receiver's partner side, by the address the call came in on (not its Host)."""
    local = request.transport.get_extra_info("sockname") if request.transport else None
    host, port = (local[0], local[1]) if isinstance(local, tuple) else ("127.0.0.1", request.url.port)
    host = f"[{host}]" if ":" in str(host) else host
    return f"{request.scheme}://{host}:{port}/"


class Tracking:
    """The Tracking API's handler, for one receiver."""

    def __init__(self, hub: Hub, options: TrackingOptions | None, guard: Guard, limit: RateLimit) -> None:
        self.hub = hub
        self.guard = guard
        self.limit = limit
        self.options = options or TrackingOptions()
        self.dedupe = Dedupe(self.options.dedupe_window)
        self.deliveries = Deliveries(hub, guard, self.options)

    async def receive(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        raw, size, refused = await read_or_refuse(request, READ_LIMIT, self.guard, "source")
        exchange, call = (refused, None) if refused is not None else self._read(request, raw, size)
        deliveries: list[dict[str, Any]] = []
        if call is not None:
            client = request.get(CLIENT) or exchange.peer.rsplit(":", 1)[0].strip("[]")
            deliveries = await self._answer(exchange, call, client)
        exchange.duration = time.perf_counter() - started
        assert exchange.answer is not None  # each way above answers
        # On disk before Segment's answer: nothing acknowledged is lost.
        unkept = keep(self.hub, exchange, self.guard)
        if refused is not None:  # a body not read whole cannot be followed
            return await closing(request, cors(request, unkept or response_of(exchange.answer)))
        if unkept is not None:
            unkept.force_close()
            return cors(request, unkept)
        if deliveries:
            target = self.options.deliver_to or own_url(request)
            self.deliveries.add(exchange.id, deliveries, target, self.options.deliver_to is None)
        return cors(request, response_of(exchange.answer))

    async def preflight(self, request: web.Request) -> web.StreamResponse:
        """A browser asking whether analytics.js may post here (it asks before a call with
        X-Retry-Count): yes, as Segment's API answers, 204 and kept as the SDK's."""
        exchange = plain(request, b"", 0, "source")
        exchange.answer = Answer(204, b"", "tracking api", "CORS preflight", content_type="")
        keep(self.hub, exchange, self.guard)
        response = web.Response(status=204)
        response.headers.update(PREFLIGHT)
        return cors(request, response)

    def _read(self, request: web.Request, raw: bytes, size: int) -> tuple[Exchange, Call | None]:
        """The source call as read and checked as Segment's API checks it; with no Call when it
        was refused (and answered)."""
        path, _, query = request.raw_path.partition("?")
        exchange = read(method=request.method, path=path, query=query, peer=peer_of(request),
                        headers=headers_of(request), body=raw, body_size=size, kind="source",
                        max_decoded=READ_LIMIT)
        assert exchange.auth is not None
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
            self._admit(request, exchange, len(call.events))
            exchange.findings += lint_call(call, exchange.time, self.hub.checking)
        except Refused as refused:
            if refused.status == 400:
                exchange.findings.append(finding(REFUSED, refused.message, "$"))
            exchange.answer = Answer(refused.status, orjson.dumps({"message": refused.message}), "tracking api",
                                     refused.message,
                                     headers=[("Retry-After", refused.retry_after)] if refused.retry_after else [])
            return exchange, None
        return exchange, call

    async def _answer(self, exchange: Exchange, call: Call, client: str) -> list[dict[str, Any]]:
        """The answer the user chose (rules, hold, the default), and the events to deliver: none
        unless it is a 2xx, as Segment accepts nothing it did not answer 2xx."""
        answer = await self.hub.answer(exchange)
        if not 200 <= answer.status < 300:
            answer.detail = f"{answer.detail}; not accepted: its events are not delivered".lstrip("; ")
            return []
        exchange.pipeline, deliveries = process(call, exchange.time, self.dedupe, self.options.destination,
                                                client or None, self.hub.checking, self.options.protocols)
        if answer.chosen_by == "default" and answer.status == 200:  # what Segment's API says
            exchange.answer = Answer(200, SUCCESS, "tracking api", "", answer.delay)
        accepted = exchange.answer
        assert accepted is not None
        accepted.detail = (f"{accepted.detail}; " if accepted.detail else "") + \
            f"{len(deliveries)} of {len(call.events)} events to deliver"
        return deliveries

    def _admit(self, request: web.Request, exchange: Exchange, events: int) -> None:
        """Refused with 429 (nothing of the call accepted, so nothing is lost) when its events would
        not fit the delivery queue, or would take its client past the rate limit."""
        if not self.deliveries.room(events, len(exchange.content) + ENVELOPE * events):
            message = (f"local Segment's delivery queue is full ({self.deliveries.events:,} events waiting): "
                       f"send the call again in {RETRY_AFTER} s")
            exchange.findings.append(finding(QUEUE_FULL, message))
            raise Refused(429, message, RETRY_AFTER)
        client = request.get(CLIENT)
        if client is not None and events > 1 and not self.limit.admit(self.hub, client, more=events - 1):
            message = f"{self.limit.message(self.hub)} (each event of a call counts)"
            exchange.findings.append(finding("WIRE004", message))
            raise Refused(429, message, "1")

    async def settle(self) -> None:
        """Wait until every delivery under way is finished (tests, benchmarks)."""
        await self.deliveries.settle()

    async def close(self) -> None:
        await self.deliveries.close()


TRACKING = web.AppKey("tracking", Tracking)


def install(app: web.Application, hub: Hub, options: TrackingOptions | None, guard: Guard,
            limit: RateLimit) -> Tracking:
    """Serve the Tracking API's paths on `app`; register before the partner receiver's catch-all."""
    tracking = app[TRACKING] = Tracking(hub, options, guard, limit)
    for path in PATHS:
        app.router.add_post(path, tracking.receive)
        app.router.add_route("OPTIONS", path, tracking.preflight)

    async def stopping(_: web.Application) -> None:
        await tracking.close()

    app.on_shutdown.append(stopping)
    return tracking

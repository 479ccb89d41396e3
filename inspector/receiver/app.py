"""The aiohttp application: every request on every path becomes an Exchange."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING

from aiohttp import web

from ..core.checks import finding
from ..core.hub import Hub
from ..core.intake import received
from ..core.model import Answer, Exchange
from ..core.policy import Reply
from ..local_segment.calls import PATHS
from ..local_segment.cors import cors
from .forward import Forwarder
from .guard import Guard, peer_of
from .limit import CLIENT, OWN_HEADER, RETRY_AFTER, RateLimit, own_delivery, own_link
from .reading import DRAIN_LIMIT, Reader, closing, headers_of, keep, plain, read_or_refuse, refuse, response_of

if TYPE_CHECKING:
    from ..local_segment.options import TrackingOptions

HUB = web.AppKey("hub", Hub)
READER = web.AppKey("reader", Reader)
MAX_BODY = web.AppKey("max_body", int)
GUARD = web.AppKey("guard", Guard)
LIMIT = web.AppKey("limit", RateLimit)

DEFAULT_MAX_BODY = 8 * 1024 * 1024

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _exchange(request: web.Request) -> tuple[Exchange, Answer, bool]:
    """The exchange and its answer, and whether the connection must close after it."""
    hub = request.app[HUB]
    # After CONNECT the rest of the stream is a tunnel, not a body: nothing to wait for.
    body, size, refused = (b"", 0, None) if request.method == "CONNECT" else \
        await read_or_refuse(request, request.app[MAX_BODY], request.app[GUARD])
    if refused is not None:
        assert refused.answer is not None
        return refused, refused.answer, True
    path, _, query = request.raw_path.partition("?")  # as sent: percent-escapes kept
    read = partial(received, method=request.method, path=path, query=query, peer=peer_of(request),
                   headers=headers_of(request), body=body, body_size=size, max_decoded=request.app[MAX_BODY],
                   checking=hub.checking)
    exchange = await request.app[READER].read(read, len(body))
    if OWN_HEADER in request.headers and len(exchange.events) == 1:  # local Segment delivering to us
        exchange.link = own_link(request.headers[OWN_HEADER], exchange.events[0].message_id or "")
    client, limiter, events = request.get(CLIENT), request.app[LIMIT], len(exchange.events)
    if client is not None and events > 1 and not limiter.admit(hub, client, more=events - 1):
        answer = refuse(exchange, 429, "WIRE004", f"{limiter.message(hub)} (each event of a batch counts)")
        answer.headers = [("Retry-After", RETRY_AFTER)]
        return exchange, answer, False
    try:
        answer = await hub.answer(exchange)
    except Exception as err:  # a bug of ours must not cost the user the request
        log.exception("choosing the answer failed")
        reply = Reply(500, f"segment-inspector failed: {type(err).__name__}: {err}")
        answer = exchange.answer = Answer(reply.status, reply.body(), "error", "inspector")
        exchange.findings.append(finding("INSP001", reply.message or ""))
    return exchange, answer, False


async def receive(request: web.Request) -> web.StreamResponse:
    """Record the request, let the hub choose the answer, send it."""
    started = time.perf_counter()
    exchange, answer, close = await _exchange(request)
    exchange.duration = time.perf_counter() - started
    unkept = keep(request.app[HUB], exchange, request.app[GUARD])
    response = response_of(answer) if unkept is None else unkept
    if close:
        return await closing(request, response)
    if unkept is not None or request.method == "CONNECT":
        response.force_close()
    return response


@web.middleware
async def answering(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The guard knows when a connection's body is being read and when it is answered, so it
    closes the slowest readers first to make room, and never one being answered."""
    connection = request.app[GUARD].of(request)
    if connection is None:
        return await handler(request)
    request.app[GUARD].set(connection, "body")
    try:
        return await handler(request)
    finally:
        connection.answered()


@web.middleware
async def limited(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every path, the Tracking API's too: a client over the rate limit gets 429 unread."""
    hub, limiter = request.app[HUB], request.app[LIMIT]
    if not limiter.current(hub) or own_delivery(OWN_HEADER, request.headers.get(OWN_HEADER)):
        return await handler(request)  # no limit in force, or local Segment delivering to us
    host = peer_of(request).rsplit(":", 1)[0]
    client = limiter.client(hub, host, request.headers.getall("X-Forwarded-For", []))
    if limiter.admit(hub, client):
        request[CLIENT] = client
        return await handler(request)
    source = request.method == "POST" and request.path in PATHS  # an SDK's call, refused: still a source call
    exchange = plain(request, b"", request.content_length or 0, "source" if source else "")
    answer = refuse(exchange, 429, "WIRE004", limiter.message(hub))
    answer.headers = [("Retry-After", RETRY_AFTER)]
    response = cors(request, response_of(answer)) if source else response_of(answer)
    response.force_close()  # the body is not read: the connection cannot carry another request
    if limiter.keep_refused():
        keep(hub, exchange, request.app[GUARD])
    else:
        request.app[GUARD].note("request over the rate limit answered 429 (not kept)")
    return response


async def _release_held(app: web.Application) -> None:
    app[HUB].release_all()


async def _stop_reading(app: web.Application) -> None:
    app[READER].close()


async def _forwarding(app: web.Application) -> AsyncIterator[None]:
    """The forwarder's client session lives as long as the app."""
    hub = app[HUB]
    own = hub.forwarder is None
    if own:
        hub.forwarder = Forwarder()
    yield
    if own and isinstance(hub.forwarder, Forwarder):
        await hub.forwarder.close()
        hub.forwarder = None


def make_app(hub: Hub, *, max_body: int = DEFAULT_MAX_BODY, guard: Guard | None = None,
             rate_limit: RateLimit | None = None,
             tracking: TrackingOptions | None = None) -> web.Application:
    """The receiver for `hub`; bodies over `max_body` bytes get 413 with their head kept."""
    app = web.Application(client_max_size=DRAIN_LIMIT, middlewares=[answering, limited])
    app[HUB] = hub
    app[MAX_BODY] = max_body
    app[GUARD] = guard or Guard(hub)
    app[LIMIT] = rate_limit or RateLimit()
    app[READER] = Reader()
    from ..local_segment.api import install  # it builds on this package's reading and guard

    install(app, hub, tracking, app[GUARD], app[LIMIT])  # Segment's Tracking API paths, before the catch-all
    app.router.add_route("*", "/{tail:.*}", receive)
    app.on_shutdown.append(_release_held)
    app.on_cleanup.append(_stop_reading)
    app.cleanup_ctx.append(_forwarding)
    return app

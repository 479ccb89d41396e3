"""The aiohttp application: every request on every path becomes an Exchange."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from aiohttp import web

from ..core.hub import Hub
from ..core.intake import build_exchange
from ..core.checks import finding
from ..core.model import Answer, Exchange, new_id
from ..core.policy import Reply
from ..core.store import HistoryUnavailable
from .forward import Forwarder
from .guard import BODY_TIMEOUT, Guard, peer_of
from .limit import RETRY_AFTER, RateLimit
from .tracking import TrackingOptions, install as install_tracking

HUB = web.AppKey("hub", Hub)
MAX_BODY = web.AppKey("max_body", int)
GUARD = web.AppKey("guard", Guard)
LIMIT = web.AppKey("limit", RateLimit)

DEFAULT_MAX_BODY = 8 * 1024 * 1024
# Of a body over the limit, the head is kept so the user can see what was sent.
KEPT_HEAD = 64 * 1024
# Past this we stop reading an oversize body and let the connection close.
DRAIN_LIMIT = 64 * 1024 * 1024

log = logging.getLogger(__name__)


class BodyTimeout(Exception):
    """The body did not arrive within BODY_TIMEOUT seconds."""


async def _read_body(request: web.Request, limit: int) -> tuple[bytes, int]:
    """The body, or only its head when it is over `limit`, and its full size.

    Raises BodyTimeout (with what came) past BODY_TIMEOUT, and aiohttp's payload errors
    for a body the parser cannot read (bad chunking).
    """
    chunks: list[bytes] = []
    size = 0
    kept = 0
    deadline = asyncio.get_running_loop().time() + BODY_TIMEOUT
    while True:
        try:
            async with asyncio.timeout_at(deadline):
                chunk = await request.content.readany()
        except TimeoutError:
            raise BodyTimeout(b"".join(chunks), size) from None
        if not chunk:
            break
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
            kept = size
        elif kept < KEPT_HEAD:
            chunks.append(chunk[: KEPT_HEAD - kept])
            kept += len(chunks[-1])
        if size > DRAIN_LIMIT:
            break
    body = b"".join(chunks)
    # Over the limit, keep less than was sent even when it is small, so it reads as cut short.
    return (body if size <= limit else body[:min(KEPT_HEAD, limit)]), size


def _headers(request: web.Request) -> list[tuple[str, str]]:
    pairs = []
    for name, value in request.raw_headers:
        try:
            pairs.append((name.decode("utf-8"), value.decode("utf-8")))
        except UnicodeDecodeError:
            pairs.append((name.decode("latin-1"), value.decode("latin-1")))
    return pairs


def _plain(request: web.Request, body: bytes, size: int) -> Exchange:
    """An exchange of what arrived, without reading it as an event (flood, broken body)."""
    path, _, query = request.raw_path.partition("?")
    now = time.time()
    return Exchange(id=new_id(now), time=now, method=request.method, path=path, query=query,
                    peer=peer_of(request), headers=_headers(request), body=body, body_size=size)


def _refuse(exchange: Exchange, status: int, code: str, message: str) -> Answer:
    exchange.findings.append(finding(code, message))
    exchange.answer = Answer(status, orjson.dumps({"message": message}), "error", "receiver")
    return exchange.answer


async def _exchange(request: web.Request) -> tuple[Exchange, Answer, bool]:
    """The exchange and its answer, and whether the connection must close after it."""
    hub = request.app[HUB]
    try:
        # After CONNECT the rest of the stream is a tunnel, not a body: nothing to wait for.
        body, size = (b"", 0) if request.method == "CONNECT" else \
            await _read_body(request, request.app[MAX_BODY])
    except BodyTimeout as late:
        body, size = late.args
        exchange = _plain(request, body, size)
        request.app[GUARD].note(f"connection closed: no complete body within {BODY_TIMEOUT:g} s")
        return exchange, _refuse(exchange, 408, "WIRE005", f"the body did not arrive within "
                                 f"{BODY_TIMEOUT:g} s ({size} bytes came)"), True
    except Exception as err:  # noqa: BLE001  (bad chunking, a body cut short: the client's doing)
        exchange = _plain(request, b"", 0)
        return exchange, _refuse(exchange, 400, "WIRE003", f"the body cannot be read: {err}"), True
    path, _, query = request.raw_path.partition("?")  # as sent: percent-escapes kept
    exchange = build_exchange(method=request.method, path=path,
                              query=query, peer=peer_of(request),
                              headers=_headers(request), body=body, body_size=size,
                              max_decoded=request.app[MAX_BODY])
    try:
        answer = await hub.answer(exchange)
    except Exception as err:  # a bug of ours must not cost the user the request
        log.exception("choosing the answer failed")
        reply = Reply(500, f"segment-inspector failed: {type(err).__name__}: {err}")
        answer = exchange.answer = Answer(reply.status, reply.body(), "error", "inspector")
        exchange.findings.append(finding("INSP001", reply.message or ""))
    return exchange, answer, False


def _response(answer: Answer) -> web.Response:
    headers = dict(answer.headers)
    if answer.content_type:
        headers["Content-Type"] = answer.content_type
    return web.Response(status=answer.status, body=answer.body or None, headers=headers)


def keep(hub: Hub, exchange: Exchange, guard: Guard) -> web.Response | None:
    """Keep an answered exchange: None once it is on disk, else the 503 that makes Segment retry."""
    try:
        hub.record(exchange)
    except HistoryUnavailable as err:  # not on disk: Segment must not take it as delivered
        return web.json_response({"message": str(err)}, status=503)
    except Exception as err:  # noqa: BLE001  (not kept: say so, and let Segment retry)
        guard.note("a request could not be kept: answered 503", f"{type(err).__name__}: {err}")
        return web.json_response({"message": "segment-inspector could not keep this request; "
                                             "send it again"}, status=503)
    return None


async def receive(request: web.Request) -> web.Response:
    """Record the request, let the hub choose the answer, send it."""
    started = time.perf_counter()
    exchange, answer, close = await _exchange(request)
    close = close or request.method == "CONNECT"
    response = _response(answer)
    exchange.duration = time.perf_counter() - started
    refused = keep(request.app[HUB], exchange, request.app[GUARD])
    if refused is not None:
        response, close = refused, True
    if close:
        response.force_close()
    return response


@web.middleware
async def limited(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every path, the Tracking API's too: a client over the rate limit gets 429 unread."""
    hub, limiter = request.app[HUB], request.app[LIMIT]
    host = peer_of(request).rsplit(":", 1)[0]
    if limiter.admit(hub, limiter.client(hub, host, request.headers.get("X-Forwarded-For"))):
        return await handler(request)
    exchange = _plain(request, b"", request.content_length or 0)
    answer = _refuse(exchange, 429, "WIRE004", limiter.message(hub))
    answer.headers = [("Retry-After", RETRY_AFTER)]
    response = _response(answer)
    response.force_close()  # the body is not read: the connection cannot carry another request
    if limiter.keep_refused():
        keep(hub, exchange, request.app[GUARD])
    else:
        request.app[GUARD].note("request over the rate limit answered 429 (not kept)")
    return response


async def _release_held(app: web.Application) -> None:
    app[HUB].release_all()


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
    app = web.Application(client_max_size=DRAIN_LIMIT, middlewares=[limited])
    app[HUB] = hub
    app[MAX_BODY] = max_body
    app[GUARD] = guard or Guard(hub)
    app[LIMIT] = rate_limit or RateLimit()
    install_tracking(app, hub, tracking, lambda exchange: keep(hub, exchange, app[GUARD]))  # Segment's Tracking API paths, before the catch-all
    app.router.add_route("*", "/{tail:.*}", receive)
    app.on_shutdown.append(_release_held)
    app.cleanup_ctx.append(_forwarding)
    return app

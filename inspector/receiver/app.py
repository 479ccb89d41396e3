"""The aiohttp application: every request on every path becomes an Exchange."""

from __future__ import annotations

import logging
import time

from aiohttp import web

from ..core.hub import Hub
from ..core.intake import build_exchange
from ..core.checks import check, finding
from ..core.model import Answer
from ..core.policy import Reply
from .forward import Forwarder
from .tracking import TrackingOptions, install as install_tracking

HUB = web.AppKey("hub", Hub)
MAX_BODY = web.AppKey("max_body", int)

DEFAULT_MAX_BODY = 8 * 1024 * 1024
# Of a body over the limit, the head is kept so the user can see what was sent.
KEPT_HEAD = 64 * 1024
# Past this we stop reading an oversize body and let the connection close.
DRAIN_LIMIT = 64 * 1024 * 1024

log = logging.getLogger(__name__)

check("INSP001", "error", "The inspector failed while choosing the answer (a bug of ours)",
      bad="(an exception inside segment-inspector)", good="(no exception)")


async def _read_body(request: web.Request, limit: int) -> tuple[bytes, int]:
    """The body, or only its head when it is over `limit`, and its full size."""
    chunks: list[bytes] = []
    size = 0
    kept = 0
    while True:
        chunk = await request.content.readany()
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


def _peer(request: web.Request) -> str:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    if isinstance(peer, tuple) and len(peer) >= 2:
        host, port = peer[0], peer[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return request.remote or ""


async def receive(request: web.Request) -> web.Response:
    """Record the request, let the hub choose the answer, send it."""
    started = time.perf_counter()
    hub = request.app[HUB]
    body, size = await _read_body(request, request.app[MAX_BODY])
    path, _, query = request.raw_path.partition("?")  # as sent: percent-escapes kept
    exchange = build_exchange(method=request.method, path=path,
                              query=query, peer=_peer(request),
                              headers=_headers(request), body=body, body_size=size)
    try:
        answer = await hub.answer(exchange)
    except Exception as err:  # a bug of ours must not cost the user the request
        log.exception("choosing the answer failed")
        reply = Reply(500, f"segment-inspector failed: {type(err).__name__}: {err}")
        answer = exchange.answer = Answer(reply.status, reply.body(), "error", "inspector")
        exchange.findings.append(finding("INSP001", reply.message or ""))
    headers = dict(answer.headers)
    if answer.content_type:
        headers["Content-Type"] = answer.content_type
    response = web.Response(status=answer.status, body=answer.body or None, headers=headers)
    exchange.duration = time.perf_counter() - started
    hub.record(exchange)
    return response


async def _release_held(app: web.Application) -> None:
    app[HUB].release_all()


async def _forwarding(app: web.Application):  # type: ignore[no-untyped-def]
    """The forwarder's client session lives as long as the app."""
    hub = app[HUB]
    own = hub.forwarder is None
    if own:
        hub.forwarder = Forwarder()
    yield
    if own and isinstance(hub.forwarder, Forwarder):
        await hub.forwarder.close()
        hub.forwarder = None


def make_app(hub: Hub, *, max_body: int = DEFAULT_MAX_BODY,
             tracking: TrackingOptions | None = None) -> web.Application:
    """The receiver for `hub`; bodies over `max_body` bytes get 413 with their head kept."""
    app = web.Application(client_max_size=DRAIN_LIMIT)
    app[HUB] = hub
    app[MAX_BODY] = max_body
    install_tracking(app, hub, tracking)  # Segment's Tracking API paths, before the catch-all
    app.router.add_route("*", "/{tail:.*}", receive)
    app.on_shutdown.append(_release_held)
    app.cleanup_ctx.append(_forwarding)
    return app

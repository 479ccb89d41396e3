"""Reading a request off the wire, for the partner receiver and the Tracking API alike.

One body reader with one deadline, one way to decode headers and one way to keep an
answered exchange: a slow client gets the same 408 and the same record on every path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import orjson
from aiohttp import web

from ..core.checks import finding
from ..core.history import HistoryUnavailable
from ..core.hub import Hub
from ..core.intake import Kind, unread
from ..core.model import Answer, Exchange
from .guard import Guard, peer_of
from .limit import OWN_HEADER, own_delivery

# Of a body over the limit, the head is kept so the user can see what was sent.
KEPT_HEAD = 64 * 1024
# Past this we stop reading an oversize body and let the connection close.
DRAIN_LIMIT = 64 * 1024 * 1024
BODY_TIMEOUT = 10.0  # seconds for a whole body
BODY_GRACE = 2.0  # seconds a body may take to start arriving
MIN_BODY_RATE = 8 * 1024.0  # bytes a second on average after the grace: a client slower than this is closed
LARGE_BODY = 256 * 1024  # bodies this large are read into an exchange off the event loop
READER_THREADS = 2


class BodyTimeout(Exception):
    """The body did not arrive within BODY_TIMEOUT seconds."""


async def read_body(request: web.Request, limit: int) -> tuple[bytes, int]:
    """The body, or only its head when it is over `limit`, and its full size.

    A body must arrive within BODY_TIMEOUT, and after its first BODY_GRACE seconds at
    MIN_BODY_RATE on average: each wait for more lasts only until the rate would fall short.
    Raises BodyTimeout (with what came) when it does not, and aiohttp's payload errors for a
    body the parser cannot read (bad chunking).
    """
    chunks: list[bytes] = []
    size = 0
    kept = 0
    start = asyncio.get_running_loop().time()
    deadline = start + BODY_TIMEOUT
    content = request.content
    while True:
        if content.is_eof():  # all of it has arrived: nothing to wait for, no deadline to arm
            chunk = await content.readany()
        else:
            try:
                async with asyncio.timeout_at(min(deadline, start + BODY_GRACE + size / MIN_BODY_RATE)):
                    chunk = await content.readany()
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


class Reader:
    """Reads bodies into exchanges: a small one on the event loop, a large one (parsing, decoding,
    linting a batch of thousands) in one of a few threads, so no request holds the others up."""

    def __init__(self, *, threads: int = READER_THREADS, large: int = LARGE_BODY) -> None:
        self.large = large
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None

    async def read(self, build: Callable[[], Exchange], size: int) -> Exchange:
        if size < self.large:
            return build()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="receiver-reader")
        return await asyncio.get_running_loop().run_in_executor(self._pool, build)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def headers_of(request: web.Request) -> list[tuple[str, str]]:
    """The headers as sent (UTF-8, else Latin-1), less the mark of the inspector's own deliveries."""
    pairs = []
    for name, value in request.raw_headers:
        try:
            pairs.append((name.decode("utf-8"), value.decode("utf-8")))
        except UnicodeDecodeError:
            pairs.append((name.decode("latin-1"), value.decode("latin-1")))
    if OWN_HEADER in request.headers:  # only the inspector's own deliveries carry it
        pairs = [pair for pair in pairs if not own_delivery(*pair)]
    return pairs


def plain(request: web.Request, body: bytes, size: int, kind: Kind = "") -> Exchange:
    """An exchange of what arrived, without reading it as an event (flood, broken body)."""
    path, _, query = request.raw_path.partition("?")  # as sent: percent-escapes kept
    return unread(method=request.method, path=path, query=query, peer=peer_of(request),
                  headers=headers_of(request), body=body, body_size=size, kind=kind)


def refuse(exchange: Exchange, status: int, code: str, message: str) -> Answer:
    exchange.findings.append(finding(code, message))
    exchange.answer = Answer(status, orjson.dumps({"message": message}), "error", "receiver")
    return exchange.answer


async def read_or_refuse(request: web.Request, limit: int, guard: Guard,
                         kind: Kind = "") -> tuple[bytes, int, Exchange | None]:
    """The body (its head when over `limit`) and its full size; or, for a body that cannot be
    read (not all there within BODY_TIMEOUT: 408; broken: 400), also the refused exchange to
    keep and answer, after which the connection must close."""
    connection = guard.of(request)
    try:
        body, size = await read_body(request, limit)
    except BodyTimeout as late:
        body, size = late.args
        exchange = plain(request, body, size, kind)
        guard.note("connection closed: a body too slow (under "
                   f"{MIN_BODY_RATE / 1024:g} KiB/s after {BODY_GRACE:g} s, or not whole within {BODY_TIMEOUT:g} s)")
        refuse(exchange, 408, "WIRE005", f"the body did not arrive in time ({size} bytes came): a body must "
               f"arrive at {MIN_BODY_RATE / 1024:g} KiB/s after {BODY_GRACE:g} s, and whole within {BODY_TIMEOUT:g} s")
        return body, size, exchange
    except Exception as err:  # bad chunking, a body cut short: the client's doing
        exchange = plain(request, b"", 0, kind)
        refuse(exchange, 400, "WIRE003", f"the body cannot be read: {err}")
        return b"", 0, exchange
    if connection is not None:
        guard.set(connection, "busy")  # the body is in: never closed to make room now
    return body, size, None


async def closing(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    """Send the response, then close the connection at once: the client is slow or its body
    was not read, so nothing more will come on it worth lingering for."""
    response.force_close()
    await response.prepare(request)
    await response.write_eof()
    if request.transport is not None:
        request.transport.close()
    return response


def response_of(answer: Answer) -> web.Response:
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
    except Exception as err:  # not kept: say so, and let Segment retry
        guard.note("a request could not be kept: answered 503", f"{type(err).__name__}: {err}")
        return web.json_response({"message": "segment-inspector could not keep this request; "
                                             "send it again"}, status=503)
    return None

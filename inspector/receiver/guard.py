"""What keeps the receiver answering on the open internet.

- Requests aiohttp's parser refuses before our handler (bad chunking, bad
  Content-Length, oversize header lines, CONNECT, invalid bytes) become exchanges like
  any other: the time, the peer, the parser's error and the first bytes, answered 400
  with a JSON message.
- A client gets HEADER_TIMEOUT seconds to send its request line and headers (Segment
  sends whole requests at once); slower ones are closed. The body's own deadline is
  the handler's (see reading.py).
- Connections are capped below the process's file limit: when full, the connection
  that has waited longest for its headers makes room for the new one, so a flood of
  slow clients cannot keep a real request out.
- Nothing of this writes a traceback: each kind of event is logged once per
  SUMMARY_EVERY seconds with its count.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections import Counter
from typing import Any

import orjson
from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from ..core.checks import finding
from ..core.hub import Hub
from ..core.model import Answer, BodyError, Exchange, new_id

log = logging.getLogger("inspector.receiver")

HEADER_TIMEOUT = 10.0
BODY_TIMEOUT = 10.0
IDLE_TIMEOUT = 75.0  # a kept-alive connection between requests
SUMMARY_EVERY = 10.0
SWEEP_EVERY = 1.0
FIRST_BYTES = 1024  # of a refused request, this much is kept


BACKLOG = 128  # asyncio accepts up to this many at once before any is admitted or closed


def connection_cap() -> int:
    """Connections allowed at once: the file limit less room for one burst of accepts, those
    being closed, the history, TLS and the tunnel, so accept() never runs out of files."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft > 65536:
        soft = 65536
    return max(16, soft - max(64, soft // 4) - BACKLOG)


class Guard:
    """The receiver's connection bookkeeping: who waits for what since when, and the log."""

    def __init__(self, hub: Hub, *, cap: int | None = None, header_timeout: float = HEADER_TIMEOUT,
                 idle_timeout: float = IDLE_TIMEOUT) -> None:
        self.hub = hub
        self.cap = connection_cap() if cap is None else cap
        self.header_timeout = header_timeout
        self.idle_timeout = idle_timeout
        # handler -> (state, since): "headers" (request under way), "idle" (kept alive), "busy"
        self.connections: dict[GuardedHandler, tuple[str, float]] = {}
        self.counts: Counter[str] = Counter()
        self._task: asyncio.Task[None] | None = None

    # -- events --------------------------------------------------------------------

    def note(self, kind: str, detail: str = "") -> None:
        """Count an event for the next summary line; the first of each interval is logged at once."""
        if not self.counts[kind]:
            log.warning("%s%s (more are counted every %g s)", kind, f": {detail}" if detail else "",
                        SUMMARY_EVERY)
        self.counts[kind] += 1

    def summarise(self) -> None:
        if self.counts:
            log.warning("in the last %g s: %s; %d connections open", SUMMARY_EVERY,
                        ", ".join(f"{n} x {kind}" for kind, n in sorted(self.counts.items())),
                        len(self.connections))
            self.counts.clear()

    # -- connections ---------------------------------------------------------------

    def opened(self, handler: GuardedHandler) -> bool:
        """Admit a connection, making room if needed; False if there is none to make."""
        if len(self.connections) >= self.cap:
            waiting = [(since, h) for h, (state, since) in self.connections.items() if state != "busy"]
            if not waiting:
                self.note("connection refused: every connection is busy answering")
                return False
            _, oldest = min(waiting, key=lambda pair: pair[0])
            self.note(f"connection closed to make room (over {self.cap} connections)")
            oldest.drop()
        self.connections[handler] = ("headers", time.monotonic())
        return True

    def set(self, handler: GuardedHandler, state: str) -> None:
        if handler in self.connections:
            self.connections[handler] = (state, time.monotonic())

    def closed(self, handler: GuardedHandler) -> None:
        self.connections.pop(handler, None)

    def sweep(self) -> None:
        now = time.monotonic()
        for handler, (state, since) in list(self.connections.items()):
            if state == "headers" and now - since > self.header_timeout:
                self.note(f"connection closed: no complete request headers within {self.header_timeout:g} s")
                handler.drop()
            elif state == "idle" and now - since > self.idle_timeout:
                handler.drop()

    async def run(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            self.sweep()
            if time.monotonic() - last >= SUMMARY_EVERY:
                self.summarise()
                last = time.monotonic()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run(), name="receiver guard")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        self.summarise()

    # -- refused requests ------------------------------------------------------------

    def refused(self, peer: str, head: bytes, error: str) -> Exchange:
        """A request the parser refused, recorded so it is in the list and the history."""
        now = time.time()
        line = head.split(b"\r\n", 1)[0].split(b"\n", 1)[0]
        words = line.decode("latin-1").split(" ")
        method = words[0][:16] if words and words[0].isalpha() else "?"
        path, _, query = (words[1] if len(words) > 1 else "").partition("?")
        exchange = Exchange(id=new_id(now), time=now, method=method, path=path[:2048], query=query[:2048],
                            peer=peer, body=head, body_size=len(head))
        exchange.body_error = BodyError(f"refused by the HTTP parser: {error}")
        exchange.findings = [finding("WIRE003", f"{error}; the first {len(head)} bytes received are kept")]
        message = f"request refused: {error}"
        exchange.answer = Answer(400, orjson.dumps({"message": message}), "error", "HTTP parser")
        try:
            self.hub.record(exchange)
        except Exception as err:
            self.note("a refused request could not be kept", f"{type(err).__name__}: {err}")
        return exchange


class GuardedHandler(RequestHandler):
    """aiohttp's connection handler, with the guard told of every connection and request."""

    guard: Guard  # set on the subclass made for each receiver

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head = bytearray()
        self._admitted = False
        self._peer = ""

    @property
    def peer(self) -> str:
        """The client, as it was when it connected: the transport is gone once it hangs up."""
        return self._peer or "unknown peer"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._peer = peer_text(transport.get_extra_info("peername"))
        self._admitted = self.guard.opened(self)
        super().connection_made(transport)
        if not self._admitted:
            self.drop()

    def connection_lost(self, exc: BaseException | None) -> None:
        self.guard.closed(self)
        super().connection_lost(exc)

    def drop(self) -> None:
        """Close now, without lingering: the client was too slow or room was needed."""
        self.guard.closed(self)
        self.force_close()
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        state = self.guard.connections.get(self)
        if state is not None and state[0] == "idle":
            self.guard.set(self, "headers")
            self._head.clear()
        starts = not self._head
        if len(self._head) < FIRST_BYTES:
            self._head += data[: FIRST_BYTES - len(self._head)]
        if starts and data[:8].upper() == b"CONNECT ":
            # aiohttp hands the stream over as a tunnel and never calls a handler
            self._refuse_now("CONNECT asks for a proxy tunnel; this is an HTTP endpoint")
            return
        super().data_received(data)

    def _refuse_now(self, error: str) -> None:
        """Keep and answer a request aiohttp would not pass to any handler, then close."""
        self.guard.refused(self.peer, bytes(self._head), error)
        self.guard.note("request refused by the HTTP parser", f"{self.peer}: {error[:120]}")
        body = orjson.dumps({"message": f"request refused: {error}"})
        if self.transport is not None:
            self.transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
            self.transport.close()
        self.guard.closed(self)
        self.force_close()

    async def _handle_request(self, request: Any, start_time: Any, request_handler: Any) -> Any:
        self.guard.set(self, "busy")
        try:
            return await super()._handle_request(request, start_time, request_handler)
        finally:
            self.guard.set(self, "idle")
            self._head.clear()

    def handle_error(self, request: Any, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        """A request refused before our handler: kept, logged in one line, answered in JSON."""
        error = (message or (str(exc) if exc else "") or f"HTTP {status}").splitlines()[0][:300]
        self.guard.refused(self.peer, bytes(self._head), error)
        self.guard.note("request refused by the HTTP parser", f"{self.peer}: {error[:120]}")
        response = web.json_response({"message": f"request refused: {error}"}, status=status)
        response.force_close()
        return response

    def log_exception(self, *args: Any, **kw: Any) -> None:
        exc = kw.get("exc_info")
        what = f"{type(exc).__name__}: {exc}" if isinstance(exc, BaseException) else str(args[0] if args else "")
        self.guard.note("connection error", what[:160])


def peer_text(peer: Any) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        host, port = peer[0], peer[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return ""


def peer_of(request: web.BaseRequest) -> str:
    """`host:port` of the client a request came from."""
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return peer_text(peer) or request.remote or ""


def guarded_server(server: web.Server, guard: Guard) -> None:
    """Make `server` create guarded handlers; its connections all go through `guard`."""
    handler = type("Handler", (GuardedHandler,), {"guard": guard})

    class Guarded(type(server)):  # type: ignore[misc]
        def __call__(self) -> RequestHandler:
            return handler(self, loop=self._loop, **self._kwargs)

    server.__class__ = Guarded


def quiet_accept_errors(loop: asyncio.AbstractEventLoop, guard: Guard) -> None:
    """asyncio logs a traceback each time accept() fails (out of files): make it a counted line."""
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if "accept" in str(context.get("message", "")):
            guard.note("connections not accepted", f"{context.get('message')}: {context.get('exception')}")
        elif previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)

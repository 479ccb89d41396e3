"""What keeps the receiver answering on the open internet.

Every connection goes through a `Connection`, a thin asyncio protocol around aiohttp's
own, so the guard sees each one from its first byte to its last:

- Requests aiohttp's parser refuses before our handler (bad chunking, bad
  Content-Length, oversize header lines, CONNECT, invalid bytes) become exchanges like
  any other: the time, the peer, the parser's error and the first bytes, answered 400
  with a JSON message (see refusals.py).
- A client gets HEADER_TIMEOUT seconds to send its request line and headers (Segment
  sends whole requests at once); slower ones are closed. The body's own deadline is
  the handler's (see reading.py).
- Connections are capped below the process's file limit: when full, the one that is
  slowest to send what it must (an idle kept-alive connection first, then the one whose
  headers or body arrive slowest) makes room for the new one, so a flood of slow clients
  cannot keep a real request out. A connection being answered is never closed.
- Nothing of this writes a traceback: each kind of event is logged once per
  SUMMARY_EVERY seconds with its count, aiohttp's own complaints and asyncio's
  "out of files" on accept included.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, Literal

import orjson
from aiohttp import web

from ..core.hub import Hub
from ..core.intake import refused

log = logging.getLogger("inspector.receiver")

HEADER_TIMEOUT = 10.0
IDLE_TIMEOUT = 75.0  # a kept-alive connection between requests
SUMMARY_EVERY = 10.0
SWEEP_EVERY = 1.0
FIRST_BYTES = 1024  # of a refused request, this much is kept
YOUNG = 1.0  # seconds a new connection is spared when room is made
BACKLOG = 128  # asyncio accepts up to this many at once before any is admitted or closed
LISTEN_QUEUE = 4096  # connections the kernel holds for us to accept (capped by net.core.somaxconn)

State = Literal["headers", "body", "busy", "idle"]  # sending its headers, its body; being answered; kept alive


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
        self.connections: dict[Connection, tuple[State, float]] = {}
        self._by_transport: dict[asyncio.BaseTransport, Connection] = {}
        self.counts: Counter[str] = Counter()
        self.logger = _Noted(self)
        self._accepts = _AcceptErrors(self)
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

    def opened(self, connection: Connection, transport: asyncio.BaseTransport) -> bool:
        """Admit a connection, making room if needed; False if there is none to make."""
        if len(self.connections) >= self.cap:
            slowest = self._slowest()
            if slowest is None:
                self.note("connection refused: every connection is busy answering")
                return False
            self.note(f"connection closed to make room (over {self.cap} connections): the slowest sender")
            slowest.drop()
        self.connections[connection] = ("headers", time.monotonic())
        self._by_transport[transport] = connection
        return True

    def _slowest(self) -> Connection | None:
        """The connection to close first: idle the longest, else the fewest bytes a second sent
        since its request began (ties: the oldest). One just opened is spared while there are
        others, as it has had no time to send anything; most of all one not yet read from, as
        under a flood every connection is young and a real request waits there to be read."""
        now = time.monotonic()
        candidates = [(state != "idle", young and not connection.sent, young, connection.rate(now), since, connection)
                      for connection, (state, since) in self.connections.items() if state != "busy"
                      for young in (now - connection.began < YOUNG,)]
        return min(candidates, key=lambda item: item[:5])[5] if candidates else None

    def set(self, connection: Connection, state: State) -> None:
        if connection in self.connections:
            now = time.monotonic()
            if state == "headers":
                connection.sent, connection.began = 0, now
            self.connections[connection] = (state, now)

    def closed(self, connection: Connection) -> None:
        self.connections.pop(connection, None)
        if connection.transport is not None:
            self._by_transport.pop(connection.transport, None)

    def of(self, request: web.BaseRequest) -> Connection | None:
        """The connection a request came on."""
        transport = request.transport
        return self._by_transport.get(transport) if transport is not None else None

    def sweep(self) -> None:
        now = time.monotonic()
        for connection, (state, since) in list(self.connections.items()):
            if state == "headers" and now - since > self.header_timeout:
                self.note(f"connection closed: no complete request headers within {self.header_timeout:g} s")
                connection.drop()
            elif state == "idle" and now - since > self.idle_timeout:
                connection.drop()

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
            logging.getLogger("asyncio").addFilter(self._accepts)

    async def stop(self) -> None:
        task, self._task = self._task, None
        logging.getLogger("asyncio").removeFilter(self._accepts)
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        self.summarise()

    # -- refused requests ------------------------------------------------------------

    def refused(self, peer: str, head: bytes, error: str) -> None:
        """A request the parser refused, kept so it is in the list and the history."""
        self.note("request refused by the HTTP parser", f"{peer}: {error[:120]}")
        try:
            self.hub.record(refused(peer=peer, head=head, error=error))
        except Exception as err:  # a full disk must not stop the receiver
            self.note("a refused request could not be kept", f"{type(err).__name__}: {err}")


class Connection(asyncio.Protocol):
    """One client connection: aiohttp's protocol inside, the guard told of what it sends."""

    def __init__(self, guard: Guard, handler: Callable[[Callable[[str, int], web.StreamResponse]], Any]) -> None:
        self.guard = guard
        self.handler: asyncio.Protocol = handler(self.refuse)
        self.transport: asyncio.BaseTransport | None = None
        self.peer = "unknown peer"  # as it was when it connected: the transport is gone once it hangs up
        self._head = bytearray()
        self._passing = True
        self.sent = 0  # bytes since its request began
        self.began = time.monotonic()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.peer = peer_text(transport.get_extra_info("peername")) or self.peer
        admitted = self.guard.opened(self, transport)
        self.handler.connection_made(transport)
        if not admitted:
            self.drop()

    def data_received(self, data: bytes) -> None:
        state = self.guard.connections.get(self)
        if state is not None and state[0] == "idle":
            self.guard.set(self, "headers")
            self._head.clear()
        starts = not self._head
        self.sent += len(data)
        if len(self._head) < FIRST_BYTES:
            self._head += data[: FIRST_BYTES - len(self._head)]
        if starts and data[:8].upper() == b"CONNECT ":
            # aiohttp hands the stream over as a tunnel and never calls a handler
            self._refuse_now("CONNECT asks for a proxy tunnel; this is an HTTP endpoint")
        if self._passing:
            self.handler.data_received(data)

    def eof_received(self) -> bool | None:
        return self.handler.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.closed(self)
        self.handler.connection_lost(exc)

    def pause_writing(self) -> None:
        self.handler.pause_writing()

    def resume_writing(self) -> None:
        self.handler.resume_writing()

    # -- what the guard and the handler ask of it -------------------------------------

    def rate(self, now: float) -> float:
        """Bytes a second its request has come at."""
        return self.sent / max(now - self.began, 1e-3)

    def answered(self) -> None:
        """A request's answer is done: the connection waits, kept alive, for the next."""
        self.guard.set(self, "idle")
        self._head.clear()

    def drop(self) -> None:
        """Close now, without lingering: the client was too slow or room was needed."""
        self.guard.closed(self)
        if isinstance(self.transport, asyncio.WriteTransport):
            self.transport.abort()

    def refuse(self, error: str, status: int) -> web.StreamResponse:
        """A request refused before our handler: kept, logged in one line, answered in JSON."""
        self.guard.refused(self.peer, bytes(self._head), error)
        response = web.json_response({"message": f"request refused: {error}"}, status=status)
        response.force_close()
        return response

    def _refuse_now(self, error: str) -> None:
        """Keep and answer a request aiohttp would not pass to any handler, then close."""
        self._passing = False
        self.guard.refused(self.peer, bytes(self._head), error)
        body = orjson.dumps({"message": f"request refused: {error}"})
        transport = self.transport
        if isinstance(transport, asyncio.WriteTransport):
            transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
            transport.close()
        self.guard.closed(self)


class _Noted(logging.Logger):
    """aiohttp's logger for the receiver's connections: what it would log becomes a counted line."""

    def __init__(self, guard: Guard) -> None:
        super().__init__("inspector.receiver.connections", logging.WARNING)
        self.guard = guard

    def handle(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        what = f"{type(exc).__name__}: {exc}" if exc is not None else record.getMessage()
        self.guard.note("connection error", what[:160])


class _AcceptErrors(logging.Filter):
    """asyncio logs a traceback each time accept() fails (out of files): a counted line instead."""

    def __init__(self, guard: Guard) -> None:
        super().__init__()
        self.guard = guard

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not message.startswith("socket.accept() out of system resource"):
            return True
        exc = record.exc_info[1] if record.exc_info else None
        self.guard.note("connections not accepted", f"{message.splitlines()[0]}: {exc}")
        return False


def peer_text(peer: Any) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        host, port = peer[0], peer[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return ""


def peer_of(request: web.BaseRequest) -> str:
    """`host:port` of the client a request came from."""
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return peer_text(peer) or request.remote or ""

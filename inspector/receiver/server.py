"""Serve the receiver inside an event loop someone else runs (the CLI's or Textual's).

aiohttp's AppRunner makes the server; the listening socket is ours (`loop.create_server`),
so every connection goes through the guard's `Connection` around aiohttp's protocol.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..core import DEFAULT_HOST, DEFAULT_PORT
from ..core.hub import Hub
from .app import DEFAULT_MAX_BODY, make_app
from .guard import BACKLOG, IDLE_TIMEOUT, LISTEN_QUEUE, Connection, Guard
from .limit import RateLimit
from .refusals import refusing_handlers

if TYPE_CHECKING:
    from ..local_segment.options import TrackingOptions

SHUTDOWN_TIMEOUT = 2.0


class Receiver:
    def __init__(self, hub: Hub, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                 max_body: int = DEFAULT_MAX_BODY, ssl_context: ssl.SSLContext | None = None,
                 rate_limit: float | None = None, max_connections: int | None = None,
                 tracking: TrackingOptions | None = None, trusted_proxies: int = 1) -> None:
        self.hub = hub
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.guard = Guard(hub, cap=max_connections)
        exposed = host not in ("127.0.0.1", "::1", "localhost")
        self.app = make_app(hub, max_body=max_body, guard=self.guard,
                            rate_limit=RateLimit(rate_limit, exposed=exposed, proxies=trusted_proxies),
                            tracking=tracking)
        self._runner: web.AppRunner | None = None
        self._server: asyncio.Server | None = None
        self.url = ""

    async def start(self) -> str:
        """Start listening; returns the URL, with the real port when 0 was asked."""
        self.hub.bind(asyncio.get_running_loop())
        # The body is kept as received: intake decodes gzip, deflate and br itself.
        options: dict[str, Any] = {"access_log": None, "auto_decompress": False, "keepalive_timeout": IDLE_TIMEOUT,
                   "logger": self.guard.logger}
        self._runner = web.AppRunner(self.app, shutdown_timeout=SHUTDOWN_TIMEOUT, handle_signals=False, **options)
        await self._runner.setup()
        assert self._runner.server is not None
        handlers = refusing_handlers(self._runner.server, **options)
        try:
            self._server = await asyncio.get_running_loop().create_server(
                lambda: Connection(self.guard, handlers), self.host, self.port, ssl=self.ssl_context,
                reuse_address=True, backlog=BACKLOG)
        except BaseException:
            await self._runner.cleanup()
            self._runner = None
            raise
        # asyncio listens with the backlog it also accepts at once; a longer queue for the
        # kernel means a client's SYN waits behind a flood instead of being dropped (and
        # retried a second later), while accepts still come BACKLOG at a time.
        for sock in self._server.sockets:
            with sock.dup() as same:  # the same socket: asyncio's wrapper has no listen()
                same.listen(LISTEN_QUEUE)
        self.guard.start()
        port = self._server.sockets[0].getsockname()[1]
        scheme = "https" if self.ssl_context else "http"
        host = self.host if self.host not in ("0.0.0.0", "::", "") else socket.gethostname()
        host = f"[{host}]" if ":" in host else host
        self.url = f"{scheme}://{host}:{port}/"
        return self.url

    async def stop(self) -> None:
        """Release held requests, finish answers under way, stop listening."""
        self.hub.release_all()
        if self._server is not None:
            self._server.close()
        await self.guard.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for connection in list(self.guard.connections):
            connection.drop()
        if self._server is not None:
            try:
                await asyncio.wait_for(self._server.wait_closed(), SHUTDOWN_TIMEOUT)
            except TimeoutError:
                pass
            self._server = None

"""Serve the receiver inside an event loop someone else runs (the CLI's or Textual's)."""

from __future__ import annotations

import socket
import ssl

from aiohttp import web

from ..core.hub import Hub
from .app import DEFAULT_MAX_BODY, make_app
from .tracking import TrackingOptions

DEFAULT_PORT = 8686  # not 4040: ngrok's own inspector listens there


class Receiver:
    def __init__(self, hub: Hub, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                 max_body: int = DEFAULT_MAX_BODY, ssl_context: ssl.SSLContext | None = None,
                 tracking: TrackingOptions | None = None) -> None:
        self.hub = hub
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.app = make_app(hub, max_body=max_body, tracking=tracking)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        """Start listening; returns the URL, with the real port when 0 was asked."""
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=2.0,
                                     handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self.ssl_context,
                           reuse_address=True)
        try:
            await site.start()
        except BaseException:
            await self._runner.cleanup()
            self._runner = None
            raise
        port = self._runner.addresses[0][1]
        scheme = "https" if self.ssl_context else "http"
        host = self.host if self.host not in ("0.0.0.0", "::", "") else socket.gethostname()
        host = f"[{host}]" if ":" in host else host
        self.url = f"{scheme}://{host}:{port}/"
        return self.url

    async def stop(self) -> None:
        """Release held requests, finish answers under way, stop listening."""
        self.hub.release_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

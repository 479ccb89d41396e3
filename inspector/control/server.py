"""The control API's own listener: never the receiver's port, never behind the tunnel."""

from __future__ import annotations

import ipaddress
import ssl
from pathlib import Path

from aiohttp import web

from ..core.hub import Hub
from .api import FEED, make_app
from .feed import Feed
from .token import load_or_make, token_path

DEFAULT_PORT = 8687


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class ControlServer:
    """Serves the control API of `hub` on `host:port` (0: a free port) until stopped."""

    def __init__(self, hub: Hub, directory: Path, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                 ssl_context: ssl.SSLContext | None = None, certificate: Path | None = None) -> None:
        self.hub, self.host, self.port, self.ssl_context = hub, host, port, ssl_context
        self.certificate = certificate  # our own (`--tls`): a viewer must be told to trust it
        self.token = load_or_make(directory)
        self.token_file = token_path(directory)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        runner = web.AppRunner(make_app(self.hub, self.token), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, ssl_context=self.ssl_context)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        port = runner.addresses[0][1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"{'https' if self.ssl_context else 'http'}://{host}:{port}"
        return self.url

    @property
    def feed(self) -> Feed:
        """The live stream's notices and viewers (while started)."""
        assert self._runner is not None, "the control API is not started"
        return self._runner.app[FEED]

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

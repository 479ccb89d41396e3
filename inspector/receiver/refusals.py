"""JSON answers to the requests aiohttp's HTTP parser refuses: the receiver's one private hook.

aiohttp answers a request it cannot parse (bad chunking or Content-Length, a header line
over 8 KiB, invalid bytes, a TLS hello) from `RequestHandler.handle_error`, before any
handler or middleware, in plain text. Segment's contract is a JSON `{"message": ...}`, and
we keep every request we answer, so that one method is replaced here and nowhere else.
`tests/receiver/test_aiohttp_hook.py` fails, naming this module, if aiohttp changes it; the
aiohttp versions the suite ran on are pinned in pyproject.toml.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

Refuse = Callable[[str, int], web.StreamResponse]
"""Answer a refused request: its error, the status aiohttp would give it."""


def refusing_handlers(server: web.Server, **options: Any) -> Callable[[Refuse], asyncio.Protocol]:
    """A factory of aiohttp's connection handlers for `server` (made with `options`, the
    handler arguments AppRunner documents) that answer parser refusals with `refuse`."""
    loop = asyncio.get_running_loop()

    class Handler(RequestHandler):
        refuse: Refuse

        def handle_error(self, request: Any, status: int = 500, exc: BaseException | None = None,
                         message: str | None = None) -> web.StreamResponse:
            if isinstance(exc, ConnectionResetError):
                # The client left before its answer could be written: the handler kept the
                # request already, so this is not a request of its own to keep.
                return web.Response(status=status)
            error = (message or (str(exc) if exc else "") or f"HTTP {status}").splitlines()[0][:300]
            return self.refuse(error, status)

    def make(refuse: Refuse) -> asyncio.Protocol:
        handler = Handler(server, loop=loop, **options)
        handler.refuse = refuse
        return handler

    return make

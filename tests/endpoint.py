"""The one fake endpoint of the tests: a real aiohttp server on 127.0.0.1 port 0 that keeps
every request it gets and answers as the test says.

    async with serving() as endpoint:            # 200 `{}`; endpoint.statuses answer first
    async with serving(answer) as endpoint:      # answer(request, endpoint) decides

The `endpoint` fixture (tests/conftest.py) is `serving()`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web


@dataclass(frozen=True)
class Seen:
    """One request as the endpoint got it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    target: str  # the request target as sent, query string and all
    raw_headers: tuple[tuple[bytes, bytes], ...]  # as sent, in order, repeats kept

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Endpoint:
    url: str = ""  # http://127.0.0.1:PORT/
    seen: list[Seen] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # what the next requests get, in turn; then 200

    def on(self, path: str) -> list[Seen]:
        """What came to one path (`"/fail2"`)."""
        return [seen for seen in self.seen if seen.path == path]


Answer = Callable[[web.Request, Endpoint], Awaitable[web.StreamResponse]]


async def in_turn(_: web.Request, endpoint: Endpoint) -> web.StreamResponse:
    """The next of `endpoint.statuses` (200 when none is left), with a JSON message when it fails."""
    status = endpoint.statuses.pop(0) if endpoint.statuses else 200
    return web.json_response({"message": f"failing with {status}"} if status >= 400 else {}, status=status)


@asynccontextmanager
async def serving(answer: Answer = in_turn) -> AsyncIterator[Endpoint]:
    """An endpoint on a free port of 127.0.0.1, any method and path, until the block ends. A
    handler still waiting when the client hangs up is cancelled, as a real server's would be."""
    endpoint = Endpoint()

    async def handle(request: web.Request) -> web.StreamResponse:
        endpoint.seen.append(Seen(request.method, request.path, dict(request.headers), await request.read(),
                                  request.raw_path, request.raw_headers))
        return await answer(request, endpoint)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1, handler_cancellation=True)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    endpoint.url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    try:
        yield endpoint
    finally:
        await runner.cleanup()

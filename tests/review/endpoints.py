"""Small real endpoints for `review`: a correct one, and one flaw each, switched on by name."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from ..conftest import basic
from ..endpoint import Answer, Endpoint, serving as endpoint_serving

KEY = "k1"
TYPES = {"identify", "track", "page", "screen", "group", "alias", "delete"}
SLOW_EVENT = "Product Viewed"
HTML = "<!DOCTYPE html><html><body><h1>Internal Server Error</h1></body></html>"


def _json(status: int, doc: dict) -> web.Response:
    return web.json_response(doc, status=status)


def flawed(*flaws: str) -> Answer:
    """Segment's contract, kept except for the named flaws: no-key-check, no-delete, html-500,
    html-errors (every error an HTML page), never-errors (200 to anything), slow (4.3 s to one
    event: a real answer past the 4 s limit), silent (no answer to it until the client hangs up),
    redirect, no-content (204 to every event it takes)."""
    answered: dict[str, web.Response] = {}

    async def handle(request: web.Request, _: Endpoint) -> web.StreamResponse:
        answer = await contract(request)
        if "never-errors" in flaws:
            return _json(200, {"ok": True})
        if "html-errors" in flaws and answer.status >= 400:
            return web.Response(status=answer.status, text=HTML, content_type="text/html")
        return answer

    async def contract(request: web.Request) -> web.StreamResponse:
        if "redirect" in flaws and request.path == "/":
            raise web.HTTPTemporaryRedirect("/v2/segment")
        authorization = request.headers.get("Authorization")
        if "no-key-check" not in flaws:
            if not authorization:
                return _json(401, {"message": "missing API key"})
            if authorization != basic(KEY):
                return _json(401, {"message": "invalid API key"})
        try:
            event = json.loads(await request.read())
        except ValueError:
            if "html-500" in flaws:
                return web.Response(status=500, text=HTML, content_type="text/html")
            return _json(400, {"message": "malformed JSON"})
        kind = event.get("type")
        if kind == "delete" and "no-delete" in flaws:
            return _json(501, {"message": "delete is not supported"})
        if kind not in TYPES:
            return _json(501, {"message": f"type {kind} is not supported"})
        if "slow" in flaws and event.get("event") == SLOW_EVENT:
            await asyncio.sleep(4.3)
        if "silent" in flaws and event.get("event") == SLOW_EVENT:
            await asyncio.Event().wait()  # cancelled when the client gives up and disconnects
        message_id = event.get("messageId")
        if message_id in answered:
            return _json(200, {"message": "already received"})
        answered[message_id] = None
        if "no-content" in flaws:
            return web.Response(status=204)
        return _json(200, {"ok": True})

    return handle


@asynccontextmanager
async def serving(*flaws: str) -> AsyncIterator[str]:
    """The endpoint on 127.0.0.1, a free port; its URL."""
    async with endpoint_serving(flawed(*flaws)) as endpoint:
        yield endpoint.url

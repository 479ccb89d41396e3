"""Forwarding: relay a received request to the user's own endpoint, as Segment would send it.

The request goes out with its method, its path and query appended to the forward URL,
its headers as received (Authorization included) except the hop-by-hop ones and Host,
which is the endpoint's, and its exact body. Redirects are not followed, as Segment
follows none, and the answer is awaited a little longer than Segment's ~5 s so a slow
endpoint is still measured. One ClientSession serves every request and is closed with
the receiver. A failure to get an answer (refused, timed out, reset) is not raised:
it comes back as a Destination with `error` set, for the hub to answer 503.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from ..core.model import Destination, Exchange

FORWARD_TIMEOUT = 6.0
MAX_ANSWER = 1024 * 1024  # bytes of the endpoint's answer kept and passed on

# RFC 9110 7.6.1 hop-by-hop headers, plus those the client sets for the new connection.
NOT_FORWARDED = frozenset({
    "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
    "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length",
})


def target(base: str, path: str, query: str) -> URL:
    """The forward URL with the request's path suffix and query, percent-escapes as sent."""
    url = base if path in ("", "/") else base.rstrip("/") + path
    if query:
        url += ("&" if "?" in url else "?") + query
    return URL(url, encoded=True)


def forwarded_headers(exchange: Exchange) -> CIMultiDict[str]:
    """The request's headers in order, repeats kept, without hop-by-hop ones and Host."""
    headers: CIMultiDict[str] = CIMultiDict()
    for name, value in exchange.headers:
        if name.lower() not in NOT_FORWARDED:
            headers.add(name, value)
    return headers


def _why(err: BaseException, timeout: float) -> str:
    """What happened, in the words Segment's own error labels use where they exist."""
    if isinstance(err, (asyncio.TimeoutError, TimeoutError)):
        return f"no answer within {timeout:g} s (timed out)"
    if isinstance(err, aiohttp.ClientConnectorError):
        error = getattr(err, "os_error", None)
        if isinstance(error, socket.gaierror):
            return f"cannot resolve {err.host}: {error.strerror}"
        if isinstance(error, OSError) and error.errno and error.errno > 0:
            return f"cannot connect: {os.strerror(error.errno).lower()}"
        return f"cannot connect: {error or err}"
    if isinstance(err, aiohttp.ServerDisconnectedError):
        return "connection closed without an answer (reset)"
    if isinstance(err, aiohttp.ClientOSError) and err.errno:
        return f"connection failed: {os.strerror(err.errno).lower()}"
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


class Forwarder:
    """The hub's `forwarder`: `await forwarder(exchange, url) -> Destination`."""

    def __init__(self, *, timeout: float = FORWARD_TIMEOUT) -> None:
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=60),
                auto_decompress=True, cookie_jar=aiohttp.DummyCookieJar())
        return self._session

    async def __call__(self, exchange: Exchange, url: str) -> Destination:
        destination = Destination(url)
        started = time.perf_counter()
        try:
            destination.url = str(target(url, exchange.path, exchange.query))
            async with self._client().request(
                    exchange.method, target(url, exchange.path, exchange.query),
                    data=exchange.body, headers=forwarded_headers(exchange),
                    skip_auto_headers=("Accept-Encoding", "User-Agent", "Content-Type", "Accept"),
                    allow_redirects=False, timeout=aiohttp.ClientTimeout(total=self.timeout)) as response:
                destination.status = response.status
                destination.headers = [(name.decode("latin-1"), value.decode("latin-1"))
                                       for name, value in response.raw_headers]
                chunks, size = [], 0
                while size < MAX_ANSWER:
                    chunk = await response.content.readany()
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
                destination.body = b"".join(chunks)[:MAX_ANSWER]
        except (aiohttp.ClientError, asyncio.TimeoutError, TimeoutError, ValueError) as err:
            destination.status = None
            destination.error = _why(err, self.timeout)
        destination.duration = time.perf_counter() - started
        return destination

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

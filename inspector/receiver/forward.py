"""Forwarding: relay a received request to the user's own endpoint, as Segment would send it.

The request goes out with its method, its path and query appended to the forward URL,
its headers as received (Authorization included) except the hop-by-hop ones and Host,
which is the endpoint's, and its exact body, through `inspector.delivery` (no redirect
followed, the answer kept up to its size cap). The answer is awaited a little longer
than Segment's ~5 s so a slow endpoint is still measured. One ClientSession serves every
request and is closed with the receiver. A failure to get an answer (refused, timed out,
reset) is not raised: it comes back as a Destination with `error` set, for the hub to
answer 503.
"""

from __future__ import annotations

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from ..core.model import Destination, Exchange
from ..delivery import client, request, why

FORWARD_TIMEOUT = 6.0

# RFC 9110 7.6.1 hop-by-hop headers, plus those the client sets for the new connection.
NOT_FORWARDED = frozenset({
    "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
    "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length",
})


def target(base: str, path: str, query: str) -> URL:
    """The forward URL with the request's path suffix and query, percent-escapes as sent. A
    request target in absolute form (`POST http://host/x`) gives only its path: the request
    goes to the user's endpoint, never to the host it names."""
    if "://" in path:
        path = URL(path, encoded=True).raw_path
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


class Forwarder:
    """The hub's `forwarder`: `await forwarder(exchange, url) -> Destination`."""

    def __init__(self, *, timeout: float = FORWARD_TIMEOUT) -> None:
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = client()
        return self._session

    async def __call__(self, exchange: Exchange, url: str) -> Destination:
        try:
            where = target(url, exchange.path, exchange.query)
        except ValueError as err:
            return Destination(url, error=why(err, self.timeout))
        destination, _ = await request(self._client(), where, exchange.body, method=exchange.method,
                                       headers=forwarded_headers(exchange), timeout=self.timeout)
        return destination

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

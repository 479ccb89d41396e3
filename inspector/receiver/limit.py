"""The rate limit: a flood from the internet shows as 429s, not as a machine out of memory.

One token bucket per client, so one flooding client does not starve Segment. The client
is the peer's address, except behind a tunnel: there every request comes from the agent
on this machine, and the client is the address the tunnel wrote last in
`X-Forwarded-For` (the last one: a client can send the header itself, and the ones it
wrote come first). It is off by default while the receiver is only reachable locally,
and on by default once it is exposed: a tunnel is open (or opening), a --public-url is
given, or it listens beyond loopback. `--rate-limit N` sets it (0: off).

The inspector's own deliveries (local Segment delivering to this receiver's partner side)
are not limited: they carry a header with a token made at start, known only to this
process, and the delivery's place in the pipeline (source call, attempt), which the
receiver reads into the exchange's link and leaves out of the headers it keeps.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import time
from collections import OrderedDict

from aiohttp import web

from ..core.hub import Hub
from ..core.model import Link

DEFAULT_RATE = 500.0  # requests a second, when exposed
BURST_SECONDS = 2.0  # a burst of this many seconds' worth is let through at once
LOCAL_ONLY = frozenset({"off", "unavailable"})  # tunnel states: only this machine reaches us
KEPT_PER_SECOND = 10  # of the requests refused with 429, this many a second are kept
CLIENTS = 4096  # buckets remembered; the one used least recently goes first
RETRY_AFTER = "1"  # seconds, in the 429's Retry-After
CLIENT = web.RequestKey("client", str)  # who the rate limit counts a request against, once it is in force
OWN_HEADER = "X-Segment-Inspector-Delivery"
_OWN_NAME = OWN_HEADER.lower()
_OWN_TOKEN = secrets.token_urlsafe(24)


def own_delivery_header(link: Link) -> dict[str, str]:
    """The header that marks a request as this process's own delivery of `link`'s event."""
    return {OWN_HEADER: f"{_OWN_TOKEN} {link.source} {link.attempt} {link.attempts}"}


def own_delivery(name: str, value: str | None) -> bool:
    """Whether this header is the mark of this process's own delivery."""
    return (value is not None and name.lower() == _OWN_NAME
            and hmac.compare_digest(value.split(" ", 1)[0].encode("utf-8", "replace"), _OWN_TOKEN.encode()))


def own_link(value: str | None, message_id: str) -> Link | None:
    """The link an own delivery's header carries; None for any other request."""
    if not own_delivery(OWN_HEADER, value):
        return None
    assert value is not None
    try:
        _, source, attempt, attempts = value.split(" ")
        return Link(source, message_id, int(attempt), int(attempts))
    except ValueError:
        return None


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


class _Bucket:
    __slots__ = ("last", "tokens")

    def __init__(self, tokens: float, last: float) -> None:
        self.tokens, self.last = tokens, last


class RateLimit:
    """`rate` requests a second per client (0: no limit; None: DEFAULT_RATE once exposed, else none)."""

    def __init__(self, rate: float | None = None, *, exposed: bool = False, proxies: int = 1) -> None:
        self.rate = rate
        self.exposed = exposed  # listening beyond loopback
        self.proxies = proxies  # trusted proxies in front of us: ngrok's agent, or the --public-url's
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._kept_second = 0
        self._kept = 0

    @staticmethod
    def tunnelled(hub: Hub) -> bool:
        """Whether a tunnel (ngrok's, or the user's --public-url) may be bringing requests in."""
        return hub.tunnel is not None and hub.tunnel.status not in LOCAL_ONLY

    def current(self, hub: Hub) -> float:
        """The limit in force now, in requests a second for each client; 0 when there is none."""
        if self.rate is not None:
            return self.rate
        return DEFAULT_RATE if self.exposed or self.tunnelled(hub) else 0.0

    def client(self, hub: Hub, peer_host: str, forwarded_for: list[str]) -> str:
        """Who a request counts against: the peer, or behind a tunnel the address the last trusted
        proxy appended to X-Forwarded-For (every line of it, in order: a client may send its own)."""
        if forwarded_for and _loopback(peer_host) and self.tunnelled(hub):
            hops = [hop.strip() for line in forwarded_for for hop in line.split(",") if hop.strip()]
            if hops:
                return hops[-min(self.proxies, len(hops))][:64]
        return peer_host

    def admit(self, hub: Hub, client: str = "", more: int = 0) -> bool:
        """Whether `client` may have one more request now; with `more`, whether a request already
        admitted may also count that much more (each event of a Tracking API call counts, and a
        call bigger than a burst takes a full bucket)."""
        rate = self.current(hub)
        if rate <= 0:
            return True
        now = time.monotonic()
        burst = max(1.0, rate * BURST_SECONDS)
        bucket = self._buckets.get(client)
        if bucket is None:
            bucket = self._buckets[client] = _Bucket(burst, now)
            if len(self._buckets) > CLIENTS:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(client)
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.last) * rate)
            bucket.last = now
        need = min(float(more), burst - 1) if more else 1.0
        if bucket.tokens >= need:
            bucket.tokens -= need
            return True
        return False

    def keep_refused(self) -> bool:
        """Whether to keep this 429 in the history: a few a second show the flood, all would be it."""
        second = int(time.monotonic())
        if second != self._kept_second:
            self._kept_second, self._kept = second, 0
        self._kept += 1
        return self._kept <= KEPT_PER_SECOND

    def message(self, hub: Hub) -> str:
        return (f"over the rate limit of {self.current(hub):g} requests a second: "
                "slow down and retry")

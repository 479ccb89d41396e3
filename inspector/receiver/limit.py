"""The rate limit: a flood from the internet shows as 429s, not as a machine out of memory.

One token bucket for the whole receiver (behind a tunnel every request comes from the
agent's address, so a per-peer limit would be a global one anyway). It is off by default
while the receiver is only reachable locally, and on by default once it is exposed: a
tunnel is open (or opening), a --public-url is given, or it listens beyond loopback.
"""

from __future__ import annotations

import time

from ..core.hub import Hub

DEFAULT_RATE = 500.0  # requests a second, when exposed
BURST_SECONDS = 2.0  # a burst of this many seconds' worth is let through at once
LOCAL_ONLY = frozenset({"off", "unavailable"})  # tunnel states: only this machine reaches us
KEPT_PER_SECOND = 10  # of the requests refused with 429, this many a second are kept


class RateLimit:
    """`rate` requests a second (0: no limit; None: DEFAULT_RATE once exposed, else none)."""

    def __init__(self, rate: float | None = None, *, exposed: bool = False) -> None:
        self.rate = rate
        self.exposed = exposed  # listening beyond loopback
        self._tokens = 0.0
        self._last = time.monotonic()
        self._full = True
        self._kept_second = 0
        self._kept = 0

    def current(self, hub: Hub) -> float:
        """The limit in force now, in requests a second; 0 when there is none."""
        if self.rate is not None:
            return self.rate
        tunnel = hub.tunnel
        exposed = self.exposed or (tunnel is not None and tunnel.status not in LOCAL_ONLY)
        return DEFAULT_RATE if exposed else 0.0

    def admit(self, hub: Hub) -> bool:
        rate = self.current(hub)
        if rate <= 0:
            return True
        now = time.monotonic()
        burst = max(1.0, rate * BURST_SECONDS)
        if self._full:
            self._tokens, self._full = burst, False
        self._tokens = min(burst, self._tokens + (now - self._last) * rate)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def keep_refused(self) -> bool:
        """Whether to keep this 429 in the history: a few a second show the flood, all would be it."""
        second = int(time.monotonic())
        if second != self._kept_second:
            self._kept_second, self._kept = second, 0
        self._kept += 1
        return self._kept <= KEPT_PER_SECOND

    def message(self) -> str:
        return (f"over the rate limit of {self.rate or DEFAULT_RATE:g} requests a second: "
                "slow down and retry")

"""Segment's retries: what it tries again, and when.

Segment retries a timeout, a connection error, 408, 423, 429 and 5xx but 501, the same
bytes with the same messageId, after a randomized exponential backoff (segment.md §3.4);
what it drops (other 4xx, 501, redirects) it does not. Segment does not publish its
backoff constants: ours are 1 s, 2 s, 4 s, ... up to 10 min, each times 0.5 to 1.5, all
times `time_scale` so tests and demos can compress the waits.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from .request import Attempt, attempt

BACKOFF_FIRST = 1.0  # seconds before the first retry
BACKOFF_CAP = 600.0


def backoff(attempt: int, rng: random.Random, time_scale: float = 1.0) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, ...): randomized exponential."""
    return float(min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** (attempt - 1)) * rng.uniform(0.5, 1.5) * time_scale)


@dataclass(slots=True)
class Retrying:
    """How many times an attempt Segment retries is sent again, and how fast."""

    retries: int = 0
    time_scale: float = 1.0
    rng: random.Random = field(default_factory=random.Random)

    def wait(self, retry: int) -> float:
        return backoff(retry, self.rng, self.time_scale)


async def deliver(session: aiohttp.ClientSession, url: str, body: bytes, retrying: Retrying, *,
                  on_attempt: Callable[[Attempt], None] | None = None,
                  stop: Callable[[], bool] = lambda: False, **options: Any) -> list[Attempt]:
    """Send `body` until Segment would stop: delivered, dropped, retries used up, or `stop()`.

    Every attempt is returned in order, the last one deciding; `on_attempt` sees each as it
    comes, before any backoff. `options` are `attempt`'s (api_key, settings, headers, events,
    timeout, limits).
    """
    attempts: list[Attempt] = []
    while True:
        attempts.append(await attempt(session, url, body, **options))
        if on_attempt is not None:
            on_attempt(attempts[-1])
        if attempts[-1].outcome != "retried" or len(attempts) > retrying.retries or stop():
            return attempts
        await asyncio.sleep(retrying.wait(len(attempts)))

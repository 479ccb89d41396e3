"""Waiting on a condition, never on time: the same test passes on an idle fast machine
and on one whose cores are busy with other work.

Each helper returns as soon as the condition holds and fails with `what` once
`timeout` seconds have passed: the deadline is generous, as only a broken test or a
broken app ever reaches it. A test that checks something did NOT happen first waits
for a later event that proves the earlier one would have been seen by then.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

DEADLINE = 15.0
_STEP = 0.02


def _failed(timeout: float, what: str) -> AssertionError:
    return AssertionError(f"not within {timeout}s: {what}" if what else f"not within {timeout}s")


async def until(predicate: Callable[[], object], timeout: float = DEADLINE, what: str = "") -> float:
    """Wait on the running loop until `predicate()` is true; returns the seconds it took."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise _failed(timeout, what)
        await asyncio.sleep(_STEP)
    return time.monotonic() - start


async def until_answered(predicate: Callable[[], Awaitable[object]], timeout: float = DEADLINE,
                         what: str = "") -> float:
    """`until` for a condition that must be asked for (a call to a server): asked again each step."""
    start = time.monotonic()
    while not await predicate():
        if time.monotonic() - start > timeout:
            raise _failed(timeout, what)
        await asyncio.sleep(_STEP)
    return time.monotonic() - start


def until_sync(predicate: Callable[[], object], timeout: float = DEADLINE, what: str = "") -> float:
    """`until` for code outside an event loop (a subprocess, a thread)."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise _failed(timeout, what)
        time.sleep(_STEP)
    return time.monotonic() - start


async def pilot_until(pilot: Any, predicate: Callable[[], object], timeout: float = DEADLINE,
                      what: str = "") -> float:
    """`until` for a Textual app under run_test(): the pilot lets the app process its
    messages and repaint between checks."""
    start = time.monotonic()
    await pilot.pause()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise _failed(timeout, what)
        await pilot.pause(_STEP)
    return time.monotonic() - start

"""What the hub says, brought to the screen in batches.

The hub calls `Batches.put` on the app's event loop for every notice. The first notice
after a quiet spell wakes the app at once, so a single request shows without delay;
notices that follow within THROTTLE are merged, so a burst costs the screen one update,
not one per request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from textual.app import App

from ..core.hub import Notice
from ..core.model import Summary

THROTTLE = 0.25
"""After applying notices, the app waits this long before applying the next ones."""


class Batches:
    """Notices queued for the app, handed to `apply` a batch at a time."""

    def __init__(self, app: App[Any], apply: Callable[[list[Notice]], None]) -> None:
        self._app = app
        self._apply = apply
        self._pending: list[Notice] = []
        self._waking = False  # a wake-up is scheduled or the throttle runs: notices just queue

    def put(self, notice: Notice) -> None:
        """Called by the hub. An arrival shows once it is held or recorded: waking for it
        would only start the throttle before those come."""
        if notice.kind == "arrived":
            return
        self._pending.append(notice)
        if not self._waking:
            self._waking = self._app.call_later(self._wake)

    def _wake(self) -> None:
        self._flush()
        self._app.set_timer(THROTTLE, self._end_throttle)

    def _end_throttle(self) -> None:
        """Apply what came during the throttle, and throttle again; else go quiet."""
        if self._pending:
            self._wake()
        else:
            self._waking = False

    def _flush(self) -> None:
        notices, self._pending = self._pending, []
        self._apply(notices)


@dataclass
class Tally:
    """The requests recorded since the app started, as the header counts them."""

    received: int = 0
    with_errors: int = 0

    def take(self, notices: Iterable[Notice]) -> list[Summary]:
        """Count what was recorded; returns the rows to add or replace, one per exchange."""
        changed: dict[str, Summary] = {}
        for notice in notices:
            summary = notice.summary
            if summary is None:
                continue
            if notice.kind == "recorded":
                self.received += 1
                if "error" in summary.severities:
                    self.with_errors += 1
                changed[summary.id] = summary
            elif notice.kind == "held":
                changed[summary.id] = summary
        return list(changed.values())

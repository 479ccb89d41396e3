"""The messageIds the history has seen, so that a redelivery is named: the newest ones only."""

from __future__ import annotations

import threading

# messageIds remembered: the newest ones (at least half this many), so memory stays bounded.
REMEMBERED_MESSAGES = 100_000


class Messages:
    """messageId -> (first exchange, when, deliveries since). Touched by the event loop and the
    reader threads (redelivery) and by start-up's recall: every change under one lock."""

    def __init__(self, size: int = REMEMBERED_MESSAGES) -> None:
        self.size = size
        self._newer: dict[int, tuple[str, float, int]] = {}
        self._older: dict[int, tuple[str, float, int]] = {}
        self._lock = threading.Lock()

    def remember(self, message_id: str, exchange_id: str, when: float) -> tuple[str, float, int] | None:
        """The one place arrivals are recorded: None for a first arrival, else (first, when, n)."""
        key = hash(message_id)
        with self._lock:
            known = self._newer.get(key) or self._older.get(key)
            if known is None:
                # Two generations, the older dropped whole: deleting a dict's oldest entry one at a
                # time makes each next lookup of the oldest walk past the deleted ones.
                if len(self._newer) >= self.size // 2:
                    self._older, self._newer = self._newer, {}
                self._newer[key] = (exchange_id, when, 0)
                return None
            known = self._newer[key] = (known[0], known[1], known[2] + 1)
            return known

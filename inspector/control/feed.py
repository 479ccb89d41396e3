"""The hub's notices, numbered, for the control API's live stream.

Every notice gets the next number of this run (`run` changes with each start of the
server), is encoded once and kept in a ring of the last KEPT, so a viewer that reconnects
with the last number it saw gets exactly what it missed. A viewer that asks for more than
the ring still holds, or for another run, is told to resync (reload what it shows)
first. Each viewer has a queue of at most QUEUED notices: one too slow to keep up is
sent a resync notice and dropped, never buffered without bound.

The notices of SEND_EVERY seconds go out as one WebSocket message, one JSON document a
line: at a thousand requests a second, ten viewers cost the receiver 500 writes a
second, not twenty thousand; an arrival reaches a viewer at most that much later.
"arrived" is not sent: an exchange is shown once it is held or recorded.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from collections.abc import Callable
from typing import Any

import orjson

from ..core.history.format import summary_doc
from ..core.hub import Hub, Notice

KEPT = 50_000
QUEUED = 2_000
SEND_EVERY = 0.02
EXCHANGE_NOTICES = ("arrived", "held", "released", "recorded")


def notice_doc(hub: Hub, notice: Notice, state: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A notice as JSON: about an exchange, its id and summary; else the new state."""
    doc: dict[str, Any] = {"kind": notice.kind}
    if notice.kind in EXCHANGE_NOTICES and notice.exchange is not None:
        summary = notice.summary or notice.exchange.summary()
        doc.update(exchange=notice.exchange.id, summary=summary_doc(summary))
    else:
        doc["state"] = state()
    return doc


class Viewer:
    """One live stream's queue of messages (notices, a line each); `None` ends it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.queue: asyncio.Queue[tuple[bytes, int] | None] = asyncio.Queue()
        self.behind = 0  # notices queued and not yet sent

    def offer(self, lines: list[bytes]) -> bool:
        """Queue notices as one message; False when the viewer is too far behind (it is then ended)."""
        if self.behind + len(lines) > QUEUED:
            return False
        self.behind += len(lines)
        self.queue.put_nowait((b"\n".join(lines), len(lines)))
        return True

    def sent(self, count: int) -> None:
        self.behind -= count


class Feed:
    """Subscribed to the hub for the server's lifetime; viewers come and go."""

    def __init__(self, hub: Hub, state: Callable[[], dict[str, Any]]) -> None:
        self.hub = hub
        self.state = state
        self.run = secrets.token_hex(6)
        self.last = 0
        self.kept: deque[tuple[int, bytes]] = deque(maxlen=KEPT)
        self.viewers: set[Viewer] = set()
        self._turn: list[bytes] = []  # the notices of the last SEND_EVERY seconds, sent together
        self._unsubscribe = hub.subscribe(self._heard)

    def close(self) -> None:
        self._unsubscribe()
        for viewer in list(self.viewers):
            self.drop(viewer, "the inspector is stopping")

    def _heard(self, notice: Notice) -> None:
        if notice.kind == "arrived":
            return
        self.last += 1
        # orjson's bytes keep the 4 KiB it wrote into; the ring keeps an exact copy, so 50,000
        # notices cost their own size (about 30 MB of analytics.js events), not 200-400 MB.
        encoded = bytes(memoryview(orjson.dumps({"id": self.last, "run": self.run,
                                                 **notice_doc(self.hub, notice, self.state)})))
        self.kept.append((self.last, encoded))
        if not self._turn:
            asyncio.get_running_loop().call_later(SEND_EVERY, self._send_turn)
        self._turn.append(encoded)

    def _send_turn(self) -> None:
        lines, self._turn = self._turn, []
        for viewer in list(self.viewers):
            if not viewer.offer(lines):
                self.drop(viewer, f"more than {QUEUED} notices behind")

    def resync(self, why: str) -> bytes:
        return orjson.dumps({"id": self.last, "run": self.run, "kind": "resync", "why": why})

    def drop(self, viewer: Viewer, why: str) -> None:
        self.viewers.discard(viewer)
        viewer.queue.put_nowait((self.resync(why), 0))
        viewer.queue.put_nowait(None)

    def join(self, name: str, after: int | None, run: str | None) -> Viewer:
        """A new viewer; with `after` (and the `run` it came from), what it missed first."""
        viewer = Viewer(name)
        if after is not None:
            oldest = self.kept[0][0] if self.kept else self.last + 1
            if run != self.run or after > self.last:
                viewer.offer([self.resync("the inspector restarted")])
            elif after + 1 < oldest:
                viewer.offer([self.resync(f"{oldest - after - 1} notices are no longer kept")])
            else:
                missed = [encoded for number, encoded in self.kept if number > after]
                if not viewer.offer(missed):
                    viewer.offer([self.resync(f"{len(missed)} notices missed")])
        self.viewers.add(viewer)
        return viewer

    def leave(self, viewer: Viewer) -> None:
        self.viewers.discard(viewer)

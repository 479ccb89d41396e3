"""Summaries of one shard, held in columns: about 150 bytes per exchange instead of kilobytes.

A `Block` keeps, per exchange, its id (26 bytes), arrival time (8), one number naming its
*facet* (4), one string of its people (userIds, anonymousIds, messageIds; a failed
answer's message) and, for Event Delivery, the deciding answer's latency and the time it
was held (8 each). A facet is everything with few distinct values: method, path, status,
event types and names, API key, finding codes and severities, redelivery count, held, has
a body, kind, the deciding answer's status and error, a Tracking API call's plan fates.
Facets are interned in one `Facets` table per history, so a query on them is decided once
per facet, not once per exchange. A `Summary` is made only for the rows a search returns.
"""

from __future__ import annotations

import bisect
import math
import threading
from array import array
from collections.abc import Callable
from typing import Any

from ..model import Summary

ID_SIZE = 26
Facet = tuple[Any, ...]  # FACET_FIELDS, in order
FACET_FIELDS = ("method", "path", "status", "types", "names", "key", "codes", "severities",
                "redelivery", "held", "body", "kind",
                "said",  # the deciding answer's (status, error) for Event Delivery; None: unanswered
                "fates")  # of a Tracking API call: (events blocked, events with fields omitted) by the plan
KIND, SAID, FATES = (FACET_FIELDS.index(name) for name in ("kind", "said", "fates"))
NO_FATES = (0, 0)
# Separators inside a row's people string; stripped from the values themselves.
_EVENT, _KIND = "\x1e", "\x1f"
_CLEAN = str.maketrans({_EVENT: "\ufffd", _KIND: "\ufffd"})


def _person(value: Any) -> str:
    """A value for the people string, without its separators."""
    if not isinstance(value, str):
        return ""
    return value.translate(_CLEAN) if _EVENT in value or _KIND in value else value


def people_of(events: list[dict[str, Any]], source: Any, message: str | None = None) -> str:
    """The people string of a row: userIds, anonymousIds, messageIds, the source call, the label,
    and a failed answer's message (one value a row, unlike a facet's)."""
    parts = [_EVENT.join([_person(e.get("userId")) for e in events]),
             _EVENT.join([_person(e.get("anonymousId")) for e in events]),
             _EVENT.join([_person(e.get("messageId")) for e in events]),
             _person(source),
             next((_person(e.get("label")) for e in events if e.get("label")), "")]
    if message is not None:
        parts.append(_person(message))
    return _KIND.join(parts)


class Facets:
    """The distinct facets of a history, each stored once; a query's verdict is cached per facet."""

    def __init__(self) -> None:
        self.rows: list[Facet] = []
        self._index: dict[Facet, int] = {}
        self._lock = threading.Lock()  # the receiver and the writer thread both add facets

    def number(self, facet: Facet) -> int:
        found = self._index.get(facet)
        if found is None:
            with self._lock:
                found = self._index.get(facet)
                if found is None:
                    self.rows.append(facet)
                    found = self._index[facet] = len(self.rows) - 1
        return found

    def verdicts(self, match: Callable[[Summary], bool], time: float) -> Callable[[int], bool]:
        """Whether `match` holds for each facet, computed on first use; `time` stands in for any
        arrival time the query accepts."""
        cache: dict[int, bool] = {}

        def verdict(number: int) -> bool:
            found = cache.get(number)
            if found is None:
                found = cache[number] = bool(match(summary(self.rows[number], "", time, "")))
            return found

        return verdict


def summary(facet: Facet, exchange_id: str, time: float, people: str, text: str = "") -> Summary:
    method, path, status, types, names, key, codes, severities, redelivery, held, body, kind, _, _ = facet
    parts = people.split(_KIND) if people else []
    source = parts[3] if len(parts) > 3 else ""
    label = parts[4] if len(parts) > 4 else ""
    if types and parts:  # a facet's stand-in (for a verdict) has no people
        users, anons, messages = (tuple(part.split(_EVENT)) for part in parts[:3])
    else:
        users = anons = messages = ()
    return Summary(exchange_id, time, method, path, status, types, names, users, anons, messages,
                   key, codes, severities, redelivery, held, body, text, kind, source, label)


class Block:
    """The summaries of one shard, oldest first. Open while its shard is, frozen after.

    Threads: the adding thread appends to the open block and freezes it; search and warm-up
    threads read any block meanwhile (an append grows each column before `count`, and
    `row_people` reads `people` once, so a freeze between two reads is harmless); a listed
    block's columns are filled once, under the history's lock. The writer never changes a
    frozen block: it replaces it in the history's list with the one it built.
    """

    __slots__ = (
        "count",
        "facets",
        "first_id",
        "first_time",
        "frozen",
        "holds",
        "ids",
        "kinds",
        "last_id",
        "last_time",
        "latency",
        "loaded",
        "number",
        "offsets",
        "opaque",
        "ordered",
        "people",
        "plain",
        "session",
        "times",
    )

    def __init__(self, session: str, number: int) -> None:
        self.session, self.number = session, number
        self.ids: bytes | bytearray = bytearray()  # bytes once frozen
        self.times = array("d")
        self.facets = array("I")
        self.people: Any = []  # a list while open; one string with `offsets` once frozen
        self.offsets = array("I")
        self.latency = array("d")  # the deciding answer's seconds (NaN: none), for Event Delivery
        self.holds = array("d")  # seconds held by a person before the answer (0: not held)
        self.frozen = False
        self.loaded = True  # False: only the shard list's entry is known, the columns are on disk
        self.count = 0
        self.first_id = self.last_id = ""
        self.first_time = self.last_time = 0.0
        self.kinds: set[int] = set()  # facet numbers present, to skip a block a query cannot match
        # Arrival times and ids never go down from row to row, so a time span or an id is found by
        # binary search. A held request is kept when answered, after later arrivals: then they are
        # scanned. `first_id`/`last_id` are the least and greatest ids all the same.
        self.ordered = True
        # Whether a body may be kept as base64, which free text cannot find in the file's bytes.
        self.opaque = True
        self.plain: bool | None = None  # the people string is lower case already (None: not known yet)

    @classmethod
    def listed(cls, session: str, entry: dict[str, Any]) -> Block:
        """A block known from its session's shard list; columns read on first use."""
        block = cls(session, int(entry["shard"]))
        block.loaded, block.frozen = False, True
        block.count = int(entry["count"])
        block.first_id, block.last_id = str(entry["first"]), str(entry["last"])
        block.first_time, block.last_time = float(entry["firstTime"]), float(entry["lastTime"])
        block.opaque = entry.get("opaque") is not False
        return block

    def add(self, exchange_id: str, time: float, facet: int, people: str, latency: float = math.nan,
            held: float = 0.0) -> int:
        if not self.count:
            self.first_id, self.last_id, self.first_time = exchange_id, exchange_id, time
        elif time < self.times[-1] or exchange_id < self.last_id:
            self.ordered = False
            self.first_id, self.first_time = min(self.first_id, exchange_id), min(self.first_time, time)
        self.last_id, self.last_time = max(exchange_id, self.last_id), max(time, self.last_time)
        self.ids += exchange_id.encode("ascii")
        self.times.append(time)
        self.facets.append(facet)
        self.people.append(people)
        self.latency.append(latency)
        self.holds.append(held)
        self.kinds.add(facet)
        self.count += 1
        return self.count - 1

    def freeze(self) -> None:
        """Compact the open columns: one string of people with offsets."""
        if self.frozen:
            return
        self.offsets = array("I", [0])
        total = 0
        for text in self.people:
            total += len(text)
            self.offsets.append(total)
        self.people = "".join(self.people)
        self.ids = bytes(self.ids)
        self.frozen = True

    def id(self, row: int) -> str:
        return self.ids[row * ID_SIZE:(row + 1) * ID_SIZE].decode("ascii")

    def row_people(self, row: int) -> str:
        people = self.people  # a list until frozen; a search thread may read while the writer freezes
        if isinstance(people, list):
            return str(people[row])
        return str(people[self.offsets[row]:self.offsets[row + 1]])

    def find(self, exchange_id: str) -> int | None:
        """The row of an id, or None."""
        key = exchange_id.encode("ascii", "replace")
        if not self.ordered:
            at = self.ids.find(key)
            while at >= 0 and at % ID_SIZE:
                at = self.ids.find(key, at + 1)
            return at // ID_SIZE if at >= 0 and len(key) == ID_SIZE else None
        low, high = 0, self.count
        while low < high:
            middle = (low + high) // 2
            if self.ids[middle * ID_SIZE:(middle + 1) * ID_SIZE] < key:
                low = middle + 1
            else:
                high = middle
        return low if low < self.count and self.id(low) == exchange_id else None

    def rows_holding(self, needles: tuple[tuple[str, str], ...]) -> list[int] | None:
        """The rows (ascending) whose people, or id, hold every needle (see Query.row_needles),
        found with string searches over the whole column; None when only a scan can tell."""
        if not self.frozen or not self.loaded:
            return None
        if self.plain is None:
            self.plain = self.people == self.people.lower()
        people = self.people if self.plain else self.people.lower()
        if len(people) != len(self.people):
            return None  # lower case changed the length: offsets no longer line up
        found: set[int] | None = None
        for where, piece in needles:
            rows = set()
            if where == "id":
                key, ids = piece.upper().encode("ascii"), self.ids
                at = ids.find(key)
                while at >= 0:
                    if at % ID_SIZE + len(key) <= ID_SIZE:
                        rows.add(at // ID_SIZE)
                    at = ids.find(key, at + 1)
            else:
                at = people.find(piece)
                while at >= 0:
                    row = bisect.bisect_right(self.offsets, at) - 1
                    rows.add(row)
                    at = people.find(piece, max(at + 1, self.offsets[row + 1]))
            found = rows if found is None else found & rows
            if not found:
                return []
        return sorted(found or ())

    def messages(self, row: int) -> list[str]:
        """The messageIds of a row's events."""
        return self.row_people(row).split(_KIND)[2].split(_EVENT)

    def source(self, row: int) -> str:
        """The source call a delivery was made of, or ""."""
        parts = self.row_people(row).split(_KIND)
        return parts[3] if len(parts) > 3 else ""

    def message(self, row: int) -> str | None:
        """The message of a row's failed answer, if it had one."""
        parts = self.row_people(row).split(_KIND)
        return parts[5] if len(parts) > 5 else None

    def summary(self, row: int, table: Facets) -> Summary:
        return summary(table.rows[self.facets[row]], self.id(row), self.times[row], self.row_people(row))

    def fill(self, ids: bytes, times: array[float], facets: array[int], people: str,
             offsets: array[int], latency: array[float], holds: array[float]) -> None:
        """Take the columns read from the summary file."""
        count = len(times)
        self.ids, self.times, self.facets, self.people, self.offsets = ids, times, facets, people, offsets
        self.latency, self.holds = latency, holds
        self.kinds = set(facets)
        self.ordered = times == array("d", sorted(times))  # in C: a million rows are read at start
        self.count = count
        if count:
            self.first_id, self.last_id = self.id(0), self.id(count - 1)
            self.first_time, self.last_time = min(times), max(times)
        self.frozen = self.loaded = True

"""Summaries of one shard, held in columns: about 130 bytes per exchange instead of kilobytes.

A `Block` keeps, per exchange, its id (26 bytes), arrival time (8), one number naming its
*facet* (4) and one string of its people (userIds, anonymousIds, messageIds). A facet is
everything with few distinct values: method, path, status, event types and names, API
key, finding codes and severities, redelivery count, held, has a body. Facets are
interned in one `Facets` table per history, so a query on them is decided once per facet,
not once per exchange. A `Summary` is made only for the rows a search returns.
"""

from __future__ import annotations

import base64
import bisect
import sys
import threading
from array import array
from collections.abc import Callable
from typing import Any

from ..model import Summary

ID_SIZE = 26
Facet = tuple[Any, ...]  # (method, path, status, types, names, key, codes, severities, redelivery, held, body, kind)
FACET_FIELDS = ("method", "path", "status", "types", "names", "key", "codes", "severities",
                "redelivery", "held", "body", "kind")
KIND = FACET_FIELDS.index("kind")
# Separators inside a row's people string; stripped from the values themselves.
_EVENT, _KIND = "\x1e", "\x1f"
_CLEAN = str.maketrans({_EVENT: "\ufffd", _KIND: "\ufffd"})


def is_exchange(doc: Any) -> bool:
    """A document the history can show: an object with the fields every exchange has."""
    return (isinstance(doc, dict) and isinstance(doc.get("id"), str) and len(doc["id"]) == ID_SIZE
            and doc["id"].isascii() and isinstance(doc.get("time"), (int, float))
            and isinstance(doc.get("method"), str) and isinstance(doc.get("path"), str)
            and isinstance(doc.get("events", []), list) and isinstance(doc.get("findings", []), list))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _interned(values: Any) -> tuple[str, ...]:
    return tuple(sys.intern(v) for v in values)


def _field(items: list[dict[str, Any]], name: str) -> tuple[str, ...]:
    """Each item's `name`, interned ("" when it is not a string)."""
    return tuple([sys.intern(v) if isinstance(v := item.get(name), str) else "" for item in items])


def _person(value: Any) -> str:
    """A value for the people string, without its separators."""
    if not isinstance(value, str):
        return ""
    return value.translate(_CLEAN) if _EVENT in value or _KIND in value else value


def row_of(doc: dict[str, Any]) -> tuple[str, float, Facet, str]:
    """An exchange's document as (id, time, facet, people); called for every exchange kept."""
    events = [e for e in doc.get("events") or () if isinstance(e, dict)]
    findings = [f for f in doc.get("findings") or () if isinstance(f, dict)]
    answer, auth, redelivery = doc.get("response"), doc.get("auth"), doc.get("redelivery")
    body = bool(doc.get("body") or doc.get("bodyBase64"))
    facet = (sys.intern(doc["method"]), sys.intern(doc["path"]),
             answer.get("status") if isinstance(answer, dict) else None,
             _field(events, "type"), _field(events, "event"),
             sys.intern(auth["key"]) if isinstance(auth, dict) and isinstance(auth.get("key"), str) else None,
             _field(findings, "code"), _field(findings, "severity"),
             redelivery.get("n", 0) if isinstance(redelivery, dict) else 0,
             bool(doc.get("held")), body, sys.intern(_text(doc.get("kind"))))
    link = doc.get("link")
    people = _KIND.join([_EVENT.join([_person(e.get("userId")) for e in events]),
                         _EVENT.join([_person(e.get("anonymousId")) for e in events]),
                         _EVENT.join([_person(e.get("messageId")) for e in events]),
                         _person(link.get("source")) if isinstance(link, dict) else "",
                         next((_person(e.get("label")) for e in events if e.get("label")), "")])
    return doc["id"], float(doc["time"]), facet, people


def is_opaque(doc: dict[str, Any]) -> bool:
    """Whether the body is kept as base64 (not valid UTF-8): free text must decode it."""
    decoded = doc.get("decoded")
    return "bodyBase64" in doc or (isinstance(decoded, dict) and "bodyBase64" in decoded)


def body_text(doc: dict[str, Any]) -> str:
    """The body as free-text search reads it: decoded, when it was sent compressed."""
    doc = doc.get("decoded") or doc
    if "bodyBase64" in doc:
        try:
            return base64.b64decode(doc["bodyBase64"]).decode("utf-8", "replace")
        except (ValueError, TypeError):
            return ""
    return _text(doc.get("body"))


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
    method, path, status, types, names, key, codes, severities, redelivery, held, body, kind = facet
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
    """The summaries of one shard, oldest first. Open while its shard is, frozen after."""

    __slots__ = (
        "count",
        "facets",
        "first_id",
        "first_time",
        "frozen",
        "ids",
        "kinds",
        "last_id",
        "last_time",
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

    def add(self, exchange_id: str, time: float, facet: int, people: str) -> int:
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

    def summary(self, row: int, table: Facets) -> Summary:
        return summary(table.rows[self.facets[row]], self.id(row), self.times[row], self.row_people(row))

    def entry(self) -> dict[str, Any]:
        """This block's line in its session's shard list."""
        return {"shard": self.number, "count": self.count, "first": self.first_id, "last": self.last_id,
                "firstTime": self.first_time, "lastTime": self.last_time, "opaque": self.opaque}

    def to_doc(self, table: Facets) -> dict[str, Any]:
        """The summary file's one document: the columns, with this shard's facets listed once."""
        self.freeze()
        local: dict[int, int] = {}
        for number in self.facets:
            local.setdefault(number, len(local))
        return {"ids": self.ids.decode("ascii"), "times": list(self.times),
                "facets": [list(table.rows[n]) for n in local],
                "rows": [local[n] for n in self.facets],
                "people": self.people, "offsets": list(self.offsets)}

    def fill(self, doc: dict[str, Any], table: Facets) -> None:
        """Read the columns from a summary file's document; raises ValueError if it is not one."""
        try:
            numbers = [table.number(_facet(f)) for f in doc["facets"]]
            ids = doc["ids"].encode("ascii")
            times = array("d", doc["times"])
            facets = array("I", [numbers[n] for n in doc["rows"]])
            offsets = array("I", doc["offsets"])
            people = doc["people"]
        except (KeyError, TypeError, IndexError, ValueError, UnicodeEncodeError, OverflowError) as err:
            raise ValueError(f"not a summary file ({type(err).__name__})") from None
        count = len(times)
        if (len(ids) != count * ID_SIZE or len(facets) != count or len(offsets) != count + 1
                or not isinstance(people, str) or offsets[-1] != len(people)):
            raise ValueError("not a summary file (columns differ in length)")
        self.ids, self.times, self.facets, self.people, self.offsets = ids, times, facets, people, offsets
        self.kinds = set(facets)
        self.ordered = all(times[i] <= times[i + 1] for i in range(count - 1))
        self.count = count
        if count:
            self.first_id, self.last_id = self.id(0), self.id(count - 1)
            self.first_time, self.last_time = min(times), max(times)
        self.frozen = self.loaded = True


def _facet(values: list[Any]) -> Facet:
    method, path, status, types, names, key, codes, severities, redelivery, held, body, *rest = values
    return (sys.intern(method), sys.intern(path), status, _interned(types), _interned(names),
            sys.intern(key) if key is not None else None, _interned(codes), _interned(severities),
            int(redelivery), bool(held), bool(body), sys.intern(str(rest[0]) if rest else ""))

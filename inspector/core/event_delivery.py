"""Event Delivery, as Segment shows it for a destination, over what went through the inspector.

For every kept exchange the delivery is the endpoint's answer when the request went on
to one (forwarded, mirrored, reviewed), else the inspector's own answer to Segment. A
Tracking API call (`kind:source`) is left out: its events count once each, by their deliveries.
Over a window (a query, `since:24h` by default): delivered / retried / dropped counts
(segment_outcome), a timeline, the errors grouped by status and the endpoint's JSON
`message` (what Segment's view shows), and latency percentiles: the endpoint's, with the
time a request was held counted apart. Each group keeps the ids of its exchanges, newest
first, so a UI can open them. With a tracking plan acting as
Protocols' Schema Configuration, the events it blocked (never delivered) and those it
delivered with fields omitted are counted apart, by the source calls that carried them.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import compress
from typing import Any, Protocol

from .history.blocks import FATES, NO_FATES, SAID, Block, Facets
from .history.columns import fates_of, row_of
from .history.rows import Rows
from .model import segment_outcome
from .query import Query
from .text import inert

DEFAULT_WINDOW = "since:24h"
BARS = 30
INTERVALS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)  # seconds a bar
SPARKS = "▁▂▃▄▅▆▇█"
OUTCOMES = ("delivered", "retried", "dropped")


class Kept(Protocol):
    def documents(self, query: Query | None = None, newest_first: bool = True) -> Iterator[dict[str, Any]]: ...

    def rows(self, query: Query | None = None) -> Rows: ...


@dataclass(slots=True)
class Group:
    """Errors alike: the same status (or the same failure to answer) and the same message."""

    status: int | None
    error: str | None
    message: str | None
    outcome: str
    ids: list[str] = field(default_factory=list)  # newest first

    @property
    def label(self) -> str:
        said = str(self.status) if self.status is not None else (self.error or "no answer")
        return said + (f"  {self.message!r}" if self.message else "")

    def to_doc(self) -> dict[str, Any]:
        return {"status": self.status, "error": self.error, "message": self.message, "outcome": self.outcome,
                "count": len(self.ids), "ids": self.ids}


@dataclass(slots=True)
class Bar:
    start: float
    delivered: int = 0
    failed: int = 0


@dataclass
class DeliveryReport:
    query: str
    now: float
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    unanswered: int = 0
    groups: list[Group] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds, sorted
    holds: list[float] = field(default_factory=list)  # seconds each held request waited, sorted
    interval: int = INTERVALS[0]
    bars: list[Bar] = field(default_factory=list)
    sent: dict[int, float | None] = field(default_factory=dict)  # percentiles as another inspector sent them
    blocked: int = 0  # events the tracking plan kept from the destination
    omitted: int = 0  # events delivered with fields the tracking plan removed
    plan_ids: list[str] = field(default_factory=list)  # the source calls of both, newest first

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count_fates(self, call: str, fates: tuple[int, int]) -> None:
        """A Tracking API call's events the plan blocked and delivered with fields omitted (newest first)."""
        blocked, omitted = fates
        if blocked or omitted:
            self.blocked += blocked
            self.omitted += omitted
            self.plan_ids.append(call)

    def percentile(self, p: float) -> float | None:
        if self.sent:
            return self.sent.get(int(p))
        return percentile(self.latencies, p)

    @classmethod
    def from_doc(cls, doc: dict[str, Any], now: float | None = None) -> DeliveryReport:
        """A report as `to_doc` wrote it (the control API's), for a viewer attached to it."""
        report = cls(doc["query"], time.time() if now is None else now,
                     {outcome: int(doc[outcome]) for outcome in OUTCOMES}, int(doc["unanswered"]),
                     [Group(g["status"], g["error"], g["message"], g["outcome"], list(g["ids"]))
                      for g in doc["errors"]],
                     interval=int(doc["interval"]),
                     bars=[Bar(bar["start"], bar["delivered"], bar["failed"]) for bar in doc["timeline"]])
        report.sent = {int(key[1:]): None if value is None else value / 1000
                       for key, value in doc["latency_ms"].items()}
        hold = doc.get("hold_ms") or {}
        report.holds = [value / 1000 for value in hold.get("sent", ())]
        plan = doc.get("plan") or {}
        report.blocked, report.omitted = int(plan.get("blocked", 0)), int(plan.get("omitted", 0))
        report.plan_ids = list(plan.get("ids", []))
        return report

    def to_doc(self) -> dict[str, Any]:
        return {"query": self.query, "total": self.total, **self.counts, "unanswered": self.unanswered,
                "latency_ms": {f"p{p}": None if (v := self.percentile(p)) is None else round(v * 1000, 1)
                               for p in (50, 95, 99)},
                "hold_ms": {"count": len(self.holds),
                            "p50": None if (v := percentile(self.holds, 50)) is None else round(v * 1000, 1),
                            "max": round(self.holds[-1] * 1000, 1) if self.holds else None,
                            "sent": [round(self.holds[i] * 1000, 1) for i in _spread(len(self.holds))]},
                "interval": self.interval,
                "timeline": [{"start": bar.start, "delivered": bar.delivered, "failed": bar.failed}
                             for bar in self.bars],
                "errors": [group.to_doc() for group in self.groups],
                "plan": {"blocked": self.blocked, "omitted": self.omitted, "ids": self.plan_ids}}


def _spread(count: int, most: int = 101) -> list[int]:
    """Indexes of at most `most` sorted values, first and last included: a viewer attached
    over the control API gets the hold times' shape without every one of them."""
    if count <= most:
        return list(range(count))
    return sorted({round(i * (count - 1) / (most - 1)) for i in range(most)})


def percentile(ordered: list[float], p: float) -> float | None:
    """The `p`th percentile of sorted values (nearest rank), None when there are none."""
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def _interval(span: float) -> int:
    return next((seconds for seconds in INTERVALS if seconds * BARS >= span), INTERVALS[-1])


def aggregate(docs: Iterable[dict[str, Any]], query: str = "", now: float | None = None) -> DeliveryReport:
    """The Event Delivery summary of stored exchanges (newest first), as of `now`: made into the
    history's columns first, so that documents and kept rows are counted the one way."""
    table, block = Facets(), Block("", 0)
    for doc in reversed(list(docs)):
        exchange_id, when, facet, people, latency, held = row_of(doc)
        block.add(exchange_id, when, table.number(facet), people, latency, held)
    return aggregate_rows([(block, range(block.count))], table, query, now)


def aggregate_rows(parts: Iterable[tuple[Block, Sequence[int]]], table: Facets, query: str = "",
                   now: float | None = None) -> DeliveryReport:
    """The summary of rows of the history's columns (newest block first, rows in stored order),
    as of `now`. What a facet decides (outcome, status, error) is worked out once per facet and
    counted per facet; only a failed row is visited alone, for its id and message."""
    report = DeliveryReport(query, time.time() if now is None else now)
    kinds: dict[int, tuple[str, int | None, str | None] | None] = {}  # None: not answered yet
    ok: dict[int, bool] = {}  # delivered
    bad: dict[int, bool] = {}  # retried or dropped
    groups: dict[tuple[Any, ...], Group] = {}
    delivered: list[tuple[Block, Sequence[float]]] = []  # arrival times, for the timeline
    failed: list[tuple[Block, Sequence[float]]] = []
    for block, rows in parts:
        for number in block.kinds - kinds.keys():
            said = table.rows[number][SAID]
            decided = kinds[number] = None if said is None else (segment_outcome(said[0]), said[0], said[1])
            ok[number] = decided is not None and decided[0] == "delivered"
            bad[number] = decided is not None and decided[0] != "delivered"
        facets: Sequence[int]
        times: Sequence[float]
        latency: Sequence[float]
        holds: Sequence[float]
        if isinstance(rows, range):
            facets, times = block.facets[rows.start:rows.stop], block.times[rows.start:rows.stop]
            latency, holds = block.latency[rows.start:rows.stop], block.holds[rows.start:rows.stop]
        else:
            facets, times = [block.facets[r] for r in rows], [block.times[r] for r in rows]
            latency, holds = [block.latency[r] for r in rows], [block.holds[r] for r in rows]
        for number, count in Counter(facets).items():
            kind = kinds[number]
            if kind is None:
                report.unanswered += count
            else:
                report.counts[kind[0]] += count
        report.latencies += [seconds for seconds in latency if seconds == seconds]  # NaN: no latency
        report.holds += [seconds for seconds in holds if seconds]
        delivered.append((block, list(compress(times, map(ok.__getitem__, facets)))))
        failed_at = list(compress(range(len(facets)), map(bad.__getitem__, facets)))
        failed.append((block, [times[i] for i in failed_at]))
        for index in reversed(failed_at):
            row = rows[index]
            outcome, status, error = kinds[facets[index]] or ("retried", None, None)  # `bad`: never None
            key = (status, error, block.message(row))
            group = groups.get(key)
            if group is None:
                group = groups[key] = Group(*key, outcome)
            group.ids.append(block.id(row))
    report.latencies.sort()
    report.holds.sort()
    report.groups = sorted(groups.values(), key=lambda g: -len(g.ids))
    oldest = min((min(arrivals) for _, arrivals in delivered + failed if arrivals), default=report.now)
    report.interval = _interval(report.now - oldest)
    first = (math.floor(report.now / report.interval) - BARS + 1) * report.interval
    report.bars = [Bar(first + index * report.interval) for index in range(BARS)]
    for arrivals_of, field_name in ((delivered, "delivered"), (failed, "failed")):
        tally: Counter[int] = Counter()
        for block, arrivals in arrivals_of:
            low, high = (int((when - first) // report.interval) for when in (block.first_time, block.last_time))
            if low == high:  # the whole shard falls in one bar
                tally[low] += len(arrivals)
            else:
                tally.update([int((when - first) // report.interval) for when in arrivals])
        for index, count in tally.items():
            if 0 <= index < BARS:
                setattr(report.bars[index], field_name, count)
    return report


def summarize(kept: Kept, query: Query, now: float | None = None) -> DeliveryReport:
    """Event Delivery over the kept exchanges the query matches, each event once: by its delivery,
    not also by the Tracking API call (`kind:source`) an SDK sent it in. Read from the history's
    columns (status, error, message, latency, hold, plan fates), so a million exchanges cost no
    shard read; free text reads the documents it must."""
    if query.free_text:  # found by reading bodies: the documents are read anyway
        report = aggregate(kept.documents(query.without_sources()), query.text, now)
        for doc in kept.documents(query.only_sources()):
            report.count_fates(doc["id"], fates_of(doc))
        return report
    found = kept.rows(query.without_sources())
    report = aggregate_rows(reversed(found.parts), found.table, query.text, now)
    sources = kept.rows(query.only_sources())
    for block, matched in reversed(sources.parts):
        for row in reversed(matched):
            fates = sources.table.rows[block.facets[row]][FATES]
            if fates != NO_FATES:
                report.count_fates(block.id(row), fates)
    return report


def sparkline(values: list[int]) -> str:
    top = max(values, default=0)
    if top == 0:
        return SPARKS[0] * len(values)
    return "".join(" " if v == 0 else SPARKS[max(0, math.ceil(v * len(SPARKS) / top) - 1)] for v in values)


def interval_text(seconds: int) -> str:
    return f"{seconds // 86400} d" if seconds >= 86400 else f"{seconds // 3600} h" if seconds >= 3600 \
        else f"{seconds // 60} min"


def hold_text(report: DeliveryReport) -> str:
    """How long held requests waited, which the latency leaves out."""
    count = len(report.holds)
    return (f"{count:,} held {'request' if count == 1 else 'requests'}: p50 {ms(percentile(report.holds, 50))}, "
            f"max {ms(report.holds[-1])}, not in the latency")


def ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms"


def text(report: DeliveryReport) -> list[str]:
    """The summary as lines for a terminal, messages with their escapes made visible."""
    total = report.total
    share = f" ({report.counts['delivered'] / total:.1%} delivered)" if total else ""
    lines = [f"Event Delivery  {report.query or 'all'}  {total} answered"
             + (f", {report.unanswered} not answered yet" if report.unanswered else ""),
             "  ".join(f"{outcome} {report.counts[outcome]}" for outcome in OUTCOMES) + share,
             f"latency p50 {ms(report.percentile(50))}, p95 {ms(report.percentile(95))}, "
             f"p99 {ms(report.percentile(99))}" + (f"  ({hold_text(report)})" if report.holds else ""),
             f"delivered  |{sparkline([bar.delivered for bar in report.bars])}|  "
             f"{interval_text(report.interval)} a bar, last {BARS}",
             f"not deliv. |{sparkline([bar.failed for bar in report.bars])}|"]
    if report.blocked or report.omitted:
        lines.append(f"tracking plan: {report.blocked} events blocked, {report.omitted} delivered with fields "
                     f"omitted (newest call {report.plan_ids[0]})")
    if report.groups:
        lines.append("errors:")
    for group in report.groups:
        lines.append(f"  {len(group.ids):>6}  {group.outcome:<8} {group.label}  (newest {group.ids[0]})")
    return [inert(line) for line in lines]

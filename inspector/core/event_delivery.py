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
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from .history.blocks import FATES, NO_FATES, SAID
from .history.columns import fates_of, said_of
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
class Delivery:
    """One exchange's delivery: the answer that decided what Segment does."""

    id: str
    time: float
    status: int | None
    error: str | None
    message: str | None
    seconds: float | None  # the endpoint's latency (ours when no endpoint answered); None: only held
    outcome: str
    held: float = 0.0  # seconds the request was held before it was answered or sent on

    @classmethod
    def of(cls, doc: dict[str, Any]) -> Delivery | None:
        """From a stored exchange (see `said_of`); None while unanswered."""
        said = said_of(doc)
        if said is None:
            return None
        return cls(doc["id"], doc["time"], said.status, said.error, said.message, said.seconds,
                   segment_outcome(said.status), said.held)


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
    """The Event Delivery summary of stored exchanges (newest first), as of `now`."""
    return aggregate_deliveries((Delivery.of(doc) for doc in docs), query, now)


def aggregate_deliveries(deliveries: Iterable[Delivery | None], query: str = "",
                         now: float | None = None) -> DeliveryReport:
    """The summary of deliveries, newest first (None: an exchange not answered yet), as of `now`."""
    report = DeliveryReport(query, time.time() if now is None else now)
    groups: dict[tuple[Any, ...], Group] = {}
    delivered, failed = array("d"), array("d")  # arrival times, for the timeline
    for delivery in deliveries:
        if delivery is None:
            report.unanswered += 1
            continue
        report.counts[delivery.outcome] += 1
        if delivery.status is not None and delivery.seconds is not None:
            report.latencies.append(delivery.seconds)
        if delivery.held:
            report.holds.append(delivery.held)
        if delivery.outcome == "delivered":
            delivered.append(delivery.time)
        else:
            failed.append(delivery.time)
            key = (delivery.status, delivery.error, delivery.message)
            group = groups.get(key)
            if group is None:
                group = groups[key] = Group(*key, delivery.outcome)
            group.ids.append(delivery.id)
    report.latencies.sort()
    report.holds.sort()
    report.groups = sorted(groups.values(), key=lambda g: -len(g.ids))
    oldest = min(min(delivered, default=report.now), min(failed, default=report.now))
    report.interval = _interval(report.now - oldest)
    first = (math.floor(report.now / report.interval) - BARS + 1) * report.interval
    report.bars = [Bar(first + index * report.interval) for index in range(BARS)]
    for times, field_name in ((delivered, "delivered"), (failed, "failed")):
        counts = Counter(int((when - first) // report.interval) for when in times)
        for index, count in counts.items():
            if 0 <= index < BARS:
                setattr(report.bars[index], field_name, count)
    return report


def deliveries(rows: Rows) -> Iterator[Delivery | None]:
    """The deliveries of matched rows, newest first, from the history's columns alone: no shard
    is read."""
    table = rows.table
    for block, matched in reversed(rows.parts):
        facets, times, latency, holds = block.facets, block.times, block.latency, block.holds
        for row in reversed(matched):
            said = table.rows[facets[row]][SAID]
            if said is None:
                yield None
                continue
            status, error = said
            outcome = segment_outcome(status)
            seconds = latency[row]
            yield Delivery(block.id(row) if outcome != "delivered" else "", times[row], status, error,
                           block.message(row) if outcome != "delivered" else None,
                           None if seconds != seconds else seconds, outcome, holds[row])


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
    report = aggregate_deliveries(deliveries(kept.rows(query.without_sources())), query.text, now)
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

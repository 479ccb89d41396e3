"""A stored exchange as a row of the history's columns: what the list, the search language
and Event Delivery read of it, so that none of them reads a shard file."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Any

from ..model import Exchange, Summary, message_of, segment_outcome
from .blocks import NO_FATES, Facet, people_of, summary
from .format import body_of, body_text, encode


def _field(items: list[dict[str, Any]], name: str) -> tuple[str, ...]:
    """Each item's `name`, interned ("" when it is not a string)."""
    return tuple([sys.intern(v) if isinstance(v := item.get(name), str) else "" for item in items])


@dataclass(frozen=True, slots=True)
class Said:
    """The answer that decided what Segment does with an exchange, as Event Delivery counts it:
    the endpoint's when the request went on to one, else ours."""

    status: int | None
    error: str | None  # why no endpoint answered ("no answer within 5 s")
    message: str | None  # the failed answer's JSON `message`, what Segment's view shows
    seconds: float | None  # the endpoint's latency (ours when no endpoint answered); None: only held
    held: float  # seconds a person held the request: not the endpoint's latency


def said_of(doc: dict[str, Any]) -> Said | None:
    """A stored exchange's deciding answer; None while it is unanswered. Only a failed answer's
    body is read, for its `message`."""
    destination, answer = doc.get("destination"), doc.get("response")
    if not isinstance(answer, dict) and not isinstance(destination, dict):
        return None
    total = doc.get("duration") or 0.0
    chosen = answer.get("chosenBy") if isinstance(answer, dict) else None
    by_hold = isinstance(chosen, str) and chosen.startswith("hold")
    said: dict[str, Any]
    seconds: float | None
    if isinstance(destination, dict):
        said, seconds, error = destination, destination.get("duration") or 0.0, destination.get("error")
    else:
        said, seconds, error = answer or {}, None if by_hold else total, None
    status = said.get("status")
    status = status if isinstance(status, int) else None
    message = None
    if segment_outcome(status) != "delivered" and (said.get("body") or said.get("bodyBase64")):
        message = message_of(body_of(said))
    return Said(status, None if status is not None or not isinstance(error, str) else sys.intern(error),
                message, seconds, max(0.0, total - (seconds or 0.0)) if by_hold else 0.0)


def fates_of(doc: dict[str, Any]) -> tuple[int, int]:
    """Of a Tracking API call, its events the tracking plan blocked, and those delivered with
    fields it omitted."""
    fates = [fate for fate in doc.get("pipeline") or () if isinstance(fate, dict)]
    return (sum(fate.get("fate") == "blocked" for fate in fates),
            sum(fate.get("fate") == "delivering" and bool(fate.get("detail")) for fate in fates))


Row = tuple[str, float, Facet, str, float, float]  # id, time, facet, people, latency (NaN: none), held


def row_of(doc: dict[str, Any]) -> Row:
    """An exchange's document as a row of the history's columns; called for every exchange kept."""
    events = [e for e in doc.get("events") or () if isinstance(e, dict)]
    findings = [f for f in doc.get("findings") or () if isinstance(f, dict)]
    answer, auth, redelivery = doc.get("response"), doc.get("auth"), doc.get("redelivery")
    said = said_of(doc)
    body = bool(doc.get("body") or doc.get("bodyBase64") or doc.get("bodyFile"))
    kind = doc.get("kind")
    facet = (sys.intern(doc["method"]), sys.intern(doc["path"]),
             answer.get("status") if isinstance(answer, dict) else None,
             _field(events, "type"), _field(events, "event"),
             sys.intern(auth["key"]) if isinstance(auth, dict) and isinstance(auth.get("key"), str) else None,
             _field(findings, "code"), _field(findings, "severity"),
             redelivery.get("n", 0) if isinstance(redelivery, dict) else 0,
             bool(doc.get("held")), body, sys.intern(kind if isinstance(kind, str) else ""),
             None if said is None else (said.status, said.error),
             fates_of(doc) if kind == "source" else NO_FATES)
    link = doc.get("link")
    people = people_of(events, link.get("source") if isinstance(link, dict) else "",
                       said.message if said is not None else None)
    # The latency Event Delivery counts: none for an answer never given (a timeout) or only held.
    seconds = said.seconds if said is not None and said.status is not None and said.seconds is not None else math.nan
    return doc["id"], float(doc["time"]), facet, people, seconds, said.held if said is not None else 0.0


def summary_of(exchange: Exchange) -> Summary:
    """The record the list shows and the search language matches, of an exchange in hand."""
    doc = encode(exchange)
    exchange_id, time, facet, people, _, _ = row_of(doc)
    return summary(facet, exchange_id, time, people, body_text(doc).lower())

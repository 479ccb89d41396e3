"""Segment between a source and a destination: what its Tracking API accepts, and what it
does to each event before a destination receives it.

The SDKs POST `{"batch": [...], "sentAt", "context", "integrations", "writeKey"?}` to
`/v1/batch` (or `/v1/import`), or one event to `/v1/<call>` (segment.md §3.5);
analytics.js uses `/v1/t`, `/v1/p`, ... and `/v1/b`. Segment
answers 200 unless the body is not JSON or over its limits (32 KB an event, 500 KB a
batch, 2500 events a batch), which get 400. Then, for each event in order: a `messageId`
seen within the dedupe window (at least 24 h, segment.md §3.6) is dropped; an event
whose `integrations` turn the destination off is not delivered (common.md: `All` is the
fallback, destinations not set to false receive data); the rest get Segment's envelope
(common.md timestamps: `receivedAt`, `originalTimestamp`, and `timestamp` corrected
for the client's clock skew) and are delivered one by one. Nothing here speaks HTTP.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from .checks import lint_batch, lint_event, shown
from .model import Exchange, Fate, Finding, Link, message_of, segment_outcome

CALLS = ("track", "identify", "page", "screen", "group", "alias")
# analytics.js posts one event to `<apiHost>/<first letter of its type>`, a batch to `<apiHost>/b`.
SHORT = {call[0]: call for call in CALLS}
BATCH_PATHS = ("/v1/batch", "/v1/import", "/v1/b")
PATHS = BATCH_PATHS + tuple(f"/v1/{call}" for call in (*CALLS, *SHORT))

MAX_EVENT = 32 * 1024  # bytes of one event (http-api docs; analytics-python's MAX_MSG_SIZE)
MAX_BATCH = 500 * 1024  # bytes of one batch request
MAX_BATCH_EVENTS = 2500
DEDUPE_WINDOW = 24 * 3600.0  # Segment's guaranteed minimum
SUCCESS = b'{"success":true}'


def parse_duration(value: int | float | str) -> float:
    """`86400`, `90s`, `30m`, `24h`, `7d`: seconds, more than 0."""
    if isinstance(value, str):
        text = value.strip().lower()
        scale = {"s": 1, "m": 60, "h": 3600, "d": 86400}.get(text[-1:])
        try:
            value = float(text[:-1] if scale else text) * (scale or 1)
        except ValueError:
            raise ValueError(f"not a duration: {value!r} (try 24h, 30m or 90s)") from None
    if value <= 0:
        raise ValueError("must be more than 0")
    return float(value)


class Refused(Exception):
    """The Tracking API answers this status with `{"message": ...}` and keeps nothing of the call."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(slots=True)
class Call:
    """One source call: its events as sent, the batch-level fields, the write key."""

    events: list[Any]
    write_key: str | None = None
    sent_at: Any = None
    context: Any = None
    integrations: Any = None
    call: str | None = None  # the call type a single-event path names

    def typed(self) -> list[Any]:
        """The events as sent, with the type a single-event path gives them."""
        return [dict(event, type=self.call) for event in self.events] if self.call else self.events


def read_call(path: str, data: Any, size: int, auth_key: str | None) -> Call:
    """The call a Tracking API body makes, or Refused with Segment's 400."""
    if not isinstance(data, dict):
        raise Refused(400, "the body must be a JSON object")
    if path in BATCH_PATHS:
        batch = data.get("batch")
        if not isinstance(batch, list):
            raise Refused(400, 'a batch needs "batch": an array of events')
        if size > MAX_BATCH:
            raise Refused(400, f"the batch is {size} bytes, over Segment's limit of 500 KB")
        if len(batch) > MAX_BATCH_EVENTS:
            raise Refused(400, f"the batch holds {len(batch)} events, over Segment's limit of {MAX_BATCH_EVENTS}")
        for index, event in enumerate(batch):
            if not isinstance(event, dict):
                raise Refused(400, f"event {index} of the batch is not a JSON object")
            event_size = len(orjson.dumps(event))
            if event_size > MAX_EVENT:
                raise Refused(400, f"event {index} of the batch is {event_size} bytes, over Segment's limit "
                              "of 32 KB an event")
        events, call = batch, None
    else:
        if size > MAX_EVENT:
            raise Refused(400, f"the event is {size} bytes, over Segment's limit of 32 KB")
        name = path.rsplit("/", 1)[-1]
        events, call = [data], SHORT.get(name, name)
    body_key = data.get("writeKey")
    write_key = auth_key or (body_key if isinstance(body_key, str) and body_key else None)
    return Call(events, write_key, data.get("sentAt"), data.get("context"), data.get("integrations"), call)


def check_write_key(write_key: str | None, accepted: frozenset[str]) -> None:
    """With write keys given, a call carrying none of them gets Segment's 401."""
    if accepted and write_key not in accepted:
        raise Refused(401, "no write key: send Basic base64('<writeKey>:') or \"writeKey\" in the body"
                      if not write_key else f"unknown write key {write_key[:40]!r}")


def iso(epoch: float) -> str:
    """Segment's timestamp format: UTC with milliseconds and a Z."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 time with a timezone (none means UTC), or None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _merged(outer: Any, inner: Any) -> Any:
    """The batch's object under the event's own: the event's keys win."""
    if isinstance(outer, dict) and isinstance(inner, dict):
        return {**outer, **inner}
    return inner if inner is not None else outer


def envelope(event: dict[str, Any], call: Call, received: float) -> dict[str, Any]:
    """The event as Segment delivers it: batch fields applied, times set, writeKey gone.

    `timestamp = receivedAt - (sentAt - originalTimestamp)` corrects a client clock that is
    off; without sentAt the client's timestamp is kept; without a timestamp, receivedAt.
    """
    out = {key: value for key, value in event.items() if key != "writeKey"}
    if call.call is not None:
        out["type"] = call.call
    for key, outer in (("context", call.context), ("integrations", call.integrations)):
        value = _merged(outer, out.get(key))
        if value is not None:
            out[key] = value
    if call.sent_at is not None:
        out["sentAt"] = call.sent_at
    if not out.get("messageId"):
        out["messageId"] = f"api-{uuid.uuid4()}"
    out["receivedAt"] = iso(received)
    sent = parse_time(out.get("sentAt"))
    if "timestamp" in out and out["timestamp"] is not None:
        out["originalTimestamp"] = original = out["timestamp"]
        happened = parse_time(original)
        if happened is None:
            out["timestamp"] = out["receivedAt"]
        elif sent is not None:
            out["timestamp"] = iso(received - (sent - happened).total_seconds())
    else:
        out["timestamp"] = out["receivedAt"]
    return out


def filtered(integrations: Any, destination: str) -> str | None:
    """Why `integrations` keeps the event from `destination`, or None: `All` is the fallback,
    the destination's own entry wins, and anything but false means on."""
    if not isinstance(integrations, Mapping):
        return None
    own = integrations.get(destination)
    if own is False:
        return f'integrations turn "{destination}" off'
    if own is None and integrations.get("All") is False:
        return f'integrations set "All": false and do not turn "{destination}" on'
    return None


def invalid(event: dict[str, Any], call: str | None) -> str | None:
    """Why Segment answers 200 and then drops the event (http-api docs, segment.md §3.5), or None."""
    kind = call or event.get("type")
    if kind not in CALLS:
        sent = f"type {shown(str(kind), 40)}" if "type" in event else "no type"
        return f"{sent}, not one of {', '.join(CALLS)}: Segment accepts the call, then drops the event"
    if not event.get("userId") and not event.get("anonymousId"):
        return "neither userId nor anonymousId: Segment accepts the call, then drops the event"
    if kind == "track" and not event.get("event"):
        return "a track without an event name: Segment accepts the call, then drops it"
    return None


class Dedupe:
    """messageIds accepted per source, each forgotten `window` seconds after it was first seen."""

    def __init__(self, window: float = DEDUPE_WINDOW) -> None:
        self.window = window
        self._seen: dict[tuple[str, str], float] = {}  # insertion order is arrival order

    def repeated(self, source: str, message_id: str, now: float) -> float | None:
        """When this messageId was first accepted within the window, or None (and it is now)."""
        cutoff = now - self.window
        while self._seen:
            oldest = next(iter(self._seen))
            if self._seen[oldest] >= cutoff:
                break
            del self._seen[oldest]
        key = (source, message_id)
        first = self._seen.get(key)
        if first is None:
            self._seen[key] = now
        return first


def process(call: Call, received: float, dedupe: Dedupe,
            destination: str) -> tuple[list[Fate], list[dict[str, Any]]]:
    """Dedupe, integrations and envelope, for each event in order: each event's fate, and the
    events to deliver."""
    fates: list[Fate] = []
    deliver: list[dict[str, Any]] = []
    source = call.write_key or ""
    for event in call.events:
        message_id = event.get("messageId")
        message_id = message_id if isinstance(message_id, str) else ""
        reason = invalid(event, call.call)
        if reason is not None:
            fates.append(Fate(message_id, "invalid", reason))
            continue
        first = dedupe.repeated(source, message_id, received) if message_id else None
        if first is not None:
            fates.append(Fate(message_id, "deduplicated",
                                      f"messageId already accepted {received - first:.1f} s before"))
            continue
        reason = filtered(_merged(call.integrations, event.get("integrations")), destination)
        if reason is not None:
            fates.append(Fate(message_id, "filtered", reason))
            continue
        delivered = envelope(event, call, received)
        fates.append(Fate(delivered["messageId"], "delivering"))
        deliver.append(delivered)
    return fates, deliver


def lint_call(call: Call, now: float) -> list[Finding]:
    """The Spec linter on each event of the call, as events (not as a partner body); a batch's
    findings have paths into the body (`$.batch[2].event`), as the partner side's batch lint gives."""
    if call.call is not None:
        return lint_event(call.typed()[0], now=now)
    return lint_batch(call.events, now=now)


@dataclass(slots=True)
class Trace:
    """One event's fate as the user reads it, with the deliveries that carried it."""

    message_id: str
    state: str  # delivered, retrying, failed, dropped, delivering, deduplicated, filtered, invalid
    text: str
    deliveries: list[str] = field(default_factory=list)  # exchange ids, oldest first


def delivery_answer(delivery: Exchange) -> tuple[int | None, str, float]:
    """What the destination answered a delivery: status (None: no answer), why or its message,
    and how long it took."""
    if delivery.kind == "delivery" and delivery.destination is not None:
        answer = delivery.destination
        if answer.status is None:
            return None, answer.error or "no answer", answer.duration
        return answer.status, message_of(answer.body) or "", answer.duration
    if delivery.answer is None:
        return None, "not answered yet", delivery.duration
    return delivery.answer.status, delivery.answer.message or "", delivery.duration


def trace(source: Exchange, deliveries: list[Exchange]) -> list[Trace]:
    """Each event of a source call: delivered with status and time, retried N times, dropped
    by dedupe or integrations, or failed with the endpoint's message."""
    by_message: dict[str, list[tuple[Link, Exchange]]] = {}
    for delivery in deliveries:
        if delivery.link is not None:
            by_message.setdefault(delivery.link.message_id, []).append((delivery.link, delivery))
    traces = []
    for fate in source.pipeline:
        if fate.fate != "delivering":
            traces.append(Trace(fate.message_id, fate.fate, f"{fate.fate}: {fate.detail}"))
            continue
        tries = sorted(by_message.get(fate.message_id, []), key=lambda pair: (pair[0].attempt, pair[1].id))
        ids = [delivery.id for _, delivery in tries]
        if not tries:
            traces.append(Trace(fate.message_id, "delivering", "delivering: no answer yet"))
            continue
        link, last = tries[-1]
        status, said, took = delivery_answer(last)
        answer = f"{status}" if status is not None else "no answer"
        answer += f" in {took * 1000:.1f} ms" + (f", message {said!r}" if said and status is not None else "")
        if status is None:
            answer += f" ({said})"
        retried = f" after {len(tries) - 1} retr{'y' if len(tries) == 2 else 'ies'}" if len(tries) > 1 else ""
        outcome = segment_outcome(status)
        state = ("failed" if link.attempt >= link.attempts else "retrying") if outcome == "retried" else outcome
        what = {"retrying": f"retrying (attempt {len(tries)} of {link.attempts})",
                "failed": f"failed{retried}", "delivered": f"delivered{retried}", "dropped": f"dropped{retried}"}
        traces.append(Trace(fate.message_id, state, f"{what[state]}: {answer}", ids))
    return traces


def fates_summary(source: Exchange, traces: list[Trace]) -> str:
    """What became of a source call's events, in a line: `2 events: 1 delivered, 1 failed after
    9 retries`; Segment's verdict on a partner's answer does not apply to an SDK's call."""
    if not traces:
        refused = source.answer is not None and source.answer.status != 200
        return "the call was refused: no event goes on" if refused else "0 events"
    states: dict[str, list[Trace]] = {}
    for item in traces:
        states.setdefault(item.state, []).append(item)
    parts = []
    for state, items in states.items():
        retries = sorted({max(0, len(item.deliveries) - 1) for item in items})
        after = ""
        if state == "failed" and retries[-1]:
            count = f"{retries[0]}" if len(retries) == 1 else f"{retries[0]}-{retries[-1]}"
            after = f" after {count} retr{'y' if count == '1' else 'ies'}"
        parts.append(f"{len(items)} {state}{after}")
    return f"{len(traces)} event{'s' if len(traces) != 1 else ''}: {', '.join(parts)}"


def links_text(exchange: Exchange, deliveries: list[Exchange]) -> list[str]:
    """The lines `show` prints about where a source call's events went, or where a delivery came from."""
    if exchange.link is not None:
        link = exchange.link
        return [f"delivery of event {link.message_id} of source call {link.source}, "
                f"attempt {link.attempt} of at most {link.attempts}"]
    if exchange.kind != "source":
        return []
    traces = trace(exchange, deliveries)
    lines = [f"pipeline: {fates_summary(exchange, traces)}"]
    for item in traces:
        lines.append(f"  {item.message_id}  {item.text}")
        lines += [f"    delivery {delivery_id}" for delivery_id in item.deliveries]
    return lines


def jump_target(exchange: Exchange, deliveries_of: Callable[[str], list[Exchange]]) -> str | None:
    """Where the jump key goes: a delivery's source call, a source call's first delivery."""
    if exchange.link is not None:
        return exchange.link.source
    if exchange.kind == "source":
        deliveries = deliveries_of(exchange.id)
        return deliveries[0].id if deliveries else None
    return None

"""Where a source call's events went: each event's fate, with the deliveries that carried it,
as `show`, the Pipeline tab and the jump key (`g`) tell it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..core.model import Exchange, Link, message_of, segment_outcome


@dataclass(slots=True)
class Trace:
    """One event's fate as the user reads it, with the deliveries that carried it."""

    message_id: str
    state: str  # delivered, retrying, failed, dropped, delivering, deduplicated, filtered, invalid, blocked
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
            traces.append(Trace(fate.message_id, "delivering", "delivering: no answer yet"
                                + (f"; {fate.detail}" if fate.detail else "")))
            continue
        omitted = f"; {fate.detail}" if fate.detail else ""  # what the tracking plan removed
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
        traces.append(Trace(fate.message_id, state, f"{what[state]}: {answer}{omitted}", ids))
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

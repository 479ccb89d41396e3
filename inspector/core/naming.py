"""How an exchange is named, in the lists (`serve`, `history`, the TUI) and in exports and replay.

One place, so a request is called the same thing wherever the user meets it.
"""

from __future__ import annotations

from typing import Any

from .intake import events_of, parse_body
from .model import Exchange, Summary


def kind(summary: Summary) -> str:
    """`track`, `batch(3)` for a batch, "" when the body held no event; an SDK's call to the
    Tracking API is named by its path (`v1/batch`, `v1/track`), apart from what Segment delivers."""
    if summary.kind == "source":
        return summary.path.lstrip("/")
    if len(summary.types) > 1:
        return f"batch({len(summary.types)})"
    return summary.types[0] if summary.types else ""


def title(summary: Summary) -> str:
    """The event's name, a batch's distinct names; for a call without one, what names it
    (an identify's email, a group's groupId, an alias's previousId, `delete USERID`) or who
    it is about; `METHOD /path` when the body held no event."""
    if not summary.types:
        return f"{summary.method} {summary.path}"
    names = ", ".join(dict.fromkeys(name for name in summary.names if name))
    if names:
        return names
    if summary.types == ("delete",):
        return f"delete {next(iter(summary.users), '')}".rstrip()
    return summary.label or person(summary)


def person(summary: Summary) -> str:
    """Who the request is about: the first event's userId, else its anonymousId."""
    return next((u or a for u, a in zip(summary.users, summary.anons, strict=False) if u or a), "")


def parsed(exchange: Exchange) -> tuple[Any, str | None]:
    """The JSON value of the body, or None and why it is not JSON."""
    if exchange.data is not None and exchange.body_error is None:
        return exchange.data, None
    data, error = parse_body(exchange.content)
    return data, error.message if error else None


def event_label(event: Any) -> str:
    """`type-event name` of one event, for file names and test ids (unsafe characters kept)."""
    if not isinstance(event, dict):
        return "event"
    kind = event.get("type") if isinstance(event.get("type"), str) else None
    name = event.get("event") if kind == "track" else event.get("name")
    parts = [part for part in (kind, name) if isinstance(part, str) and part]
    return "-".join(parts) or "event"


def exchange_label(exchange: Exchange) -> str:
    """The label of a request: its event's, `batch-N` for a batch, `request` for a body that is not JSON."""
    data, error = parsed(exchange)
    if error is not None:
        return "request"
    events = events_of(data)
    if isinstance(data, list):
        return f"batch-{len(events)}"
    return event_label(data)

"""Events from files: one JSON document (an event or an array of them) or JSON Lines."""

from __future__ import annotations

from typing import Any

from .intake import events_of, parse_body


class UnreadableError(ValueError):
    """Input that is neither JSON nor JSON Lines, with where it goes wrong."""


def read_events(data: bytes, name: str, problems: list[str] | None = None) -> list[tuple[str, Any]]:
    """`(where, event)` pairs: `name` for a single document, `name:LINE` for JSON Lines.

    With `problems`, a malformed line of a JSON Lines file is named there (with its
    line number) and the other lines are still read; without, it raises.
    """
    whole, error = parse_body(data)
    if error is None:
        events = events_of(whole)
        if len(events) == 1:
            return [(name, events[0])]
        return [(f"{name}[{index}]", event) for index, event in enumerate(events)]
    if error.message.startswith("empty body"):
        raise UnreadableError(f"{name}: empty, no events to read")
    found: list[tuple[str, Any]] = []
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        value, line_error = parse_body(line)
        if line_error is not None:
            if problems is None and number == 1:
                raise UnreadableError(f"{name}: not JSON or JSON Lines: {error.message}")
            if problems is None:
                raise UnreadableError(f"{name}, line {number}: {line_error.message}")
            problems.append(f"{name}, line {number}: {line_error.message}")
            continue
        found.append((f"{name}:{number}", value))
    if not found:
        raise UnreadableError(f"{name}: not JSON or JSON Lines: {error.message}")
    return found



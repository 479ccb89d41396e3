"""Events from files: one JSON document (an event or an array of them) or JSON Lines."""

from __future__ import annotations

from typing import Any

from .intake import parse_body


def _located(events: list[Any], where: str, indexed: bool) -> list[tuple[str, Any]]:
    if not indexed:
        return [(where, event) for event in events]
    return [(f"{where}[{index}]", event) for index, event in enumerate(events)]


class UnreadableError(ValueError):
    """Input that is neither JSON nor JSON Lines, with where it goes wrong."""


def _elements(data: Any) -> list[Any]:
    """A document's elements: each of an array, else the document itself (a Tracking API batch
    stays whole: the linter reads it as the call it is)."""
    return data if isinstance(data, list) else [data]


def read_events(data: bytes, name: str, problems: list[str] | None = None) -> list[tuple[str, Any]]:
    """`(where, event)` pairs: `name` for a single document (`name[INDEX]` for an array's
    elements), `name:LINE` for JSON Lines (`name:LINE[INDEX]` for a line holding an array).

    With `problems`, a malformed line of a JSON Lines file is named there (with its
    line number) and the other lines are still read; without, it raises.
    """
    whole, error = parse_body(data)
    if error is None:
        return _located(_elements(whole), name, isinstance(whole, list) and len(whole) != 1)
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
        found += _located(_elements(value), f"{name}:{number}", isinstance(value, list))
    if not found:
        raise UnreadableError(f"{name}: not JSON or JSON Lines: {error.message}")
    return found



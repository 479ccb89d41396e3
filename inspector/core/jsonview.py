"""A body pretty-printed as JSON, with the line where each JSON path starts.

Findings point into a body by JSON path (`$.properties.products[0].price`); to show a
finding in the body the UI needs the line that path is on in the text it displays. So
the text and the map are made in one pass, by an explicit stack rather than recursion,
and the text is exactly `json.dumps(value, indent=2, ensure_ascii=False)`.
"""

from __future__ import annotations

import json
from typing import Any

from .checks import member

INDENT = "  "
MAX_DEPTH = 200
"""Containers nested deeper than this are written on one line, so the text stays linear in size."""

_string = json.encoder.encode_basestring
_float = float.__repr__


def _key(key: Any) -> str:
    """An object key as json.dumps writes it: strings as they are, scalars as their JSON."""
    if isinstance(key, str):
        return key
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, (int, float)):
        return _scalar(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _scalar(value: Any) -> str:
    """A JSON scalar, or an empty container, written as json.dumps writes it."""
    if isinstance(value, str):
        return _string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value == float("inf"):
            return "Infinity"
        if value == float("-inf"):
            return "-Infinity"
        return _float(value)
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, (list, tuple)):
        return "[]"
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def compact(value: Any) -> str:
    """The value as one-line JSON (json.dumps's default separators), at any depth."""
    parts: list[str] = []
    stack: list[tuple[Any, bool]] = []

    def start(item: Any) -> None:
        if isinstance(item, dict) and item:
            parts.append("{")
            stack.append((iter(item.items()), True))
        elif isinstance(item, (list, tuple)) and item:
            parts.append("[")
            stack.append((iter(item), False))
        else:
            parts.append(_scalar(item))

    start(value)
    first = True
    while stack:
        items, is_object = stack[-1]
        entry: Any = next(items, _END)
        if entry is _END:
            stack.pop()
            parts.append("}" if is_object else "]")
            first = False
            continue
        if not first:
            parts.append(", ")
        if is_object:
            parts.append(_string(_key(entry[0])) + ": ")
            entry = entry[1]
        start(entry)
        first = stack[-1][0] is not items
    return "".join(parts)


_END = object()


def _opens(value: Any) -> bool:
    """Whether the value is written over several lines: a non-empty object or array."""
    return isinstance(value, (dict, list, tuple)) and len(value) > 0


def _frame(value: Any, path: str, depth: int) -> tuple[Any, str, int, bool]:
    if isinstance(value, dict):
        return iter(value.items()), path, depth, True
    return iter(enumerate(value)), path, depth, False


def pretty(value: Any) -> tuple[str, dict[str, int]]:
    """The value as 2-space-indented JSON, and the 0-based line where each path's value starts.

    Below MAX_DEPTH the text is exactly json.dumps(value, indent=2, ensure_ascii=False);
    deeper containers are written on one line and their insides have no line of their own.
    """
    lines, paths, _ = pretty_lines(value)
    return "\n".join(lines), paths


def pretty_lines(value: Any, longest: int | None = None) -> tuple[list[str], dict[str, int], dict[int, int]]:
    """pretty()'s lines; with `longest`, a string longer than that is written as its first
    `longest` characters, and the third value says how many each such line left out: a view
    that shows a few thousand characters of a line need not write megabytes of it first."""
    paths = {"$": 0}
    cut: dict[int, int] = {}

    def scalar(item: Any) -> str:
        if longest is not None and isinstance(item, str) and len(item) > longest:
            cut[len(lines)] = len(item) - longest
            item = item[:longest]
        return _scalar(item)

    lines: list[str] = []
    if not _opens(value):
        return [scalar(value)], paths, cut
    lines.append("{" if isinstance(value, dict) else "[")
    # One frame per open container: its items, its path, the depth of its items, object or array.
    stack = [_frame(value, "$", 1)]
    first = True  # the next item is the first of its container: no comma before it
    while stack:
        items, path, depth, is_object = stack[-1]
        pad = INDENT * depth
        for key, item in items:
            if first:
                first = False
            else:
                lines[-1] += ","
            if is_object:
                name = key if isinstance(key, str) else _key(key)
                child = member(path, name)
                prefix = f"{pad}{_string(name)}: "
            else:
                child = f"{path}[{key}]"
                prefix = pad
            paths[child] = len(lines)
            if not _opens(item):
                lines.append(prefix + scalar(item))
            elif depth >= MAX_DEPTH:
                lines.append(prefix + compact(item))
            else:
                lines.append(prefix + ("{" if isinstance(item, dict) else "["))
                stack.append(_frame(item, child, depth + 1))
                first = True
                break
        else:
            stack.pop()
            lines.append(INDENT * (depth - 1) + ("}" if is_object else "]"))
            first = False
    return lines, paths, cut


def in_body(path: str, event: int | None = None) -> str:
    """The body path of a finding: batch findings are relative to their event `$[event]`."""
    if event is None:
        return path
    return f"$[{event}]" + path[1:] if path.startswith("$") else path


def _steps(path: str) -> list[int] | None:
    """Where each step of a path begins (`.key`, `[0]`, `["odd key"]`), or None if it is not one."""
    if not path.startswith("$"):
        return None
    starts: list[int] = []
    i, end = 1, len(path)
    while i < end:
        starts.append(i)
        if path[i] == ".":
            i += 1
            while i < end and path[i] not in ".[":
                i += 1
        elif path.startswith('["', i):
            i += 2
            while i < end and path[i] != '"':
                i += 2 if path[i] == "\\" else 1
            if not path.startswith('"]', i):
                return None
            i += 2
        elif path[i] == "[":
            close = path.find("]", i)
            if close < 0:
                return None
            i = close + 1
        else:
            return None
    return starts


def line_of(paths: dict[str, int], path: str, event: int | None = None) -> int | None:
    """The line of a finding's path, or of its nearest enclosing value when the path is absent.

    A finding about a missing field (`$.messageId`) points at the object that lacks it.
    """
    path = in_body(path, event)
    if path in paths:
        return paths[path]
    steps = _steps(path)
    if steps is None:
        return None
    for start in reversed(steps):
        line = paths.get(path[:start])
        if line is not None:
            return line
    return None

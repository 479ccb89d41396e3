"""Checks on what arrived on the wire before it is an event: text that is not Unicode,
compressed bodies, requests the HTTP parser refused, and requests over the rate limit."""

from __future__ import annotations

import re
from typing import Any

import orjson

from . import Lint, check, event_check, member

check("WIRE001", "warning", "A string holds a lone surrogate (\\ud800): not Unicode text, "
      "most JSON parsers and databases refuse it",
      bad='{"type": "track", "event": "\\ud800"}', good='{"type": "track", "event": "\\ud83d\\ude00"}')
check("WIRE002", "error", "The body does not decode with its Content-Encoding; answered 400",
      bad="Content-Encoding: gzip with a plain JSON body", good="Content-Encoding: gzip with a gzip body")
check("WIRE003", "error", "The HTTP parser refused the request before it could be read; answered 400",
      bad="POST / HTTP/1.1 with Content-Length: abc", good="POST / HTTP/1.1 with Content-Length: 2")
check("WIRE004", "warning", "Over the rate limit: answered 429 without reading the event further",
      bad="a flood of 10,000 requests a second", good="requests within the rate limit")
check("WIRE005", "error", "The body did not arrive in time: answered 408 and the connection closed",
      bad="a body sent at 1 byte a second", good="a body sent at once, as Segment does")

SURROGATE = re.compile("[\ud800-\udfff]")


def visible_surrogates(text: str) -> str:
    """The text with each lone surrogate written as its JSON escape, so it can be stored."""
    return SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def without_surrogates(value: Any) -> Any:
    """A copy of a JSON value whose strings and keys hold each lone surrogate as its escape:
    what can be stored and sent on, while the body stays kept as received."""
    if isinstance(value, str):
        return visible_surrogates(value)
    if isinstance(value, dict):
        return {visible_surrogates(k) if isinstance(k, str) else k: without_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_surrogates(item) for item in value]
    return value


def surrogate_paths(value: Any, path: str = "$") -> list[str]:
    """The paths of the strings (keys included) that hold a lone surrogate, at any depth."""
    found: list[str] = []
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if SURROGATE.search(item):
                found.append(where)
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = member(where, key)
                if isinstance(key, str) and SURROGATE.search(key):
                    found.append(child_path)
                stack.append((child, child_path))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{index}]") for index, child in enumerate(item))
    return found


@event_check
def lone_surrogates(lint: Lint) -> None:
    try:
        orjson.dumps(lint.event)  # fast, and refuses any lone surrogate
        return
    except (orjson.JSONEncodeError, TypeError):
        pass
    for path in sorted(surrogate_paths(lint.event)):
        lint.add("WIRE001", "a lone surrogate: not Unicode text; the string is kept as sent",
                 visible_surrogates(path))

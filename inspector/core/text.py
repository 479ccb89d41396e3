"""Make untrusted text safe to print: no terminal escape sequence survives."""

from __future__ import annotations

import re
from typing import Any

import orjson

# C0 controls but tab, DEL and C1 controls: each can start or be part of an escape sequence.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(text: str) -> str:
    """The text with control characters shown as `\\x1b` and the like."""
    return _CONTROL.sub(_visible, text)


def inert_json(value: Any, *, indent: bool = False) -> str:
    """JSON in which C1 controls are escaped too, as `\\u009b`, still valid JSON."""
    option = orjson.OPT_INDENT_2 if indent else 0
    text = orjson.dumps(value, option=option).decode("utf-8")
    return re.sub("[\x7f-\x9f]", lambda m: f"\\u{ord(m.group()):04x}", text)

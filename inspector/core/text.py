"""Make untrusted text safe to print: no terminal escape sequence survives, and no text
that reorders what follows it (bidi controls, the "Trojan Source" trick)."""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Callable
from typing import Any

import orjson

# C0 controls but tab, DEL and C1 controls: each can start or be part of an escape sequence.
# Bidi controls (U+061C, U+200E/F, U+202A-U+202E, U+2066-U+2069) reorder the text after them;
# lone surrogates cannot be printed at all.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                      "\ud800-\udfff]")
_JSON_ESCAPED = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(text: str) -> str:
    """The text with control characters shown as `\\x1b`, `\\u202e` and the like."""
    return _CONTROL.sub(_visible, text)


def _not_finite(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def inert_json(value: Any, *, indent: bool = False) -> str:
    """JSON in which C1 and bidi controls are escaped too, as `\\u009b`, still valid JSON.

    Values orjson cannot write as they were sent (integers beyond 64 bits, NaN, lone
    surrogates, nesting past 255) are written by the slower writer that keeps them.
    """
    option = orjson.OPT_INDENT_2 if indent else 0
    try:
        raw = orjson.dumps(value, option=option)
    except (orjson.JSONEncodeError, TypeError):
        raw = None
    if raw is None or (b"null" in raw and _not_finite(value)):
        from .jsonview import compact, pretty

        text = pretty(value)[0] if indent else compact(value)
    else:
        text = raw.decode("utf-8")
    return _JSON_ESCAPED.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def quiet_on_broken_pipe(run: Callable[[], int]) -> int:
    """Run a command; when the reader of stdout goes away (`| head`), stop quietly with 1."""
    try:
        code = run()
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # Python would complain again when it flushes stdout at exit: point it at nothing.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1

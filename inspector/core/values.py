"""What the user types, read one way wherever it is typed: a URL, a duration, a size.

The flags, the config file, the query language and the TUI's dialogs all read these
values through here, so `--dedupe-window 90m`, `since:90m` and a dialog's `90m` mean the
same. Each raises ValueError with a message the caller prefixes with the flag, setting
or field the value came from.
"""

from __future__ import annotations

import math
import re
from urllib.parse import urlsplit

from .text import inert

_SHOWN = 200  # characters of a bad value quoted back in an error


def _shown(text: str) -> str:
    text = inert(text)
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "…")


def url(text: str) -> str:
    """An http:// or https:// URL that names a host (and a valid port, if any), stripped of
    the spaces around it: where the inspector can send, or what it shows as its address."""
    text = text.strip()
    try:
        parts = urlsplit(text)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError as err:  # a bad port or IPv6 address
        raise ValueError(f"{_shown(text)} is not a URL: {err}") from None
    if not usable:
        raise ValueError(f"{_shown(text)} is not an http:// or https:// URL")
    return text


_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([smhd]?)\s*", re.IGNORECASE)
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(value: float | str, *, unit: str | None = "s", positive: bool = True) -> float:
    """`90`, `90s`, `1.5m`, `24h`, `7d` (any case): seconds, finite, more than 0 (with
    `positive=False`, 0 or more). A bare number counts in `unit`; with `unit=None` a
    duration needs its unit (a bare number in a query could be a year)."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r} (try 24h, 30m or 90s)")
    if isinstance(value, str):
        found = _DURATION.fullmatch(value)
        letter = found[2].lower() if found else ""
        if found is None or not (letter or unit):
            raise ValueError(f"not a duration: {_shown(value)} (try 24h, 30m or 90s)")
        seconds = float(found[1]) * _SECONDS[letter or unit or "s"]
    else:
        seconds = float(value) * _SECONDS[unit or "s"]
    if not math.isfinite(seconds):
        raise ValueError(f"not a duration: {_shown(str(value))} is too long")
    if seconds < 0 or (positive and seconds == 0):
        raise ValueError("must be more than 0" if positive else "must be 0 or more")
    return seconds


_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmg]i?b?|b)?\s*", re.IGNORECASE)
_BINARY = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_DECIMAL = {"k": 1000, "m": 1000**2, "g": 1000**3}


def size(value: int | str) -> int:
    """`8388608`, `8MiB`, `8M`, `32KB`, `1.5mb`: bytes, more than 0. `KiB` and a bare `K`
    are 1024 bytes, `KB` 1000."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"not a size: {value!r} (try 8MiB or 32KB)")
    if isinstance(value, int):
        bytes_ = value
    else:
        found = _SIZE.fullmatch(value)
        if found is None:
            raise ValueError(f"not a size: {_shown(value)} (try 8MiB or 32KB)")
        unit = (found[2] or "b").lower()
        decimal = len(unit) > 1 and unit[1] == "b"
        number = float(found[1]) * (_DECIMAL if decimal else _BINARY)[unit[0]]
        if not math.isfinite(number):
            raise ValueError(f"not a size: {_shown(value)} is too large")
        bytes_ = int(number)
    if bytes_ <= 0:
        raise ValueError("a size must be more than 0")
    return bytes_

"""What the formats share: names made from untrusted text, JSON written back.

An exchange's label (`track-Order Completed`, `batch-3`) comes from `core.naming`.

File names and test ids come from what a request carried (event names, types), so
they are reduced to a safe alphabet here, before any format uses them; `output.py`
checks them again before writing.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any
from urllib.parse import quote

from ..model import Exchange

# Headers an HTTP client computes itself; sending them again would duplicate or contradict them.
COMPUTED_HEADERS = frozenset({"content-length", "host", "transfer-encoding", "connection"})

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SEPARATORS = re.compile(r"[._-]*_[._-]*|\.{2,}")
SAFE_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


def safe_name(text: str, limit: int = 60, fallback: str = "event") -> str:
    """A piece of a file name or test id: ASCII letters, digits, `.`, `_`, `-`; bounded; never empty.

    Accents are dropped rather than the letter (`Café` -> `Cafe`); anything else,
    slashes and control characters included, becomes `_`; leading and trailing
    dots, dashes and underscores go, so the piece can never be `..` or hidden.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    name = _UNSAFE.sub("_", ascii_text)
    # a run of separators around a replaced character becomes one: `-.._../` -> `-`
    name = _SEPARATORS.sub(lambda m: "-" if "-" in m.group() else "_", name)
    name = name[:limit].strip("._-")
    return name or fallback


def unique(ids: list[str]) -> list[str]:
    """The ids, the second of a kind suffixed `-2`, the third `-3`, ... (case-insensitively distinct)."""
    seen: set[str] = set()
    out = []
    for text in ids:
        candidate, n = text, 1
        while candidate.lower() in seen:
            n += 1
            candidate = f"{text}-{n}"
        seen.add(candidate.lower())
        out.append(candidate)
    return out


def dump_json(value: Any, *, indent: bool = False) -> bytes | None:
    """JSON text for a parsed value, or None when it cannot be written back faithfully (NaN, infinity).

    Key order, integers of any size and floats are kept; text is UTF-8, or ASCII with
    escapes when a string holds a lone surrogate (valid in JSON text, not in UTF-8).
    """
    options: dict[str, Any] = {"allow_nan": False}
    options.update(indent=2) if indent else options.update(separators=(",", ":"))
    try:
        text = json.dumps(value, ensure_ascii=False, **options)
    except (ValueError, RecursionError):
        return None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True, **options).encode("ascii")


def request_url(base_url: str, exchange: Exchange) -> str:
    """The URL to send the request to again: `base_url` with the request's path and query.

    The history keeps path and query as the receiver reads them, percent-decoded, so
    what a URL cannot hold (spaces, controls, non-ASCII) is encoded again; reserved
    characters and existing escapes are left as they are.
    """
    path = quote(exchange.path, safe="/:@!$&'()*+,;=-._~%")
    query = quote(exchange.query, safe="/:@!$&'()*+,;=-._~%?")
    return base_url.rstrip("/") + path + (f"?{query}" if query else "")


def headers_dict(exchange: Exchange) -> dict[str, str]:
    """The request's headers for a client to send again: first value of each, computed ones left out."""
    out: dict[str, str] = {}
    for name, value in exchange.headers:
        if name.lower() not in COMPUTED_HEADERS and name.lower() not in {k.lower() for k in out}:
            out[name] = value
    return out

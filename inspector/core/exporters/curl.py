"""`curl`: a command per exchange that sends it again exactly: method, URL, headers, body."""

from __future__ import annotations

from collections.abc import Sequence

from ..model import Exchange
from . import exporter

# Headers curl computes itself; sending them again would duplicate or contradict them.
_COMPUTED = {"content-length", "host", "transfer-encoding", "connection"}


def quote(data: bytes | str) -> str:
    """Shell-quote anything, NUL and invalid UTF-8 included, as POSIX or bash ANSI-C quoting."""
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    if raw and all(0x20 <= b < 0x7F and b != 0x27 for b in raw):
        return "'" + raw.decode("ascii") + "'"
    out = []
    for b in raw:
        if b == 0x27:
            out.append("\\'")
        elif b == 0x5C:
            out.append("\\\\")
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append(f"\\x{b:02x}")
    return "$'" + "".join(out) + "'"


def printf_format(raw: bytes) -> str:
    """A quoted printf format that prints `raw` exactly, for bodies no shell argument can hold (NUL)."""
    out = []
    for b in raw:
        if b == 0x25:
            out.append("%%")
        elif 0x20 <= b < 0x7F and b not in (0x27, 0x5C):
            out.append(chr(b))
        else:
            out.append(f"\\{b:03o}")
    return "'" + "".join(out) + "'"


def curl_command(exchange: Exchange, base_url: str) -> str:
    url = base_url.rstrip("/") + exchange.path + (f"?{exchange.query}" if exchange.query else "")
    parts = ["curl", "-sS", "-X", exchange.method, quote(url)]
    for name, value in exchange.headers:
        if name.lower() not in _COMPUTED:
            parts += ["-H", quote(f"{name}: {value}")]
    if b"\0" in exchange.body:
        return f"printf {printf_format(exchange.body)} | " + " ".join([*parts, "--data-binary", "@-"])
    if exchange.body:
        parts += ["--data-binary", quote(exchange.body)]
    return " ".join(parts)


@exporter("curl")
def curl(exchanges: Sequence[Exchange], base_url: str) -> str:
    return "".join(curl_command(exchange, base_url) + "\n" for exchange in exchanges)

"""`curl`: a command per exchange that sends it again exactly: method, URL, headers, body.

Exactly means curl adds and changes nothing: `-q` skips the user's .curlrc, `-g` and
`--path-as-is` keep the path as it was, the headers curl would add on its own
(User-Agent, Accept, Content-Type, Expect) are removed when the request did not carry
them, and the body goes through `--data-raw` (no `@file` reading) or, when it holds a
NUL byte or is too large for one argument, through `printf` into `--data-binary @-`.
Every argument is quoted for bash whatever the bytes: ANSI-C quoting `$'...'` for
anything but plain printable ASCII.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..model import Exchange
from ..naming import exchange_label
from ..text import inert
from . import Export, ExportOptions, Skipped, exporter
from .common import COMPUTED_HEADERS, request_url

NAME = "segment-requests.sh"
# Linux refuses one argument over 128 KiB (MAX_ARG_STRLEN); a shell builtin's are not limited.
MAX_ARGUMENT = 64 * 1024
# curl adds these when the request does not set them; an empty `Name:` removes them.
_CURL_ADDS = ("User-Agent", "Accept")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


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
    """One bash command line that sends the exchange's request again to `base_url`."""
    url = request_url(base_url, exchange)
    parts = ["curl", "-q", "-sS", "-g", "--path-as-is", "-X", quote(exchange.method), quote(url)]
    sent = set()
    for name, value in exchange.headers:
        if name.lower() in COMPUTED_HEADERS or not _TOKEN.fullmatch(name):
            continue  # a name that is no HTTP token (say `@file`) would be read by curl as something else
        sent.add(name.lower())
        parts += ["-H", quote(f"{name}: {value}" if value else f"{name};")]
    adds = list(_CURL_ADDS)
    # An empty body sent with Content-Length: 0 is sent again as one, not as no body at all.
    send_body = bool(exchange.body) or exchange.header("Content-Length") is not None
    if send_body:
        adds.append("Content-Type")
        if len(exchange.body) > 1024:
            adds.append("Expect")
    parts += [item for name in adds if name.lower() not in sent for item in ("-H", quote(f"{name}:"))]
    if b"\0" in exchange.body or len(exchange.body) > MAX_ARGUMENT:
        # `--`: a body starting with `-` is the format, not an option of printf
        return f"printf -- {printf_format(exchange.body)} | " + " ".join([*parts, "--data-binary", "@-"])
    if send_body:
        parts += ["--data-raw", quote(exchange.body) if exchange.body else "''"]
    return " ".join(parts)


@exporter("curl", default_name=NAME, help="one bash script, a curl command per request that sends it again exactly")
def curl(exchanges: Sequence[Exchange], options: ExportOptions) -> Export:
    sent = [exchange for exchange in exchanges if not exchange.raw_head]
    skipped = [Skipped(exchange.id, "the HTTP parser refused it: only its first bytes were kept, so it cannot be "
                                    "sent again") for exchange in exchanges if exchange.raw_head]
    lines = ["#!/usr/bin/env bash",
             f"# {len(sent)} request{'s' if len(sent) != 1 else ''} captured by segment-inspector "
             f"{options.version}, sent again exactly as received",
             "# (method, URL, headers, body). Run: bash " + NAME, ""]
    for n, exchange in enumerate(sent, 1):
        comment = inert(f"# {n}: {exchange.method} {exchange_label(exchange)} ({exchange.id})")
        lines.append(comment.encode("ascii", "backslashreplace").decode("ascii"))  # no U+2028 line breaks
        lines.append(curl_command(exchange, options.base_url))
    return Export({NAME: ("\n".join(lines) + "\n").encode("utf-8")}, skipped=skipped, count=len(sent))

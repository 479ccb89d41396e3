"""Fixed exchanges for the golden files, and bodies that are hard to export."""

from __future__ import annotations

import json

from inspector.core.model import Answer, Exchange

from ..conftest import SEGMENT_HEADERS, basic
from ..factories import make_event, make_exchange

T0 = 1767268800.0  # 2026-01-01T12:00:00Z


def _fixed(exchange: Exchange, n: int, *, duration: float = 0.0125) -> Exchange:
    exchange.id = f"01KDX0000000000000000000{n:02d}"
    exchange.duration = duration
    return exchange


def golden_exchanges() -> list[Exchange]:
    """Five requests: a track, a pretty-printed identify answered 400, a batch answered 500,
    a body with NUL and a byte that is not UTF-8, and a GET with a query and no body."""
    track = make_event(messageId="msg-1", timestamp="2026-01-01T12:00:00.000Z",
                       context={"ip": "203.0.113.9", "library": {"name": "analytics.js"}},
                       properties={"revenue": 19.99, "currency": "USD", "note": "it's \"quoted\""})
    identify = make_event(type="identify", messageId="msg-2", timestamp="2026-01-01T12:00:01.000Z",
                          traits={"email": "Peter@Initech.example", "name": "Peter Gibbons"})
    del identify["event"], identify["properties"]
    page = make_event(type="page", name="Home", messageId="msg-3", timestamp="2026-01-01T12:00:02.000Z")
    screen = make_event(type="screen", name="Dashboard", messageId="msg-4", timestamp="2026-01-01T12:00:02.000Z")
    for event in (page, screen):
        del event["event"]
    settings = {**SEGMENT_HEADERS, "Authorization": basic("partner-key-123"),
                "X-Segment-Settings": "eyJjdXN0b21TZXR0aW5nT25lIjoiY3VzdG9tIHNldHRpbmcgdmFsdWUifQ=="}
    exchanges = [
        make_exchange(track, now=T0),
        make_exchange(json.dumps(identify, indent=2).encode(), status=400, now=T0 + 1, headers=settings),
        make_exchange([page, screen], status=500, now=T0 + 2),
        make_exchange(b'{"type":"track","event":"Bad \x00 bytes","x":"\xff"}', status=400, now=T0 + 3),
        make_exchange(b"", method="GET", now=T0 + 4, headers={"User-Agent": "probe/1.0", "Accept": "*/*"}),
    ]
    exchanges[1].answer = Answer(400, b'{"message": "Missing email address"}', "rule 1", "type:identify")
    exchanges[2].answer = Answer(500, b'{"message": "internal error"}', "rule 2")
    exchanges[4].path, exchanges[4].query = "/health", "verbose=1&name=a%20b"  # kept as sent
    exchanges[4].answer = Answer(405, b'{"message": "Segment only POSTs"}', "error")
    return [_fixed(exchange, n) for n, exchange in enumerate(exchanges, 1)]


MEGABYTE_STRING = "x" * (1024 * 1024)


def tricky_events() -> dict[str, dict]:
    """Events whose JSON bodies are hard to carry through a file, a shell or a Python module."""
    return {
        "quotes": make_event(event="It's \"quoted\" `back` $HOME \\ 'single'", messageId="q"),
        "newlines": make_event(event="line\nbreak\r\nand\ttab", messageId="n", properties={"text": "a\n\nb"}),
        "nul": make_event(event="nul\x00inside", messageId="z", properties={"c": "\x00\x01\x1b[31m\x7f"}),
        "unicode": make_event(event="Café ☕ \u202e\u2028 𝄞", messageId="u", properties={"s": "\ud800"}),
        "megabyte": make_event(event="Big", messageId="m", properties={"blob": MEGABYTE_STRING}),
    }


def tricky_body(name: str, event: dict) -> bytes:
    # ensure_ascii keeps the lone surrogate valid JSON text; other bodies are UTF-8 as Segment sends.
    return json.dumps(event, ensure_ascii=name == "unicode").encode("utf-8")


# Bodies no JSON parser reads, which only the byte-for-byte formats (json, curl, har) carry.
RAW_BODIES = {
    "invalid-utf8": b'{"type":"track","event":"\xff\xfe latin-1 \xe9"}',
    "nul-raw": b'{"type":"track"}\x00\x00trailing',
    "shell": b"'; rm -rf / #$(touch pwned)`touch pwned2`\\\n%s%n%%\x00",
}

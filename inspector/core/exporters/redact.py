"""Redaction: the API key, emails and IP addresses replaced with stable placeholders.

Stable means: within one export the same value always becomes the same placeholder,
numbered by first appearance (`user1@example.com`, `192.0.2.1`, `2001:db8::1`,
`redacted-key-1`), so the same user stays the same user across fixtures, and
exporting the same exchanges again gives the same files. A placeholder is never
derived from the value: a hash of an email is reversed by guessing emails.

Replacement works on the bytes, so a body stays byte for byte what was received
outside the replaced spans (valid JSON stays valid JSON), whatever its encoding.
The API key is replaced wherever it appears (headers, path, body) when it has 8
characters or more (a shorter one, like `segment`, is also a word); the Authorization
header is rebuilt around the placeholder as Segment builds it. X-Segment-Settings is
decoded, redacted and encoded again.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import dataclasses
import ipaddress
import re
from collections.abc import Callable, Sequence

from ..auth import decode_basic
from ..intake import events_of, parse_body
from ..model import Event, Exchange

# Each pattern starts only where a run of its characters starts, so that a megabyte of
# letters or digits is scanned once, not once per position.
_EMAIL = re.compile(rb"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_OCTET = rb"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rb"(?<![0-9])(?<![0-9]\.)" + rb"(?:" + _OCTET + rb"\.){3}" + _OCTET + rb"(?![0-9])(?!\.[0-9])")
# At most 45 hex digits, colons and dots, two colons among them; ipaddress decides.
_IPV6 = re.compile(rb"(?<![0-9A-Za-z:.])(?=[0-9A-Fa-f.]{0,40}:[0-9A-Fa-f.]{0,40}:)[0-9A-Fa-f:.]{2,45}"
                   rb"(?![0-9A-Za-z:])")
_MIN_KEY = 8
# A header line of a raw head (a request the HTTP parser refused): its name and value.
_HEAD_LINE = re.compile(rb"(?m)^([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]*:[ \t]*([^\r\n]*)")
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-segment-settings", "cookie"})


def head_headers(head: bytes) -> list[tuple[str, str]]:
    """The header lines of a raw head, as text."""
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in _HEAD_LINE.findall(head)]


def _ipv4_placeholder(n: int) -> str:
    """The n-th documentation address (RFC 5737), then the benchmarking range (RFC 2544)."""
    for network in ("192.0.2.", "198.51.100.", "203.0.113."):
        if n <= 254:
            return f"{network}{n}"
        n -= 254
    return str(ipaddress.IPv4Address("198.18.0.0") + n)


class Redactor:
    """Placeholders handed out in order of first appearance, for one export."""

    def __init__(self) -> None:
        self.keys: dict[bytes, bytes] = {}
        self.emails: dict[bytes, bytes] = {}
        self.ipv4: dict[bytes, bytes] = {}
        self.ipv6: dict[bytes, bytes] = {}

    def key(self, key: str) -> str:
        raw = key.encode("utf-8", "surrogateescape")
        return self._placeholder(self.keys, raw, lambda n: f"redacted-key-{n}").decode()

    @staticmethod
    def _placeholder(table: dict[bytes, bytes], value: bytes, make: Callable[[int], str]) -> bytes:
        if value not in table:
            table[value] = make(len(table) + 1).encode()
        return table[value]

    def _email(self, match: re.Match[bytes]) -> bytes:
        return self._placeholder(self.emails, match.group().lower(), lambda n: f"user{n}@example.com")

    def _ipv4(self, match: re.Match[bytes]) -> bytes:
        return self._placeholder(self.ipv4, match.group(), _ipv4_placeholder)

    def _ipv6(self, match: re.Match[bytes]) -> bytes:
        text = match.group()
        address_text, end = (text[:-1], b".") if text.endswith(b".") else (text, b"")  # a sentence's full stop
        try:
            address = ipaddress.IPv6Address(address_text.decode("ascii"))
        except ValueError:
            return text
        return self._placeholder(self.ipv6, address.compressed.encode(),
                                 lambda n: f"2001:db8::{n:x}") + end

    def bytes(self, data: bytes) -> bytes:
        for key, placeholder in self.keys.items():
            if len(key) >= _MIN_KEY:
                data = data.replace(key, placeholder)
        data = _EMAIL.sub(self._email, data)
        data = _IPV6.sub(self._ipv6, data)
        return _IPV4.sub(self._ipv4, data)

    def text(self, text: str) -> str:
        return self.bytes(text.encode("utf-8", "surrogateescape")).decode("utf-8", "surrogateescape")

    def header(self, name: str, value: str) -> str:
        lowered = name.lower()
        if lowered == "authorization":
            auth = decode_basic(value)
            if auth.key is None:
                return "redacted" if value.strip() else value
            password = "redacted" if auth.password else ""
            credentials = f"{self.key(auth.key)}:{password}".encode()
            return f"{auth.scheme} {base64.b64encode(credentials).decode()}"
        if lowered == "x-segment-settings":
            try:
                raw = base64.b64decode(value.strip(), validate=True)
            except (binascii.Error, ValueError):
                return self.text(value)
            return base64.b64encode(self.bytes(raw)).decode("ascii")
        return self.text(value)

    def head(self, head: builtins.bytes) -> builtins.bytes:
        """A raw head with its credentials' header lines rebuilt around placeholders."""
        def line(match: re.Match[builtins.bytes]) -> builtins.bytes:
            name, value = match.group(1).decode("latin-1"), match.group(2).decode("latin-1")
            if name.lower() not in _SECRET_HEADERS:
                return match.group()
            cleaned = "redacted" if name.lower() in ("cookie", "proxy-authorization") else self.header(name, value)
            return f"{name}: {cleaned}".encode("latin-1", "replace")

        return self.bytes(_HEAD_LINE.sub(line, head))

    def exchange(self, exchange: Exchange) -> Exchange:
        headers = [(name, self.header(name, value)) for name, value in exchange.headers]
        body = self.head(exchange.body) if exchange.raw_head else self.bytes(exchange.body)
        if len(body) != len(exchange.body):
            headers = [(name, str(len(body)) if name.lower() == "content-length" else value)
                       for name, value in headers]
        data, error = (None, exchange.body_error) if exchange.raw_head else parse_body(body)
        copy = dataclasses.replace(
            exchange, headers=headers, body=body, body_size=len(body),
            path=self.text(exchange.path), query=self.text(exchange.query), peer=self.text(exchange.peer),
            data=data, body_error=error,
            events=[Event.of(item) for item in events_of(data)] if error is None else [],
            findings=[dataclasses.replace(f, message=self.text(f.message)) for f in exchange.findings],
        )
        copy.auth = decode_basic(copy.header("Authorization"))
        if exchange.answer is not None:
            copy.answer = dataclasses.replace(exchange.answer, body=self.bytes(exchange.answer.body),
                                              detail=self.text(exchange.answer.detail))
        return copy


def carries_key(exchange: Exchange) -> bool:
    """Whether the exchange holds an API key in the clear: its Authorization, or a raw head's."""
    headers = head_headers(exchange.body) if exchange.raw_head else exchange.headers
    return any(name.lower() in ("authorization", "proxy-authorization") and value.strip() for name, value in headers)


def redact(exchanges: Sequence[Exchange]) -> list[Exchange]:
    """Copies of the exchanges with the API keys, emails and IPs replaced (the originals untouched)."""
    redactor = Redactor()
    for exchange in exchanges:  # every key first, so that a key in an earlier body is found too
        headers = head_headers(exchange.body) if exchange.raw_head else exchange.headers
        for name, value in headers:
            auth = decode_basic(value) if name.lower() == "authorization" else None
            if auth is not None and auth.key:
                redactor.key(auth.key)
    return [redactor.exchange(exchange) for exchange in exchanges]


"""Turn a raw HTTP request into an Exchange: parse the body, decode auth, check headers, lint.

Kept apart from the receiver so that the CLI, the tests and the sender read
bodies exactly the way the receiver does.
"""

from __future__ import annotations

import json
import time
import zlib
from typing import Any

import orjson

from .auth import auth_findings, decode_basic
from .checks import finding, lint
from .checks.wire import SURROGATE, visible_surrogates
from .headers import check_headers
from .model import BodyError, Event, Exchange, Finding, new_id


def parse_body(body: bytes) -> tuple[Any, BodyError | None]:
    """The JSON value of a body, or why it is not JSON, with the error's position."""
    if not body.strip():
        return None, BodyError("empty body: Segment always sends a JSON event")
    try:
        return orjson.loads(body), None
    except orjson.JSONDecodeError:
        pass
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        return None, BodyError(f"body is not UTF-8: invalid byte at position {err.start}",
                               position=err.start)
    try:
        # orjson refuses some valid JSON (integers beyond 64 bits); the stdlib also
        # words syntax errors with line and column.
        return json.loads(text), None
    except json.JSONDecodeError as err:
        return None, BodyError(f"malformed JSON: {err.msg} at line {err.lineno} column {err.colno}",
                               line=err.lineno, column=err.colno, position=err.pos)
    except RecursionError:
        return None, BodyError("malformed JSON: nested too deeply")
    except ValueError as err:  # e.g. an integer of more digits than Python converts
        return None, BodyError(f"unreadable JSON: {err}")


DEFAULT_MAX_DECODED = 8 * 1024 * 1024


class UndecodableBody(ValueError):
    """The body does not decode with its Content-Encoding."""


def _zlib(body: bytes, wbits: int, limit: int) -> bytes:
    decoder = zlib.decompressobj(wbits)
    out = decoder.decompress(body, limit + 1)
    if len(out) > limit:
        raise UndecodableBody(f"it decodes to more than {limit} bytes, the body size limit")
    if not decoder.eof:
        raise UndecodableBody("the compressed data is cut short")
    return out


def _brotli(body: bytes, limit: int) -> bytes:
    import brotli

    decoder = brotli.Decompressor()
    out = decoder.process(body, output_buffer_limit=limit + 1)
    if len(out) > limit:
        raise UndecodableBody(f"it decodes to more than {limit} bytes, the body size limit")
    if not decoder.is_finished():
        raise UndecodableBody("the compressed data is cut short")
    return bytes(out)


def decode_content(encoding: str | None, body: bytes, limit: int = DEFAULT_MAX_DECODED) -> bytes | None:
    """The body with its Content-Encoding undone (gzip, deflate, br), None when it has none.

    Raises UndecodableBody, with why, for an unknown coding, bad data, or output over `limit`
    (a small compressed body can expand a thousandfold).
    """
    codings = [c.strip().lower() for c in (encoding or "").split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return None
    out = body
    for coding in reversed(codings):  # the last coding listed was applied last
        try:
            if coding in ("gzip", "x-gzip"):
                out = _zlib(out, 16 + zlib.MAX_WBITS, limit)
            elif coding == "deflate":  # zlib-wrapped as RFC 9110 says, or raw as some clients send
                try:
                    out = _zlib(out, zlib.MAX_WBITS, limit)
                except zlib.error:
                    out = _zlib(out, -zlib.MAX_WBITS, limit)
            elif coding == "br":
                out = _brotli(out, limit)
            else:
                raise UndecodableBody(f"unknown Content-Encoding {coding!r}: gzip, deflate and br are read")
        except (zlib.error, EOFError) as err:
            raise UndecodableBody(f"not valid {coding} data ({err})") from None
        except UndecodableBody:
            raise
        except Exception as err:  # brotli.error is a plain Exception subclass
            raise UndecodableBody(f"not valid {coding} data ({err})") from None
    return out


def events_of(data: Any) -> list[Any]:
    """The events in a body: one object, or each element of a batch array."""
    return data if isinstance(data, list) else [data]


def build_exchange(*, method: str, path: str, query: str = "", peer: str = "",
                   headers: list[tuple[str, str]], body: bytes, body_size: int | None = None,
                   now: float | None = None, max_decoded: int = DEFAULT_MAX_DECODED) -> Exchange:
    """Everything we can tell about a request before choosing the answer.

    `body` is kept as received; a body with a Content-Encoding is decoded for the checks.
    """
    now = time.time() if now is None else now
    exchange = Exchange(id=new_id(now), time=now, method=method, path=path, query=query,
                        peer=peer, headers=headers, body=body,
                        body_size=len(body) if body_size is None else body_size)
    exchange.auth = decode_basic(exchange.header("Authorization"))
    findings: list[Finding] = auth_findings(exchange.auth)
    if method != "POST":
        findings.append(finding("REQ001", f"method {method}: Segment sends every event with POST"))
    elif exchange.truncated:
        findings.append(finding("REQ002", f"the body is {exchange.body_size} bytes, over the limit; "
                                "only its head is kept"))
    if method != "POST" or exchange.truncated:
        exchange.findings = findings
        return exchange
    encoding = exchange.header("Content-Encoding")
    if encoding:
        try:
            exchange.decoded = decode_content(encoding, body, max_decoded)
        except UndecodableBody as err:
            exchange.body_error = BodyError(f"the body does not decode as Content-Encoding "
                                            f"{encoding.strip()}: {err}")
            findings.append(finding("WIRE002", exchange.body_error.message, "header:Content-Encoding"))
            exchange.findings = findings
            return exchange
    exchange.data, exchange.body_error = parse_body(exchange.content)
    if exchange.body_error is not None:
        findings.append(finding("REQ003", exchange.body_error.message, "$"))
    else:
        items = events_of(exchange.data)
        exchange.events = [Event.of(item) for item in items]
        findings += check_headers(headers, exchange.body_size)
        findings += lint(exchange.data, now=now)
        if any(f.code == "WIRE001" for f in findings):
            _storable(exchange, findings)
    exchange.findings = findings
    return exchange


def _storable(exchange: Exchange, findings: list[Finding]) -> None:
    """Lone surrogates written as escapes in what is stored, which must be Unicode text."""
    for f in findings:
        f.message, f.path = visible_surrogates(f.message), visible_surrogates(f.path)
    for event in exchange.events:
        for name in event.__slots__:
            value = getattr(event, name)
            if isinstance(value, str) and SURROGATE.search(value):
                setattr(event, name, visible_surrogates(value))

"""Every Exchange is made here, whatever made it: a request the partner receiver or the
Tracking API read, one it refused before reading (a flood, a broken or late body), one the
HTTP parser refused, and a request we sent (a delivery, a replay, `send`, the review).

Each gets a real id and time here. Reading a body (decoding its Content-Encoding, parsing
the JSON, decoding auth) is the same for every door; the partner receiver then checks the
request as Segment's delivery (`received`), the Tracking API as an SDK's call (its own checks).
"""

from __future__ import annotations

import json
import time
import zlib
from typing import TYPE_CHECKING, Any, Literal

import orjson

from .auth import auth_findings, decode_basic
from .checks import finding, is_tracking_batch, lint
from .checks.request import TOO_MANY_EVENTS
from .checks.wire import SURROGATE, visible_surrogates
from .headers import check_headers
from .json_errors import first_error
from .model import REFUSED_BY_PARSER, Answer, BodyError, Destination, Event, Exchange, Finding, endpoint_answer, new_id

if TYPE_CHECKING:
    from .plans import Checking


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
        # orjson refuses some valid JSON (integers beyond 64 bits, NaN)
        return json.loads(text), None
    except (json.JSONDecodeError, RecursionError):
        found = first_error(text)  # in our words: the stdlib's differ from one Python to the next
        if found is None:  # valid, but nested deeper than json.loads recurses
            return None, BodyError("malformed JSON: nested too deeply")
        return None, BodyError(f"malformed JSON: {found}", line=found.line, column=found.column,
                               position=found.position)
    except ValueError as err:  # e.g. an integer of more digits than Python converts
        return None, BodyError(f"unreadable JSON: {err}")


DEFAULT_MAX_DECODED = 8 * 1024 * 1024
MAX_EVENTS = 10_000  # events read in one request; more is answered 413


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
    """The events in a body: one object, each element of a batch array, or of a Tracking API
    batch `{"batch": [...]}` posted to the partner receiver."""
    if isinstance(data, list):
        return data
    if is_tracking_batch(data):
        return list(data["batch"])
    return [data]


Kind = Literal["", "source", "delivery", "review"]
"""What an exchange is: "" a request to the partner receiver, "source" a Tracking API call,
"delivery" an event local Segment sent on, "review" a request `review` sent."""


def read(*, method: str, path: str, query: str = "", peer: str = "", headers: list[tuple[str, str]],
         body: bytes, body_size: int | None = None, now: float | None = None, kind: Kind = "",
         max_decoded: int = DEFAULT_MAX_DECODED) -> Exchange:
    """A request as received, read but not judged: auth decoded, the body decoded and parsed
    (`data`, or `body_error`). `body` is kept as received."""
    exchange = unread(method=method, path=path, query=query, peer=peer, headers=headers, body=body,
                      body_size=body_size, now=now, kind=kind)
    exchange.auth = decode_basic(exchange.header("Authorization"))
    if method != "POST" or exchange.truncated:
        return exchange
    encoding = exchange.header("Content-Encoding")
    if encoding:
        try:
            exchange.decoded = decode_content(encoding, body, max_decoded)
        except UndecodableBody as err:
            exchange.body_error = BodyError(f"the body does not decode as Content-Encoding "
                                            f"{encoding.strip()}: {err}")
            exchange.findings = [finding("WIRE002", exchange.body_error.message, "header:Content-Encoding")]
            return exchange
    exchange.data, exchange.body_error = parse_body(exchange.content)
    return exchange


def received(*, method: str, path: str, query: str = "", peer: str = "", headers: list[tuple[str, str]],
             body: bytes, body_size: int | None = None, now: float | None = None,
             max_decoded: int = DEFAULT_MAX_DECODED, checking: Checking | None = None) -> Exchange:
    """A request to the partner receiver, with everything we can tell before choosing the
    answer: auth, method, size, headers, the Spec linter and the tracking plan on each event."""
    exchange = read(method=method, path=path, query=query, peer=peer, headers=headers, body=body,
                    body_size=body_size, now=now, max_decoded=max_decoded)
    assert exchange.auth is not None
    findings: list[Finding] = auth_findings(exchange.auth) + exchange.findings
    if method != "POST":
        findings.append(finding("REQ001", f"method {method}: Segment sends every event with POST"))
    elif exchange.truncated:
        findings.append(finding("REQ002", f"the body is {exchange.body_size} bytes, over the limit; "
                                "only its head is kept"))
    elif exchange.body_error is not None:
        if not exchange.findings:  # else it did not decode (WIRE002)
            findings.append(finding("REQ003", exchange.body_error.message, "$"))
    elif len(items := events_of(exchange.data)) > MAX_EVENTS:
        findings.append(finding(TOO_MANY_EVENTS, f"{len(items):,} events in one request, over the limit of "
                                f"{MAX_EVENTS:,}: not read further", "$"))
    else:
        exchange.events = [Event.of(item) for item in items]
        findings += check_headers(headers, exchange.body_size)
        findings += lint(exchange.data, now=exchange.time)
        if checking is not None:
            findings += checking.body(exchange.data)
        if any(f.code == "WIRE001" for f in findings):
            _storable(exchange, findings)
    exchange.findings = findings
    return exchange


def unread(*, method: str, path: str, query: str = "", peer: str = "", headers: list[tuple[str, str]],
           body: bytes = b"", body_size: int | None = None, now: float | None = None,
           kind: Kind = "") -> Exchange:
    """What arrived, not read as an event: a request over the rate limit, a body too late or
    broken; and the start of every other."""
    now = time.time() if now is None else now
    return Exchange(id=new_id(now), time=now, method=method, path=path, query=query, peer=peer,
                    headers=headers, body=body, body_size=len(body) if body_size is None else body_size,
                    kind=kind)


def refused(*, peer: str, head: bytes, error: str, now: float | None = None) -> Exchange:
    """A request the HTTP parser refused before any handler: its first bytes, the error, the
    400 it is answered."""
    line = head.split(b"\r\n", 1)[0].split(b"\n", 1)[0]
    words = line.decode("latin-1").split(" ")
    method = words[0][:16] if words and words[0].isalpha() else "?"
    path, _, query = (words[1] if len(words) > 1 else "").partition("?")
    exchange = unread(method=method, path=path[:2048], query=query[:2048], peer=peer, headers=[], body=head,
                      now=now)
    exchange.body_error = BodyError(f"{REFUSED_BY_PARSER}: {error}")
    exchange.findings = [finding("WIRE003", f"{error}; the first {len(head)} bytes received are kept")]
    exchange.answer = Answer(400, orjson.dumps({"message": f"request refused: {error}"}), "error", "HTTP parser")
    return exchange


def sent(*, url: str, headers: list[tuple[str, str]], body: bytes, destination: Destination,
         started: float, events: list[Event] | None = None, kind: Kind = "") -> Exchange:
    """A request we sent to an endpoint the way Segment sends it, with the endpoint's answer;
    `events` spares parsing the body (a developer may mean to send malformed JSON)."""
    path, _, query = url.partition("?")
    exchange = unread(method="POST", path=path, query=query, headers=headers, body=body, now=started, kind=kind)
    exchange.destination = destination
    exchange.duration = destination.duration
    exchange.auth = decode_basic(exchange.header("Authorization"))
    if events is None:
        exchange.data, exchange.body_error = parse_body(body)
        events = [] if exchange.body_error else [Event.of(item) for item in events_of(exchange.data)]
    exchange.events = events
    exchange.answer = endpoint_answer(destination, "destination", url)
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

"""Turn a raw HTTP request into an Exchange: parse the body, decode auth, check headers, lint.

Kept apart from the receiver so that the CLI, the tests and the sender read
bodies exactly the way the receiver does.
"""

from __future__ import annotations

import json
import time
from typing import Any

import orjson

from .auth import auth_findings, decode_basic
from .checks import finding, lint
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


def events_of(data: Any) -> list[Any]:
    """The events in a body: one object, or each element of a batch array."""
    return data if isinstance(data, list) else [data]


def build_exchange(*, method: str, path: str, query: str = "", peer: str = "",
                   headers: list[tuple[str, str]], body: bytes, body_size: int | None = None,
                   now: float | None = None) -> Exchange:
    """Everything we can tell about a request before choosing the answer."""
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
    exchange.data, exchange.body_error = parse_body(body)
    if exchange.body_error is not None:
        findings.append(finding("REQ003", exchange.body_error.message, "$"))
    else:
        items = events_of(exchange.data)
        exchange.events = [Event.of(item) for item in items]
        findings += check_headers(headers, exchange.body_size)
        findings += lint(exchange.data, now=now)
    exchange.findings = findings
    return exchange

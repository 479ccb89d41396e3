"""Small builders for events and exchanges, so tests say only what matters to them."""

from __future__ import annotations

import time
from typing import Any

import orjson

from inspector.core.intake import received
from inspector.core.model import Answer, Exchange

from .conftest import SEGMENT_HEADERS


def iso_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def make_event(**fields: Any) -> dict[str, Any]:
    event = {"type": "track", "event": "Order Completed", "userId": "user-1",
             "anonymousId": "anon-1", "messageId": "msg-1",
             "timestamp": iso_now(), "properties": {"revenue": 19.99}}
    event.update(fields)
    return event


def make_exchange(body: Any = None, *, status: int = 200, headers: dict[str, str] | None = None,
                  method: str = "POST", now: float | None = None) -> Exchange:
    raw = body if isinstance(body, bytes) else orjson.dumps(make_event() if body is None else body)
    header_map = dict(SEGMENT_HEADERS if headers is None else headers)
    header_map.setdefault("Content-Length", str(len(raw)))
    exchange = received(method=method, path="/", headers=list(header_map.items()), body=raw,
                              now=time.time() if now is None else now)
    exchange.answer = Answer(status, b"{}")
    return exchange

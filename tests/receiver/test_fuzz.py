"""Fuzzed requests, valid and broken, against a real receiver: never a plain-text 500, never
a traceback in the log, and every request that got an answer is in the history."""

from __future__ import annotations

import asyncio
import gzip
import logging
import socket
import threading

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from inspector.core.history import History
from inspector.core.hub import Hub
from inspector.core.policy import Policy
from inspector.receiver import Receiver

from ..waiting import until_sync


class Tracebacks(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.bad: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or "Traceback" in record.getMessage():
            self.bad.append(record.getMessage())


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    history = History(tmp_path_factory.mktemp("fuzz")).load()
    history.start_session()
    loop = asyncio.new_event_loop()
    receiver = Receiver(Hub(history, Policy()), port=0)
    url = loop.run_until_complete(receiver.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    watcher = Tracebacks()
    logging.getLogger().addHandler(watcher)
    yield int(url.rstrip("/").rsplit(":", 1)[1]), history, watcher
    logging.getLogger().removeHandler(watcher)
    asyncio.run_coroutine_threadsafe(receiver.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    history.close()


strings = st.one_of(st.text(max_size=20), st.sampled_from(["\ud800", "\udfff x", "\u202e", "\x00", "é"]))
json_values = st.recursive(st.none() | st.booleans() | st.integers(min_value=-10**30, max_value=10**30)
                           | st.floats(allow_nan=True) | strings,
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(strings, inner, max_size=4),
                           max_leaves=12)
events = st.fixed_dictionaries({"type": st.sampled_from(["track", "identify", "page", "nope"]),
                                "messageId": strings}, optional={"userId": strings, "properties": json_values})


def _json(value) -> bytes:
    import json
    return json.dumps(value, ensure_ascii=True, allow_nan=True).encode()


bodies = st.one_of(
    events.map(_json), st.lists(events, max_size=3).map(_json), json_values.map(_json),
    st.binary(max_size=200), st.just(b"[" * 300 + b"]" * 300), st.just(b""),
)


@st.composite
def requests(draw) -> bytes:
    body = draw(bodies)
    coding = draw(st.sampled_from([None, None, "gzip", "deflate", "br", "bogus"]))
    if coding == "gzip" and draw(st.booleans()):
        body = gzip.compress(body)
    method = draw(st.sampled_from([b"POST", b"POST", b"GET", b"post", b"PUT", b"OPTIONS"]))
    path = draw(st.sampled_from([b"/", b"/v1/track", b"/%ff?x=\x01", b"/" + b"a" * 9000]))
    head = [method + b" " + path + b" HTTP/1.1", b"Host: x", b"Connection: close"]
    length = draw(st.sampled_from(["exact", "exact", "none", "short", "junk", "chunked", "badchunk"]))
    if length == "exact":
        head.append(b"Content-Length: %d" % len(body))
    elif length == "short" and body:
        head.append(b"Content-Length: %d" % (len(body) - 1))
    elif length == "junk":
        head.append(b"Content-Length: 1x")
    elif length in ("chunked", "badchunk"):
        head.append(b"Transfer-Encoding: chunked")
        body = (b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n") if length == "chunked" else b"zz\r\n" + body
    if coding:
        head.append(b"Content-Encoding: " + coding.encode())
    head += draw(st.lists(st.binary(min_size=1, max_size=30).map(lambda b: b"X-Fuzz: " + b), max_size=2))
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def send(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(request=requests())
def test_fuzzed_requests_are_answered_sanely_and_kept(served, request):
    port, history, watcher = served
    before = len(history)
    answer = send(port, request)
    if answer:
        status_line, _, rest = answer.partition(b"\r\n")
        status = int(status_line.split(b" ")[1])
        headers = rest.split(b"\r\n\r\n", 1)[0].lower()
        assert status < 500 or b"content-type: application/json" in headers, answer[:300]
        assert status != 500, answer[:300]
        until_sync(lambda: len(history) > before, what=f"answered {status} but not kept: {request[:200]!r}")
    assert watcher.bad == []

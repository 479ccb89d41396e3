"""What anyone on the internet can send: each defect found by a hostile-input run, over real HTTP."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import brotli
import orjson
import pytest
from aiohttp.http_exceptions import BadHttpMessage

from inspector.cli import main
from inspector.core.exporters import ExportOptions, export
from inspector.core.history import History
from inspector.core.hub import Hub, TunnelState
from inspector.core.policy import Policy
from inspector.core.query import parse
from inspector.core.text import inert
from inspector.receiver import Receiver, reading
from inspector.receiver.limit import DEFAULT_RATE, RateLimit

from ..conftest import SEGMENT_HEADERS
from ..factories import make_event
from ..waiting import until


def port_of(url: str) -> int:
    return int(url.rstrip("/").rsplit(":", 1)[1])


async def raw(url: str, data: bytes, timeout: float = 10.0) -> bytes:
    """Send bytes exactly as given and read until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port_of(url))
    writer.write(data)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()


def only(history: History):
    [summary] = history.search()
    return history.get(summary.id)


def codes(exchange) -> list[str]:
    return [f.code for f in exchange.findings]


# -- lone surrogates ---------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    b'{"type": "track", "event": "\\ud800", "userId": "u", "messageId": "s1"}',
    b'[{"type": "track", "event": "ok", "userId": "u", "messageId": "s2"}, {"type": "track", '
    b'"event": "x", "userId": "\\udfff", "messageId": "s3", "properties": {"\\ud800": 1}}]',
])
async def test_lone_surrogates_are_answered_kept_flagged_shown_and_exported(inspector, tmp_path, capsys, body):
    status, _, _ = await inspector.post(body)
    assert status == 200
    exchange = only(inspector.history)
    assert exchange.body == body
    assert "WIRE001" in codes(exchange)
    assert inspector.history.search(parse("finding:WIRE001"))
    assert main(["show", exchange.id, "--data-dir", str(tmp_path)]) == 0
    shown = capsys.readouterr().out
    assert "\\ud" in shown and "WIRE001" in shown
    for name in ("json", "curl", "har", "jsonl"):
        assert export([exchange], name, ExportOptions(base_url="http://127.0.0.1:1/")).count == 1
    lint_file = tmp_path / "events.json"
    lint_file.write_bytes(body)
    assert main(["lint", "--json", str(lint_file)]) in (0, 1)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any(f["code"] == "WIRE001" for line in lines for f in line["findings"])


# -- Content-Encoding ----------------------------------------------------------------------


EVENT = orjson.dumps(make_event(messageId="gz1"))


@pytest.mark.parametrize("coding, encode", [
    ("gzip", gzip.compress), ("deflate", zlib.compress),
    ("deflate", lambda b: zlib.compress(b, wbits=-15) if sys.version_info >= (3, 11) else zlib.compress(b)),
    ("br", brotli.compress),
])
async def test_compressed_bodies_are_decoded_checked_and_kept_as_sent(inspector, tmp_path, capsys, coding, encode):
    sent = encode(EVENT)
    status, _, _ = await inspector.post(sent, headers={**SEGMENT_HEADERS, "Content-Encoding": coding})
    assert status == 200
    exchange = only(inspector.history)
    assert exchange.body == sent and exchange.decoded == EVENT
    assert exchange.events[0].message_id == "gz1"
    assert inspector.history.search(parse("message:gz1"))
    assert main(["show", exchange.id, "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"{len(sent)} bytes as sent ({coding}), {len(EVENT)} bytes decoded" in out
    assert '"messageId": "gz1"' in out
    script = export([exchange], "curl", ExportOptions(base_url="http://127.0.0.1:1/")).joined()
    assert b"Content-Encoding: " + coding.encode() in script


@pytest.mark.parametrize("coding, body", [
    ("gzip", EVENT), ("deflate", b"not deflate"), ("br", b"\xff\xff"), ("compress", EVENT),
    ("gzip", gzip.compress(b" " * (9 * 1024 * 1024))),  # over the 8 MiB limit once decoded
])
async def test_an_undecodable_body_gets_400_with_a_json_message_and_is_kept(inspector, coding, body):
    status, headers, reply = await inspector.post(body, headers={**SEGMENT_HEADERS, "Content-Encoding": coding})
    assert status == 400 and headers["Content-Type"].startswith("application/json")
    assert "does not decode" in json.loads(reply)["message"]
    exchange = only(inspector.history)
    assert exchange.body == body and "WIRE002" in codes(exchange)


# -- what the parser refuses --------------------------------------------------------------


REFUSED = [
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
    b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
    b"post / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
    b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n",
    b"POST /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20_000 + b"\r\n\r\n",
    b"POST /\x01\x7f HTTP/1.1\r\nHost: x\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS hello to the HTTP port
]


@pytest.mark.parametrize("request_bytes", REFUSED, ids=range(len(REFUSED)))
async def test_requests_the_parser_refuses_are_kept_and_logged_in_one_line(inspector, tmp_path, capsys, caplog,
                                                                          request_bytes):
    caplog.set_level(logging.DEBUG)
    answer = await raw(inspector.url, request_bytes)
    assert answer.startswith(b"HTTP/1.") and b" 400 " in answer.split(b"\r\n")[0]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["message"].startswith("request refused")
    await until(lambda: len(inspector.history) == 1, what="the refused request to be kept")
    exchange = only(inspector.history)
    assert exchange.body == request_bytes[:1024] and exchange.peer.startswith("127.0.0.1:")
    assert "WIRE003" in codes(exchange) and exchange.answer.status == 400
    assert main(["history", "--data-dir", str(tmp_path)]) == 0
    assert exchange.id in capsys.readouterr().out
    assert not any(record.exc_info for record in caplog.records)
    assert "Traceback" not in caplog.text


# -- slow and greedy clients ------------------------------------------------------------------


@pytest.fixture
async def guarded(tmp_path):
    history = History(tmp_path).load()
    history.start_session()
    hub = Hub(history, Policy())
    receivers = []

    async def start(**options) -> Receiver:
        receiver = Receiver(hub, port=0, **options)
        await receiver.start()
        receivers.append(receiver)
        return receiver

    yield start, hub, history
    for receiver in receivers:
        await receiver.stop()
    history.close()


async def test_a_client_slow_to_send_its_headers_is_closed(guarded, caplog):
    start, _, _ = guarded
    receiver = await start()
    receiver.guard.header_timeout = 0.3
    reader, writer = await asyncio.open_connection("127.0.0.1", port_of(receiver.url))
    writer.write(b"POST / HTTP/1.1\r\nHost: x\r\n")  # and never the rest
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), 15) == b""  # closed by the server
    writer.close()
    assert "no complete request headers" in caplog.text


async def test_a_client_slow_to_send_its_body_gets_408_and_is_kept(guarded, monkeypatch):
    start, _, history = guarded
    monkeypatch.setattr(reading, "BODY_TIMEOUT", 0.3)
    receiver = await start()
    answer = await raw(receiver.url, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"ty", 15)
    assert b" 408 " in answer.split(b"\r\n")[0]
    exchange = only(history)
    assert "WIRE005" in codes(exchange) and exchange.body == b'{"ty'


async def test_a_client_answered_408_is_disconnected_at_once(guarded, monkeypatch):
    """Not kept for aiohttp's lingering close (10 s of reading what it may still send)."""
    start, _, history = guarded
    monkeypatch.setattr(reading, "BODY_TIMEOUT", 0.3)
    receiver = await start()
    reader, writer = await asyncio.open_connection("127.0.0.1", port_of(receiver.url))
    writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"ty")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 5)  # lingering would hold it 10 s
    writer.close()
    assert b" 408 " in answer.split(b"\r\n")[0] and len(history) == 1


async def test_an_sdk_slow_to_send_its_batch_gets_408_and_is_kept(guarded, monkeypatch):
    """The Tracking API reads bodies with the receiver's deadline: a slow client cannot hold it."""
    start, _, history = guarded
    monkeypatch.setattr(reading, "BODY_TIMEOUT", 0.3)
    receiver = await start()
    partial = b'{"batch": [{"type": "tr'
    answer = await raw(receiver.url, b"POST /v1/batch HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n"
                       + partial, 15)
    assert b" 408 " in answer.split(b"\r\n")[0]
    assert "did not arrive" in json.loads(answer.split(b"\r\n\r\n", 1)[1])["message"]
    exchange = only(history)
    assert exchange.path == "/v1/batch" and exchange.kind == "source"
    assert "WIRE005" in codes(exchange) and exchange.body == partial and exchange.answer.status == 408
    await until(lambda: not receiver.guard.connections, what="the slow connection closed")


async def test_a_refused_request_whose_client_is_gone_names_its_peer(guarded, caplog):
    start, _, _ = guarded
    receiver = await start()
    _reader, writer = await asyncio.open_connection("127.0.0.1", port_of(receiver.url))
    port = writer.get_extra_info("sockname")[1]
    await until(lambda: receiver.guard.connections, what="the connection admitted")
    [connection] = receiver.guard.connections
    writer.close()
    await until(lambda: not receiver.guard.connections, what="the connection lost")
    connection.handler.handle_error(None, 400, BadHttpMessage("Bad chunk"))
    assert f"request refused by the HTTP parser: 127.0.0.1:{port}: 400, message:" in caplog.text


async def test_a_client_gone_before_its_answer_is_kept_once(guarded):
    """A body cut off by the client is one exchange, not also a refusal of writing its answer."""
    start, _, history = guarded
    receiver = await start()
    _reader, writer = await asyncio.open_connection("127.0.0.1", port_of(receiver.url))
    writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n{\"type\": ")
    await writer.drain()
    await until(lambda: receiver.guard.connections, what="the connection admitted")
    [connection] = receiver.guard.connections
    handling = connection.handler._task_handler  # aiohttp's task for this connection's requests
    writer.transport.abort()
    await until(lambda: handling is None or handling.done(), what="the connection's requests handled")
    cut = only(history)
    assert "WIRE003" in codes(cut) and cut.method == "POST"


async def test_when_connections_are_full_the_oldest_waiting_one_makes_room(guarded):
    start, _, history = guarded
    receiver = await start(max_connections=5)
    idle = [await asyncio.open_connection("127.0.0.1", port_of(receiver.url)) for _ in range(5)]
    await until(lambda: len(receiver.guard.connections) == 5, what="five connections")
    body = orjson.dumps(make_event())
    answer = await raw(receiver.url, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                                     b"Connection: close\r\n\r\n" % len(body) + body)
    assert b" 200 " in answer.split(b"\r\n")[0]
    assert len(history) == 1
    assert await asyncio.wait_for(idle[0][0].read(), 5) == b""  # the oldest was closed
    for _, writer in idle:
        writer.close()


async def test_over_the_rate_limit_requests_get_429_with_a_json_message_and_show(guarded):
    start, _, history = guarded
    receiver = await start(rate_limit=1)
    body = orjson.dumps(make_event())
    request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body
    answers = [await raw(receiver.url, request) for _ in range(6)]
    statuses = [answer.split(b"\r\n")[0].split(b" ")[1] for answer in answers]
    assert b"200" in statuses and b"429" in statuses
    refused = answers[statuses.index(b"429")]
    assert "rate limit" in json.loads(refused.split(b"\r\n\r\n", 1)[1])["message"]
    assert history.search(parse("status:429 finding:WIRE004"))


def test_the_rate_limit_is_off_locally_and_on_once_a_tunnel_is_open(tmp_path):
    hub = Hub(History(tmp_path), Policy())
    limit = RateLimit()
    assert limit.current(hub) == 0
    hub.set_tunnel(TunnelState("off"))
    assert limit.current(hub) == 0
    for status in ("opening", "up", "external"):
        hub.set_tunnel(TunnelState(status, "https://x.ngrok.app"))
        assert limit.current(hub) == DEFAULT_RATE
    assert RateLimit(0).current(hub) == 0
    assert RateLimit(exposed=True).current(Hub(History(tmp_path), Policy())) == DEFAULT_RATE


# -- what is shown ---------------------------------------------------------------------------------


async def test_deep_nesting_big_integers_and_nan_are_shown_and_exported_as_sent(inspector, tmp_path, capsys):
    deep = b'{"type": "track", "event": "Deep", "userId": "u", "messageId": "d1", "properties": {"x": ' \
        + b"[" * 300 + b"]" * 300 + b', "big": 123456789012345678901234567890, "nan": NaN}}'
    status, _, _ = await inspector.post(deep)
    assert status == 200
    exchange = only(inspector.history)
    assert main(["show", exchange.id, "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "123456789012345678901234567890" in out and '"nan": NaN' in out and "e+29" not in out
    assert main(["show", "--json", exchange.id, "--data-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    for name in ("json", "curl", "har"):
        assert export([exchange], name, ExportOptions(base_url="http://127.0.0.1:1/")).count == 1
    for name in ("jsonl", "pytest"):  # formats that re-encode events leave it out, and say why
        result = export([exchange], name, ExportOptions(base_url="http://127.0.0.1:1/"))
        assert result.count == 0 and [skip.exchange_id for skip in result.skipped] == [exchange.id]
        assert "NaN or infinity" in result.skipped[0].reason


def test_bidi_controls_are_made_visible():
    for char in ("\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
                 "\u200e", "\u200f", "\u061c"):
        assert char not in inert(f"a{char}b")
    assert inert("user\u202egnp.exe") == "user\\u202egnp.exe"


@pytest.mark.parametrize("body", [b"-x\0", b"-" + b"a" * 70_000, b""])
def test_curl_sends_again_a_body_starting_with_a_dash_or_empty(tmp_path, body):
    from inspector.core.intake import received

    exchange = received(method="POST", path="/", headers=[("Content-Length", str(len(body)))], body=body)
    script = export([exchange], "curl", ExportOptions(base_url="http://127.0.0.1:1/")).joined().decode()
    command = script.strip().splitlines()[-1]
    if body:
        # run the printf half: it must print the body exactly
        printf = command.split(" | curl ")[0]
        assert subprocess.run(["bash", "-c", printf], capture_output=True).stdout == body
    else:
        assert command.endswith("--data-raw ''")


# -- the command line -----------------------------------------------------------------------------


def test_a_closed_pipe_ends_lint_quietly(tmp_path):
    events = tmp_path / "many.jsonl"
    events.write_bytes(b"\n".join(orjson.dumps(make_event(messageId=f"m{i}")) for i in range(5000)))
    pipe = subprocess.run(f"{sys.executable} -m inspector lint --json {events} | head -1",
                          shell=True, capture_output=True, cwd=Path(__file__).parents[2])
    assert pipe.stdout.count(b"\n") == 1
    assert b"Traceback" not in pipe.stderr and b"BrokenPipe" not in pipe.stderr


async def test_history_accepts_a_query_starting_with_a_dash(inspector, tmp_path, capsys):
    await inspector.post(orjson.dumps(make_event(messageId="clean")))
    await inspector.post(b'{"type": "track"}')
    assert main(["history", "-has:findings", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 1
    assert main(["history", "--data-dir", str(tmp_path), "-is:redelivery", "--json"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_lint_reads_the_good_lines_and_names_the_bad_one(tmp_path, capsys):
    events = tmp_path / "events.jsonl"
    good = orjson.dumps(make_event())
    events.write_bytes(good + b"\n" + b'{"type": "track",\n' + good + b"\n")
    assert main(["lint", str(events)]) == 2
    out, err = capsys.readouterr()
    assert "2 events" in out
    assert f"{events}, line 2: malformed JSON" in err


# -- work one request can cause ---------------------------------------------------------------------


async def test_a_large_body_is_read_off_the_event_loop(inspector, monkeypatch):
    from inspector.receiver import app as receiver_app

    threads: list[str] = []
    read = receiver_app.received

    def recording(**request):
        threads.append(threading.current_thread().name)
        return read(**request)

    monkeypatch.setattr(receiver_app, "received", recording)
    small, large = make_event(), [make_event() for _ in range(2000)]
    assert (await inspector.post(orjson.dumps(small)))[0] == 200
    assert (await inspector.post(orjson.dumps(large)))[0] == 200
    assert threads[0] == threading.current_thread().name  # a small body on the loop: it is cheap
    assert threads[1].startswith("receiver-reader")


async def test_a_batch_of_more_events_than_the_inspector_reads_gets_413_and_is_kept(inspector):
    batch = orjson.dumps([{"type": "track", "event": "E", "userId": "u"}] * 10_001)
    status, _, body = await inspector.post(batch)
    assert status == 413 and "10,001 events in one request" in json.loads(body)["message"]
    exchange = only(inspector.history)
    assert "REQ004" in codes(exchange) and exchange.events == [] and exchange.body == batch


def post(body: bytes) -> bytes:
    return b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body


async def test_each_event_of_a_batch_counts_against_the_rate_limit(guarded):
    start, _, _ = guarded
    receiver = await start(rate_limit=1)  # a burst of 2
    request = post(orjson.dumps([make_event(), make_event()]))
    first, second = [await raw(receiver.url, request) for _ in range(2)]
    assert b" 200 " in first.split(b"\r\n")[0]
    assert b" 429 " in second.split(b"\r\n")[0]  # the first one's two events took the burst of two
    big = orjson.dumps([make_event() for _ in range(5)])
    receiver = await start(rate_limit=2)  # a burst of 4: a batch of 5 is over it, once the bucket is not full
    assert b" 200 " in (await raw(receiver.url, post(orjson.dumps(make_event())))).split(b"\r\n")[0]
    answer = await raw(receiver.url, post(big))
    assert b" 429 " in answer.split(b"\r\n")[0] and b"each event of a batch counts" in answer


async def test_a_body_slower_than_the_minimum_rate_gets_408_after_the_grace(guarded, monkeypatch):
    start, _, history = guarded
    monkeypatch.setattr(reading, "BODY_GRACE", 0.2)  # and 8 KiB/s after it: a trickle is closed soon
    receiver = await start()
    reader, writer = await asyncio.open_connection("127.0.0.1", port_of(receiver.url))
    writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{")
    await writer.drain()
    for _ in range(10):  # a byte now and then, at a slow-body attacker's pace, until cut off
        try:
            writer.write(b" ")
        except ConnectionError:
            break
        await asyncio.sleep(0.05)
    try:  # closed at once: what it sent after the answer may turn the close into a reset
        await asyncio.wait_for(reader.read(), 15)
    except (ConnectionResetError, BrokenPipeError):
        pass
    writer.close()
    kept = only(history)
    assert kept.answer.status == 408 and "WIRE005" in codes(kept) and b"KiB/s" in kept.answer.body


async def test_when_connections_are_full_the_slowest_body_makes_room(guarded):
    start, _, _ = guarded
    receiver = await start(max_connections=5)
    slow = []
    for _ in range(5):  # headers, then a body that hardly comes
        reader, writer = await asyncio.open_connection("127.0.0.1", port_of(receiver.url))
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
        await writer.drain()
        slow.append((reader, writer))
    await until(lambda: [state for state, _ in receiver.guard.connections.values()].count("body") == 5,
                what="five bodies being read")
    body = orjson.dumps(make_event())
    answer = await raw(receiver.url, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                                     b"Connection: close\r\n\r\n" % len(body) + body)
    assert b" 200 " in answer.split(b"\r\n")[0]
    await until(lambda: any(reader.at_eof() for reader, _ in slow), what="a slow body closed")
    for _, writer in slow:
        writer.close()

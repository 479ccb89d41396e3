"""Forwarding to real aiohttp endpoints on port 0: what the endpoint gets, what Segment gets,
and the findings on the endpoint's answer."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator

import orjson
import pytest
from aiohttp import web

from inspector.core.checks.answers import Limits
from inspector.core.history.format import encode
from inspector.core.policy import Forward, Reply

from ..conftest import SEGMENT_HEADERS, basic, running
from ..endpoint import Endpoint, serving
from ..factories import make_event
from ..waiting import until

EVENT = orjson.dumps(make_event(messageId="fwd-1"))
# Past SLOW an answer is slow; the "slow" endpoint always takes longer (a sleep never ends
# early), and any other answer from 127.0.0.1 comes well within it even on a busy machine.
SLOW = 1.0


async def post(inspector, body: bytes) -> tuple[int, dict, bytes]:
    """Post as Segment does: a redirect is not followed."""
    async with inspector.session.post(inspector.url, data=body, headers=SEGMENT_HEADERS,
                                      allow_redirects=False) as response:
        return response.status, dict(response.headers), await response.read()


async def endpoint_handler(request: web.Request, endpoint: Endpoint) -> web.StreamResponse:
    """One endpoint, many behaviours: the first path segment says which."""
    case, _, rest = request.path.lstrip("/").partition("/")
    if case == "good":
        return web.json_response({"ok": True})
    if case == "echo":
        return web.json_response({"rest": rest})
    if case == "html500":
        return web.Response(status=500, text="<html><body><h1>Internal Server Error</h1></body></html>",
                            content_type="text/html")
    if case == "redirect":
        raise web.HTTPFound("https://example.com/v2/segment")
    if case == "slow":
        await asyncio.sleep(SLOW + 0.1)
        return web.json_response({})
    if case == "nomessage":
        return web.json_response({"error": "bad"}, status=400)
    if case == "empty503":
        return web.Response(status=503)
    if case == "not-delete":
        return web.json_response({"message": "delete is not supported"}, status=501)
    if case == "hang":
        await asyncio.sleep(5)
        return web.json_response({})
    if case == "flaky":
        if len(endpoint.on(request.path)) == 1:
            return web.json_response({})
        return web.json_response({"message": "boom"}, status=500)
    return web.json_response({"message": "no such case"}, status=404)


@pytest.fixture
async def endpoint() -> AsyncIterator[tuple[str, Endpoint]]:
    async with serving(endpoint_handler) as found:
        yield found.url.rstrip("/"), found


@pytest.fixture
def forwarding(inspector):
    inspector.hub.limits = Limits(slow=SLOW, timeout=30.0)  # only the slow endpoint is slow
    return inspector


def set_forward(inspector, url: str, mirror: bool = False) -> None:
    inspector.hub.policy.forward = Forward(url, mirror)


def kept(inspector):
    [summary] = inspector.history.search(limit=1)
    return inspector.history.get(summary.id)


def ans_codes(exchange) -> set[str]:
    return {f.code for f in exchange.findings if f.code.startswith("ANS")}


async def test_good_endpoint_gets_the_exact_request_and_segment_gets_its_answer(forwarding, endpoint):
    url, app = endpoint
    set_forward(forwarding, url + "/echo")
    headers = {**SEGMENT_HEADERS, "X-Segment-Settings": "eyJhIjoxfQ==", "Authorization": basic("k1")}
    body = b'{"type":"track","event":"A","userId":"u","messageId":"m-echo"}  '
    status, response_headers, answer = await forwarding.post(body, headers, path="/v1/t%20x?a=1&b=2")
    assert status == 200
    assert orjson.loads(answer) == {"rest": "v1/t x"}
    assert response_headers["Content-Type"].startswith("application/json")
    seen = app.seen[0]
    method, raw_path, raw_headers, seen_body = seen.method, seen.target, list(seen.raw_headers), seen.body
    assert (method, raw_path, seen_body) == ("POST", "/echo/v1/t%20x?a=1&b=2", body)
    sent = {name.decode().lower(): value.decode() for name, value in raw_headers}
    assert sent["authorization"] == basic("k1")
    assert sent["x-segment-settings"] == "eyJhIjoxfQ=="
    assert sent["user-agent"] == "Segment.io/1.0"
    assert sent["host"] == url.split("//")[1]  # rewritten to the endpoint's
    exchange = kept(forwarding)
    assert exchange.answer.chosen_by == "forward"
    assert exchange.destination.status == 200 and exchange.destination.duration > 0
    assert ans_codes(exchange) == {"ANS014"}
    assert encode(exchange)["destination"]["url"].endswith("/echo/v1/t%20x?a=1&b=2")


@pytest.mark.parametrize("case, body, status, expected", [
    ("html500", EVENT, 500, {"ANS008"}),
    ("redirect", EVENT, 302, {"ANS010"}),
    ("slow", EVENT, 200, {"ANS011"}),
    ("nomessage", EVENT, 400, {"ANS007"}),
    ("empty503", EVENT, 503, {"ANS009"}),
    ("not-delete", orjson.dumps({"type": "delete", "userId": "u1", "messageId": "d1"}), 501, {"ANS002"}),
    ("good", orjson.dumps({"type": "delete", "userId": "u1", "messageId": "d2"}), 200, {"ANS003"}),
    ("good", b'{"type": "track",', 200, {"ANS004"}),
    ("html500", b'{"type": "track",', 500, {"ANS005", "ANS008"}),
], ids=["html-500", "302", "slow", "no-message", "empty-503", "501-to-delete", "200-to-delete",
        "200-to-malformed", "500-to-malformed"])
async def test_bad_answers_are_found_and_passed_on(forwarding, endpoint, case, body, status, expected):
    url, _ = endpoint
    set_forward(forwarding, f"{url}/{case}")
    got, headers, _ = await post(forwarding, body)
    assert got == status  # Segment gets what the endpoint said
    if status == 302:
        assert headers["Location"] == "https://example.com/v2/segment"
    exchange = kept(forwarding)
    assert ans_codes(exchange) == expected | {"ANS014"}
    assert exchange.answer.status == status and exchange.answer.chosen_by == "forward"


async def test_past_segments_timeout_is_an_error(forwarding, endpoint):
    url, _ = endpoint
    forwarding.hub.limits = Limits(slow=0.1, timeout=SLOW)
    set_forward(forwarding, url + "/slow")
    assert (await forwarding.post(EVENT))[0] == 200
    assert ans_codes(kept(forwarding)) == {"ANS012", "ANS014"}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def resetting_server() -> tuple[asyncio.Server, int]:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    server = await asyncio.start_server(reset, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def assert_unreachable(inspector, words: str) -> None:
    status, headers, body = await inspector.post(EVENT)
    assert status == 503
    assert headers["Content-Type"].startswith("application/json")
    assert orjson.loads(body)["message"].startswith("destination unreachable: ")
    exchange = kept(inspector)
    assert words in exchange.destination.error
    assert exchange.destination.status is None
    assert ans_codes(exchange) == {"ANS013", "ANS014"}
    assert exchange.answer.outcome == "retried"


async def test_endpoint_down_gets_segment_a_503(forwarding):
    set_forward(forwarding, f"http://127.0.0.1:{closed_port()}/")
    await assert_unreachable(forwarding, "refused")


async def test_endpoint_resetting_gets_segment_a_503(forwarding):
    server, port = await resetting_server()
    async with server:
        set_forward(forwarding, f"http://127.0.0.1:{port}/")
        await assert_unreachable(forwarding, "")


async def test_endpoint_not_answering_in_time_gets_segment_a_503(forwarding, endpoint):
    url, _ = endpoint
    forwarding.hub.forwarder.timeout = 0.3
    set_forward(forwarding, url + "/hang")
    await assert_unreachable(forwarding, "no answer within 0.3 s")


async def test_mirror_answers_from_the_policy_and_keeps_both(forwarding, endpoint):
    url, app = endpoint
    forwarding.hub.policy.default = Reply(202)
    set_forward(forwarding, url + "/html500", mirror=True)
    status, _, _ = await forwarding.post(EVENT)
    assert status == 202
    exchange = kept(forwarding)
    assert exchange.answer.status == 202 and exchange.answer.chosen_by == "default"
    assert exchange.destination.status == 500
    assert "ANS008" in ans_codes(exchange)
    assert len(app.seen) == 1


async def test_held_request_can_be_forwarded(forwarding, endpoint):
    url, app = endpoint
    forwarding.hub.start_holding()
    posted = asyncio.ensure_future(forwarding.post(EVENT))
    await until(forwarding.hub.held, what="the request is held")
    [(held, _)] = forwarding.hub.held()
    assert not forwarding.hub.resolve_forward(held.id)  # no forward URL set
    assert forwarding.hub.resolve_forward(held.id, url + "/nomessage")
    status, _, _ = await posted
    assert status == 400
    exchange = kept(forwarding)
    assert exchange.answer.chosen_by == "hold: forward"
    assert ans_codes(exchange) == {"ANS007", "ANS014"}
    assert len(app.seen) == 1


async def test_redelivery_answered_differently_is_found(forwarding, endpoint):
    url, _ = endpoint
    set_forward(forwarding, url + "/flaky")
    assert (await forwarding.post(EVENT))[0] == 200
    first = kept(forwarding)
    assert "ANS015" not in ans_codes(first)
    assert (await forwarding.post(EVENT))[0] == 500
    again = kept(forwarding)
    assert again.redelivery is not None
    [finding] = [f for f in again.findings if f.code == "ANS015"]
    assert "200" in finding.message and "500" in finding.message and first.id in finding.message


async def test_redelivery_answered_the_same_is_fine(forwarding, endpoint):
    url, _ = endpoint
    set_forward(forwarding, url + "/good")
    for _ in range(2):
        assert (await forwarding.post(EVENT))[0] == 200
    assert ans_codes(kept(forwarding)) == {"ANS014"}


async def test_forwarded_exchange_survives_the_history(forwarding, endpoint, tmp_path):
    from inspector.core.history import History
    from inspector.core.history.format import decode

    url, _ = endpoint
    set_forward(forwarding, url + "/html500")
    await forwarding.post(EVENT)
    exchange = kept(forwarding)
    forwarding.history.flush()
    reread = History(tmp_path).load().get(exchange.id)
    assert reread.destination == exchange.destination
    assert reread.answer.content_type == exchange.answer.content_type == "text/html; charset=utf-8"
    doc = encode(exchange)
    assert encode(decode(doc)) == doc
    del doc["destination"]
    assert decode(doc).destination is None  # older documents still load


async def test_oversize_body_is_refused_not_forwarded(tmp_path, endpoint):
    url, app = endpoint
    async with running(tmp_path, forward=url + "/good", max_body=100) as inspector:
        assert (await inspector.post(b"x" * 100_000))[0] == 413
        assert inspector.history.search()[0].status == 413  # kept, and never sent on
    assert app.seen == []


async def test_held_past_the_timeout_is_forwarded(forwarding, endpoint):
    url, app = endpoint
    set_forward(forwarding, url + "/good")
    forwarding.hub.start_holding(timeout=0.1)
    status, _, body = await forwarding.post(EVENT)
    assert (status, orjson.loads(body)) == (200, {"ok": True})
    assert kept(forwarding).answer.chosen_by == "hold timeout"
    assert len(app.seen) == 1


@pytest.mark.parametrize("argv, words", [
    (["--mirror"], "--mirror: give the endpoint with --forward URL"),
    (["--forward", "ftp://example.com/"], "--forward"),
])
def test_forward_flags_are_checked(tmp_path, capsys, argv, words):
    from inspector.cli import main

    assert main(["serve", "--no-tunnel", "--data-dir", str(tmp_path), *argv]) == 2
    assert words in capsys.readouterr().err


def test_forward_comes_from_flags_and_config(tmp_path):
    import argparse

    from inspector.cli.factory import make_policy
    from inspector.cli.settings import Config, Settings

    config = Config(None, {"forward": "http://localhost:3000/s", "mirror": True})
    assert make_policy(Settings.read(argparse.Namespace(), config)).forward == Forward("http://localhost:3000/s", True)
    args = argparse.Namespace(forward="http://127.0.0.1:9/x", mirror=None)
    assert make_policy(Settings.read(args, Config(None, {}))).forward == Forward("http://127.0.0.1:9/x")


async def test_an_absolute_form_target_is_forwarded_to_the_endpoint_with_its_path_only(forwarding, endpoint):
    url, app = endpoint
    set_forward(forwarding, url + "/echo")
    body = orjson.dumps({"type": "track", "event": "A", "userId": "u", "messageId": "m-absolute"})
    port = int(forwarding.url.rstrip("/").rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST http://elsewhere.example:9/v1/x?a=1 HTTP/1.1\r\nHost: elsewhere.example\r\n"
                 b"Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
                 + body)
    answer = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    assert b" 200 " in answer.split(b"\r\n")[0]
    method, raw_path, seen_body = app.seen[0].method, app.seen[0].target, app.seen[0].body
    assert (method, raw_path, seen_body) == ("POST", "/echo/v1/x?a=1", body)

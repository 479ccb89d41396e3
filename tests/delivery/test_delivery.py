"""The delivery package against a real aiohttp endpoint on 127.0.0.1 port 0."""

from __future__ import annotations

import random
import socket
from collections.abc import AsyncIterator

import orjson
import pytest
from aiohttp import web

from inspector.delivery import MAX_ANSWER, Retrying, attempt, client, deliver

from ..endpoint import Endpoint, serving
from ..factories import make_event

BIG = b"x" * (MAX_ANSWER + 300_000)


async def by_case(request: web.Request, endpoint: Endpoint) -> web.StreamResponse:
    case = request.path
    if case == "/big":
        return web.Response(body=BIG, content_type="text/plain")
    if case == "/moved":
        raise web.HTTPFound("/ok")
    if case == "/flaky" and len(endpoint.seen) < 3:
        return web.json_response({"message": "down for maintenance"}, status=503)
    return web.json_response({})


@pytest.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    async with serving(by_case) as found:
        yield found


async def test_an_attempt_sends_segments_headers_and_judges_the_answer(endpoint) -> None:
    url = endpoint.url
    body = orjson.dumps(make_event(messageId="d-1"))
    async with client() as session:
        sent = await attempt(session, url + "ok", body, api_key="k1", settings="e30=")
    headers, seen = endpoint.seen[0].headers, endpoint.seen[0].body
    assert seen == body and headers["User-Agent"] == "Segment.io/1.0" and headers["X-Segment-Settings"] == "e30="
    assert "Accept-Encoding" not in headers and sent.exchange.auth.key == "k1"
    assert sent.reached and sent.outcome == "delivered" and sent.exchange.events[0].message_id == "d-1"
    assert [f.code for f in sent.findings] == ["ANS014"]


async def test_a_malformed_body_without_a_key_is_judged_as_sent(endpoint) -> None:
    url = endpoint.url
    async with client() as session:
        sent = await attempt(session, url + "ok", b"{not json", headers={"Content-Type": "application/json"})
    assert "Authorization" not in endpoint.seen[0].headers and sent.exchange.body_error is not None
    assert "ANS004" in {f.code for f in sent.findings}


async def test_no_redirect_is_followed_and_the_answer_is_capped(endpoint) -> None:
    url = endpoint.url
    async with client() as session:
        moved = await attempt(session, url + "moved", b"{}")
        big = await attempt(session, url + "big", b"{}")
    assert moved.destination.status == 302 and moved.outcome == "dropped" and len(endpoint.seen) == 2
    assert big.destination.body == BIG[:MAX_ANSWER]


async def test_retries_record_every_attempt_until_delivered(endpoint) -> None:
    url = endpoint.url
    seen = []
    async with client() as session:
        attempts = await deliver(session, url + "flaky", b"{}", Retrying(5, 0.001, random.Random(1)),
                                 on_attempt=seen.append)
    assert [a.destination.status for a in attempts] == [503, 503, 200] and seen == attempts


async def test_no_retry_when_segment_drops_or_retries_are_used_up(endpoint) -> None:
    url = endpoint.url
    async with client() as session:
        dropped = await deliver(session, url + "moved", b"{}", Retrying(5, 0.001))
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            closed = f"http://127.0.0.1:{sock.getsockname()[1]}/"
        down = await deliver(session, closed, b"{}", Retrying(2, 0.001))
    assert len(dropped) == 1 and dropped[0].outcome == "dropped"
    assert len(down) == 3 and not down[-1].reached and down[-1].destination.error == "connection refused"

"""The sender against real endpoints on 127.0.0.1 port 0: our receiver, and ones that fail."""

from __future__ import annotations

import asyncio
import json
import random
from collections import defaultdict
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from inspector.core.files import read_events
from inspector.core.generate import corpus, stream
from inspector.core.templates import fill
from inspector.delivery import backoff
from inspector.send import SendOptions, send

from ..conftest import CORPUS
from ..endpoint import Endpoint, serving

FAST = {"retries": 3, "time_scale": 0.001, "seed": 1}


def attempts(endpoint: Endpoint, path: str, message_id: str) -> int:
    """How many times one event came to one path."""
    return sum(seen.json().get("messageId") == message_id for seen in endpoint.on(path))


async def by_path(request: web.Request, endpoint: Endpoint) -> web.StreamResponse:
    """Answers chosen by the path, counting attempts per messageId."""
    path = request.path
    tries = attempts(endpoint, path, json.loads(await request.read()).get("messageId"))
    error = web.json_response
    if path.startswith("/fail"):  # fail3: 503 to the first three attempts
        if tries <= int(path[5:]):
            return error({"message": "down for maintenance"}, status=503)
    elif path == "/busy":
        if tries <= 2:
            return error({"message": "slow down"}, status=429)
    elif path == "/always429":
        return error({"message": "slow down"}, status=429)
    elif path == "/hang":
        if tries == 1:
            await asyncio.sleep(5)
    elif path == "/reset":
        if tries == 1 and request.transport is not None:
            request.transport.close()
            await asyncio.sleep(1)
    elif path == "/unsupported":
        return error({"message": "call type not supported"}, status=501)
    elif path == "/bad":
        return error({"message": "Missing email address"}, status=400)
    elif path == "/moved":
        raise web.HTTPFound("/ok")
    return error({})


@pytest.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    async with serving(by_path) as found:
        yield found


def _events(n: int = 3) -> list[dict]:
    return corpus(random.Random(5))[:n]


async def test_every_generated_event_arrives_with_segment_headers_and_lints_clean(inspector) -> None:
    events = corpus(random.Random(1))
    report = await send(events, SendOptions(inspector.url, api_key="partner-key", concurrency=8,
                                            settings="eyJyZWdpb24iOiJldSJ9"))
    assert report.delivered == report.events == len(events) and report.failed == 0
    exchanges = [inspector.hub.get(s.id) for s in inspector.hub.search(None)]
    assert sorted(e.events[0].message_id for e in exchanges) == sorted(e["messageId"] for e in events)
    for exchange in exchanges:
        assert not [f for f in exchange.findings if f.severity == "error"], exchange.findings
        assert not [f for f in exchange.findings if f.code.startswith(("HDR", "AUTH"))], exchange.findings
        assert exchange.header("User-Agent") == "Segment.io/1.0"
        assert exchange.header("Accept") == "*/*" and exchange.header("Cache-Control") == "no-cache"
        assert exchange.header("Connection") == "Keep-Alive"
        assert exchange.header("Content-Type") == "application/json"
        assert exchange.header("Content-Length") == str(len(exchange.body))
        assert exchange.header("X-Segment-Settings") == "eyJyZWdpb24iOiJldSJ9"
        assert exchange.header("Accept-Encoding") is None
        assert exchange.auth.key == "partner-key" and exchange.auth.password == ""
    assert report.types["track"]["delivered"] == sum(e["type"] == "track" for e in events)
    assert report.statuses == {"200": len(events)}
    assert report.findings["ANS014"]["count"] == len(events)


async def test_the_testers_templates_arrive_filled(inspector) -> None:
    events = []
    rng = random.Random(2)
    for path in sorted(CORPUS.glob("*.log")):
        events += [event for _, event in read_events(fill(path.read_text(), rng).encode(), path.name)]
    assert len(events) >= 90
    report = await send(events, SendOptions(inspector.url))
    assert report.delivered == len(events)
    exchanges = [inspector.hub.get(s.id) for s in inspector.hub.search(None)]
    assert len(exchanges) == len(events)
    for exchange in exchanges:
        assert b"{{" not in exchange.body
        assert exchange.header("User-Agent") == "Segment.io/1.0"


async def test_retries_an_endpoint_that_fails_n_times_with_the_same_message_id(endpoint) -> None:
    events = _events()
    report = await send(events, SendOptions(endpoint.url + "fail2", **FAST))
    assert report.delivered == 3 and report.failed == 0
    assert report.attempts == 9 and report.retries == 6
    assert report.statuses == {"503": 6, "200": 3}
    for event in events:
        assert attempts(endpoint, "/fail2", event["messageId"]) == 3
    by_id = defaultdict(set)
    for body in [seen.body for seen in endpoint.on("/fail2")]:
        by_id[json.loads(body)["messageId"]].add(body)
    assert all(len(bodies) == 1 for bodies in by_id.values())  # the very same bytes again


async def test_gives_up_when_the_retries_run_out(endpoint) -> None:
    report = await send(_events(1), SendOptions(endpoint.url + "fail5", **FAST))
    assert report.failed == 1 and report.attempts == 4
    failure = report.failures[0]
    assert failure.status == 503 and failure.outcome == "retried" and failure.attempts == 4
    assert failure.message == "down for maintenance" and failure.event["messageId"]


async def test_no_retries_by_default(endpoint) -> None:
    report = await send(_events(2), SendOptions(endpoint.url + "fail1"))
    assert report.failed == 2 and report.attempts == 2 and report.retries == 0


async def test_retries_429(endpoint) -> None:
    report = await send(_events(2), SendOptions(endpoint.url + "busy", **FAST))
    assert report.delivered == 2 and report.statuses == {"429": 4, "200": 2}
    report = await send(_events(1), SendOptions(endpoint.url + "always429", **FAST))
    assert report.failed == 1 and report.attempts == 4 and report.failures[0].status == 429


async def test_retries_an_endpoint_that_hangs(endpoint) -> None:
    report = await send(_events(2), SendOptions(endpoint.url + "hang", timeout=0.3, **FAST))
    assert report.delivered == 2 and report.statuses == {"timeout": 2, "200": 2}
    assert report.findings["ANS013"]["count"] == 2  # the judge: no answer
    for event in _events(2):
        assert attempts(endpoint, "/hang", event["messageId"]) == 2


async def test_a_hang_without_retries_is_a_failure(endpoint) -> None:
    report = await send(_events(1), SendOptions(endpoint.url + "hang", timeout=0.2))
    assert report.failed == 1 and report.failures[0].error == "no answer within 0.2 s"


async def test_retries_a_dropped_connection(endpoint) -> None:
    report = await send(_events(1), SendOptions(endpoint.url + "reset", **FAST))
    assert report.delivered == 1 and report.statuses["connection error"] == 1 and report.down is None


@pytest.mark.parametrize("path, status", [("unsupported", 501), ("bad", 400), ("moved", 302)])
async def test_drops_what_segment_drops(endpoint, path: str, status: int) -> None:
    report = await send(_events(2), SendOptions(endpoint.url + path, **FAST))
    assert report.failed == 2 and report.attempts == 2 and report.retries == 0
    assert {f.outcome for f in report.failures} == {"dropped"}
    assert report.statuses == {str(status): 2}
    assert not endpoint.on("/ok")  # the redirect is not followed
    if status == 302:
        assert report.findings["ANS010"]["count"] == 2


async def test_a_target_that_is_down(unused_tcp_port) -> None:
    events = stream(_events(), random.Random(1), count=1000)
    report = await send(events, SendOptions(f"http://127.0.0.1:{unused_tcp_port}/", **FAST))
    assert report.down and "refused" in report.down
    assert report.events < 1000  # it stopped taking events


async def test_count_concurrency_and_rate(endpoint) -> None:
    events = stream(corpus(random.Random(3)), random.Random(4), count=250)
    report = await send(events, SendOptions(endpoint.url + "ok", concurrency=4))
    assert report.delivered == 250 and len({seen.json()["messageId"] for seen in endpoint.seen}) == 250
    loop = asyncio.get_running_loop()
    started = loop.time()
    report = await send(stream(_events(), random.Random(1), count=20),
                        SendOptions(endpoint.url + "ok", rate=100, concurrency=8))
    assert report.delivered == 20 and loop.time() - started >= 0.18


def test_backoff_is_randomized_exponential_and_scaled() -> None:
    rng = random.Random(1)
    waits = [backoff(attempt, rng) for attempt in (1, 2, 3, 4)]
    for attempt, wait in enumerate(waits, 1):
        assert 0.5 * 2 ** (attempt - 1) <= wait <= 1.5 * 2 ** (attempt - 1)
    assert backoff(30, rng) <= 900  # capped
    assert backoff(1, rng, time_scale=0.01) <= 0.015


def test_progress_line(capsys) -> None:
    from inspector.send import SendReport, progress_line

    report = SendReport("http://x/")
    report.events, report.delivered, report.failed = 5, 4, 1
    progress_line(10, None)(report)
    err = capsys.readouterr().err
    assert err.startswith("\r[############............] 5/10") and "delivered 4" in err and "failed 1" in err

"""The receiver over real HTTP: Segment's own events, bad input, and how answers are chosen."""

from __future__ import annotations

import asyncio
import json
import random

import orjson
import pytest

from inspector.cli import main
from inspector.core.policy import Policy, parse_reply, parse_rule
from inspector.core.query import parse
from inspector.core.templates import fill

from ..conftest import CORPUS, SEGMENT_HEADERS, basic, running
from ..factories import make_event


def corpus_events(seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    lines = [line for path in sorted(CORPUS.glob("*.log"))
             for line in path.read_text().splitlines() if line.strip()]
    return [json.loads(fill(line, rng)) for line in lines]


def codes(exchange) -> list[str]:
    return [finding.code for finding in exchange.findings]


async def test_every_corpus_event_is_answered_200_kept_and_found(inspector, tmp_path, capsys):
    events = corpus_events()
    assert len(events) == 98
    results = await asyncio.gather(*(inspector.post(orjson.dumps(e)) for e in events))
    assert [status for status, _, _ in results] == [200] * len(events)
    assert len(inspector.history) == len(events)
    for event in events:
        found = inspector.history.search(parse(f'message:"{event["messageId"]}"'))
        assert len(found) == 1
        exchange = inspector.history.get(found[0].id)
        assert exchange.auth.key == "segment"
        assert exchange.events[0].type == event["type"]
        assert orjson.loads(exchange.body) == event
    assert main(["history", "--limit", "0", "--json", "--data-dir", str(tmp_path)]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(d["events"][0]["messageId"] for d in listed) == sorted(e["messageId"] for e in events)


async def raw_request(url: str, head: bytes, body: bytes) -> bytes:
    """Send bytes exactly as given, which no HTTP client library does."""
    host, port = url.split("//")[1].rstrip("/").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(head + body)
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    return status_line


async def test_exchange_keeps_the_request_exactly(inspector):
    body = b'{"type":"track","event":"X","userId":"u","messageId":"m1"}'
    head = (b"POST /some/path?a=1&b=2 HTTP/1.1\r\nHost: x\r\nX-First: 1\r\nx-dup: a\r\n"
            b"X-Dup: b\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body))
    assert b" 200 " in await raw_request(inspector.url, head, body)
    [summary] = inspector.history.search()
    exchange = inspector.history.get(summary.id)
    assert exchange.body == body
    assert exchange.path == "/some/path" and exchange.query == "a=1&b=2"
    names = [name for name, _ in exchange.headers]
    assert names.index("X-First") < names.index("x-dup") < names.index("X-Dup")
    assert ("x-dup", "a") in exchange.headers and ("X-Dup", "b") in exchange.headers
    assert exchange.peer.startswith("127.0.0.1:")
    assert exchange.events[0].message_id == "m1"
    assert exchange.answer.chosen_by == "default"
    assert exchange.duration > 0


@pytest.mark.parametrize("body, status, words", [
    (b'{"type": "track", "event": }', 400, "line 1 column 28"),
    (b'{"type": "track"', 400, "malformed JSON"),
    (b"", 400, "empty body"),
    (b"   \n", 400, "empty body"),
    (b'{"type": "track", "event": "caf\xe9"}', 400, "not UTF-8"),
    (b"type=track&event=x", 400, "malformed JSON"),
])
async def test_bad_bodies_get_400_with_a_message_and_are_kept(inspector, body, status, words):
    got, headers, reply = await inspector.post(body)
    assert got == status
    assert headers["Content-Type"].startswith("application/json")
    assert words in json.loads(reply)["message"]
    [summary] = inspector.history.search()
    exchange = inspector.history.get(summary.id)
    assert exchange.body == body
    assert exchange.answer.status == status
    assert exchange.body_error is not None and words in exchange.body_error.message
    assert "REQ003" in codes(exchange)
    assert inspector.history.search(parse("has:errors finding:REQ003"))


async def test_syntax_error_position_is_recorded(inspector):
    await inspector.post(b'{\n  "type": "track",\n  "event" "x"\n}')
    exchange = inspector.history.get(inspector.history.search()[0].id)
    assert (exchange.body_error.line, exchange.body_error.column) == (3, 11)
    assert exchange.body_error.position == 31


async def test_non_utf8_body_is_kept_losslessly(inspector):
    body = b'\xff\xfe{"type":"track"}\x80'
    await inspector.post(body)
    [summary] = inspector.history.search()
    assert inspector.history.get(summary.id).body == body


async def test_a_batch_array_is_accepted_one_event_each(inspector):
    batch = [make_event(messageId=f"b{i}", event=f"E{i}") for i in range(3)]
    status, _, _ = await inspector.post(orjson.dumps(batch))
    assert status == 200
    exchange = inspector.history.get(inspector.history.search()[0].id)
    assert [event.event for event in exchange.events] == ["E0", "E1", "E2"]
    assert inspector.history.search(parse("event:E2 is:batch"))


async def test_json_with_another_content_type_is_accepted_with_a_finding(inspector):
    headers = dict(SEGMENT_HEADERS, **{"Content-Type": "text/plain"})
    status, _, _ = await inspector.post(orjson.dumps(make_event()), headers=headers)
    assert status == 200
    exchange = inspector.history.get(inspector.history.search()[0].id)
    assert any(f.path.lower() == "header:content-type" for f in exchange.findings)


async def test_segment_headers_raise_no_header_finding(inspector):
    await inspector.post(orjson.dumps(make_event()))
    exchange = inspector.history.get(inspector.history.search()[0].id)
    assert exchange.findings == []


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
async def test_methods_other_than_post_get_405_and_are_kept(inspector, method):
    status, headers, reply = await inspector.post(b"", method=method)
    assert status == 405
    assert headers["Content-Type"].startswith("application/json")
    assert "POST" in json.loads(reply)["message"]
    assert inspector.history.search()[0].method == method
    assert inspector.history.search()[0].codes.count("REQ001") == 1


async def test_oversize_body_gets_413_with_its_head_kept(tmp_path):
    body = b'{"type": "track", "pad": "' + b"x" * 300_000 + b'"}'
    async with running(tmp_path, max_body=100_000) as inspector:
        status, headers, reply = await inspector.post(body)
        assert status == 413
        assert headers["Content-Type"].startswith("application/json")
        assert "over the limit" in json.loads(reply)["message"]
        status, _, _ = await inspector.post(orjson.dumps(make_event()), headers={})
        assert status == 200  # the connection is still good to use
        exchange = inspector.history.get(inspector.history.search(parse("status:413"))[0].id)
    assert exchange.body_size == len(body)
    assert body.startswith(exchange.body) and 0 < len(exchange.body) < len(body)
    assert "REQ002" in codes(exchange)


async def test_default_limit_accepts_bodies_well_above_32kb(inspector):
    event = make_event(properties={"blob": "x" * 1_000_000})
    status, _, _ = await inspector.post(orjson.dumps(event))
    assert status == 200


async def test_api_keys_are_enforced_before_rules(inspector):
    inspector.hub.policy = Policy(api_keys=frozenset({"right"}),
                                  rules=[parse_rule("type:track => 503")])
    body = orjson.dumps(make_event())
    missing = {k: v for k, v in SEGMENT_HEADERS.items() if k != "Authorization"}
    for headers, expected in [
        (missing, 401),
        (dict(SEGMENT_HEADERS, Authorization=basic("wrong")), 401),
        (dict(SEGMENT_HEADERS, Authorization="Bearer right"), 401),
        (dict(SEGMENT_HEADERS, Authorization=basic("right")), 503),
    ]:
        status, _resp_headers, reply = await inspector.post(body, headers=headers)
        assert status == expected, headers
        assert json.loads(reply)["message"]
    kept = inspector.history.search(newest_first=False)
    assert [s.status for s in kept] == [401, 401, 401, 503]
    assert [("AUTH008" in s.codes) for s in kept] == [False, True, False, False]


async def test_rules_first_match_wins_and_default_answers_the_rest(inspector):
    inspector.hub.policy = Policy(default=parse_reply("202"), rules=[
        parse_rule('event:"Order Completed" => 501:not supported'),
        parse_rule("type:track => 500"),
    ])
    s1, _, r1 = await inspector.post(orjson.dumps(make_event()))
    s2, _, _ = await inspector.post(orjson.dumps(make_event(event="Signed Up")))
    s3, _, _ = await inspector.post(orjson.dumps(make_event(type="identify", event=None)))
    assert (s1, s2, s3) == (501, 500, 202)
    assert json.loads(r1) == {"message": "not supported"}
    first = inspector.history.get(inspector.history.search(parse("status:501"))[0].id)
    assert first.answer.chosen_by == "rule 1"


async def test_any_status_can_be_chosen(inspector):
    for status in (201, 204, 299, 302, 418, 429, 599):
        inspector.hub.policy = Policy(default=parse_reply(str(status)))
        got, headers, body = await inspector.post(orjson.dumps(make_event()))
        assert got == status
        assert headers["Content-Type"].startswith("application/json")
        if status >= 400:
            assert json.loads(body)["message"]


async def test_delay_holds_the_answer_back(inspector):
    inspector.hub.policy = Policy(default=parse_reply("200", delay=0.3))
    loop = asyncio.get_running_loop()
    started = loop.time()
    status, _, _ = await inspector.post(orjson.dumps(make_event()))
    assert status == 200 and loop.time() - started >= 0.3


async def test_held_request_gets_exactly_what_the_person_chose(inspector):
    arrived = asyncio.Event()
    inspector.hub.subscribe(lambda notice: notice.kind == "held" and arrived.set())
    inspector.hub.start_holding(parse("type:track"))
    task = asyncio.create_task(inspector.post(orjson.dumps(make_event())))
    await asyncio.wait_for(arrived.wait(), 5)
    [(exchange, _deadline)] = inspector.hub.held()
    assert not task.done()
    assert inspector.hub.resolve(exchange.id, parse_reply("429:slow down"))
    status, _, body = await task
    assert (status, json.loads(body)) == (429, {"message": "slow down"})
    kept = inspector.history.get(exchange.id)
    assert kept.held and kept.answer.chosen_by == "hold"
    assert inspector.hub.held() == []
    assert not inspector.hub.resolve(exchange.id, parse_reply("200"))


async def test_hold_only_applies_to_matching_requests_and_to_the_next_n(inspector):
    inspector.hub.start_holding(parse("event:Purchase"), count=1, timeout=0.2)
    assert (await inspector.post(orjson.dumps(make_event())))[0] == 200
    status, _, _ = await inspector.post(orjson.dumps(make_event(event="Purchase")))
    assert status == 200  # held, then fell back to the default after 0.2 s
    assert (await inspector.post(orjson.dumps(make_event(event="Purchase"))))[0] == 200
    answers = [inspector.history.get(s.id).answer.chosen_by
               for s in inspector.history.search(newest_first=False)]
    assert answers == ["default", "hold timeout", "default"]


async def test_held_request_times_out_to_the_fallback(inspector):
    inspector.hub.start_holding(timeout=0.2, fallback=parse_reply("503:nobody answered"))
    status, _, body = await inspector.post(orjson.dumps(make_event()))
    assert (status, json.loads(body)) == (503, {"message": "nobody answered"})


async def test_redelivery_is_marked(inspector):
    body = orjson.dumps(make_event(messageId="same"))
    for _ in range(3):
        await inspector.post(body)
    first, second, third = inspector.history.search(newest_first=False)
    assert (first.redelivery, second.redelivery, third.redelivery) == (0, 1, 2)
    redelivery = inspector.history.get(third.id).redelivery
    assert redelivery.first == first.id and redelivery.since >= 0
    assert len(inspector.history.search(parse("is:redelivery"))) == 2


async def test_json_the_parsers_refuse_is_a_400_not_a_crash(inspector):
    status, _, reply = await inspector.post(b'{"type": "track", "n": ' + b"9" * 5000 + b"}")
    assert status == 400 and json.loads(reply)["message"]
    assert inspector.history.search()[0].status == 400


async def test_a_small_limit_refuses_small_bodies_too(tmp_path):
    body = orjson.dumps(make_event(properties={"pad": "x" * 5000}))
    async with running(tmp_path, max_body=1000) as inspector:
        status, _, _ = await inspector.post(body)
        assert status == 413
        exchange = inspector.history.get(inspector.history.search()[0].id)
    assert exchange.truncated and exchange.body == body[:1000] and exchange.body_size == len(body)

"""Replay against real receivers on port 0: Segment's headers, the answers and what they mean,
redirects not followed, slow targets, and a target that is down."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from pathlib import Path

from aiohttp import web

from inspector.core.history import History
from inspector.core.policy import Policy, parse_rule
from inspector.replay import replay_exchanges

from ..conftest import SEGMENT_HEADERS, basic
from ..endpoint import Endpoint, serving
from ..factories import make_event, make_exchange
from .cases import RAW_BODIES, golden_exchanges


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def received(inspector) -> list:
    return [inspector.history.get(s.id) for s in inspector.history.search(newest_first=False)]


async def test_replay_sends_each_body_exactly_with_segment_headers_and_the_original_key(inspector):
    originals = golden_exchanges() + [make_exchange(body) for body in RAW_BODIES.values()]
    shown = []
    report = await replay_exchanges(originals, inspector.url, on_result=shown.append)

    posts = [e for e in originals if e.method == "POST"]
    assert [r.exchange_id for r in report.results] == [e.id for e in posts] == [r.exchange_id for r in shown]
    assert report.skipped == [(originals[4].id, "a GET request, not one Segment sends")]
    got = received(inspector)
    assert [e.body for e in got] == [e.body for e in posts]
    for original, again in zip(posts, got, strict=False):
        assert again.auth.key == original.auth.key and again.auth.ok
        headers = dict(again.headers)
        for name in ("User-Agent", "Accept", "Cache-Control", "Content-Type"):
            assert headers[name] == SEGMENT_HEADERS[name]
        assert headers.get("X-Segment-Settings") == original.header("X-Segment-Settings")
        expected = {"Host", "Content-Length", *SEGMENT_HEADERS} | ({"X-Segment-Settings"} & set(headers))
        assert {name for name, _ in again.headers} == expected
        assert [f.code for f in again.findings if f.code.startswith("HDR")] == []
    # the receiver answers 400 to bodies that are not JSON: Segment drops those
    assert [(r.status, r.outcome) for r in report.results] == \
        [(200, "delivered"), (200, "delivered"), (200, "delivered"), (400, "dropped")] + [(400, "dropped")] * 3
    assert report.results[3].message and "UTF-8" in report.results[3].message
    assert not report.all_delivered and report.down is None


async def test_api_key_option_replaces_the_captured_key(inspector):
    await replay_exchanges(golden_exchanges()[:2], inspector.url, api_key="new-partner-key")
    assert [e.header("Authorization") for e in received(inspector)] == [basic("new-partner-key")] * 2


async def test_each_answer_says_what_segment_does_next(inspector):
    inspector.hub.policy = Policy(rules=[parse_rule("event:Retry => 503:try later"),
                                         parse_rule("event:Limit => 429"),
                                         parse_rule("event:Nope => 501:not supported"),
                                         parse_rule("event:Accept => 202")])
    exchanges = [make_exchange(make_event(event=name, messageId=name)) for name in ("Retry", "Limit", "Nope", "Accept")]
    report = await replay_exchanges(exchanges, inspector.url)
    assert [(r.status, r.outcome, r.message) for r in report.results] == [
        (503, "retried", "try later"), (429, "retried", "Too Many Requests"), (501, "dropped", "not supported"),
        (202, "delivered", None)]
    assert report.results[0].meaning.startswith("retried: Segment tries again")
    assert all(r.seconds > 0 for r in report.results)
    assert [r.message_id for r in report.results] == ["Retry", "Limit", "Nope", "Accept"]


async def test_redirects_are_not_followed():
    hits = []

    async def handler(request: web.Request, _: Endpoint) -> web.Response:
        hits.append(request.path)
        return web.Response(status=307, headers={"Location": "/elsewhere"})

    async with serving(handler) as target:
        url = target.url + "hook"
        report = await replay_exchanges([make_exchange()], url)
    assert hits == ["/hook"]
    (result,) = report.results
    assert (result.status, result.outcome, result.location) == (307, "dropped", "/elsewhere")


async def test_a_target_slower_than_the_timeout_is_what_segment_retries():
    async def handler(request: web.Request, _: Endpoint) -> web.Response:
        await asyncio.sleep(2)
        return web.Response(status=200)

    async with serving(handler) as target:
        url = target.url + "hook"
        report = await replay_exchanges([make_exchange(), make_exchange()], url, timeout=0.3)
    assert [(r.status, r.outcome, r.error) for r in report.results] == [(None, "retried", "no answer within 0.3 s")] * 2
    assert all(r.seconds > 0.25 for r in report.results)  # each waited the timeout
    assert report.down is None and not report.all_delivered


async def test_a_target_that_is_down_stops_the_replay_and_reports_every_unsent_request():
    exchanges = golden_exchanges()
    report = await replay_exchanges(exchanges, f"http://127.0.0.1:{closed_port()}/")
    assert report.results == []
    assert report.down is not None and "refused" in report.down
    assert report.unsent == [e.id for e in exchanges if e.method == "POST"]


# -- the command line ----------------------------------------------------------------


def _history(directory: Path, exchanges) -> None:
    history = History(directory).load()
    history.start_session()
    for exchange in exchanges:
        history.add(exchange)
    history.close()


async def _cli(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "inspector", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, out.decode(), err.decode()


async def test_cli_replay_prints_each_answer_and_exits_by_outcome(inspector, tmp_path):
    source = tmp_path / "captured"
    _history(source, golden_exchanges())
    code, out, err = await _cli("replay", "--to", inspector.url, "--data-dir", str(source), "type:track")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("200  delivered") and "track-Order Completed" in lines[0]
    assert lines[1] == f"1 sent to {inspector.url}: 1 delivered, 0 retried, 0 dropped"

    inspector.hub.policy = Policy(rules=[parse_rule("type:identify => 500:down for maintenance")])
    code, out, err = await _cli("replay", "--to", inspector.url, "--data-dir", str(source), "--json")
    assert code == 1, err
    docs = [json.loads(line) for line in out.splitlines()]
    # the fourth body is not JSON: the receiver answers 400, which Segment drops
    assert [(d["status"], d["outcome"]) for d in docs] == [(200, "delivered"), (500, "retried"),
                                                           (200, "delivered"), (400, "dropped")]
    assert docs[1]["message"] == "down for maintenance" and docs[1]["id"].endswith("02")
    assert "left out 01KDX000000000000000000005: a GET request" in err


async def test_cli_replay_to_a_target_that_is_down_exits_3_and_keeps_the_history(tmp_path):
    source = tmp_path / "captured"
    _history(source, golden_exchanges())
    before = sorted((p.name, p.read_bytes()) for p in source.rglob("*") if p.is_file())
    url = f"http://127.0.0.1:{closed_port()}/"
    code, out, err = await _cli("replay", "--to", url, "--data-dir", str(source))
    assert code == 3
    assert out == ""
    assert f"{url} is down (connection refused): 4 of 4 requests not sent" in err
    assert "nothing is lost" in err
    assert sorted((p.name, p.read_bytes()) for p in source.rglob("*") if p.is_file()) == before


async def test_cli_replay_usage_errors_exit_2(tmp_path):
    assert (await _cli("replay", "--to", "ftp://example.com/", "--data-dir", str(tmp_path)))[0] == 2
    assert (await _cli("replay", "--data-dir", str(tmp_path)))[0] == 2  # --to is required
    code, _, err = await _cli("replay", "--to", "http://127.0.0.1:9/", "--timeout", "0s", "--data-dir", str(tmp_path))
    assert code == 2 and "--timeout: must be more than 0" in err
    code, _, err = await _cli("replay", "--to", "http://127.0.0.1:1/", "status>=", "--data-dir", str(tmp_path))
    assert code == 2 and "query error" in err
    code, _, err = await _cli("replay", "--to", "http://127.0.0.1:1/", "--data-dir", str(tmp_path))
    assert code == 1 and "no exchange matches" in err

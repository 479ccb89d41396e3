"""The control API on its own port, over a real inspector: calls, errors, the token, the stream."""

from __future__ import annotations

import asyncio
import os
import stat
import tracemalloc
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import orjson
import pytest

from inspector.control import feed as feed_module
from inspector.control.api import VIEWER
from inspector.control.server import ControlServer
from inspector.core.history import History
from inspector.core.history.format import summary_from
from inspector.core.hub import Hub
from inspector.core.policy import Policy

from ..conftest import Inspector, running
from ..factories import make_event, make_exchange
from ..waiting import until


@dataclass
class Control:
    inspector: Inspector
    server: ControlServer
    session: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return self.server.url

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.server.token if token is None else token}", VIEWER: "ana@laptop"}

    async def call(self, method: str, path: str, doc: object = None, *, token: str | None = None,
                   data: bytes | None = None) -> tuple[int, object]:
        body = data if data is not None else None if doc is None else orjson.dumps(doc)
        async with self.session.request(method, self.url + path, data=body, headers=self.headers(token)) as answer:
            raw = await answer.read()
            return answer.status, orjson.loads(raw) if answer.content_type == "application/json" else raw


@pytest.fixture
async def control(tmp_path) -> AsyncIterator[Control]:
    async with running(tmp_path / "data") as inspector, aiohttp.ClientSession() as session:
        assert inspector.control is not None
        yield Control(inspector, inspector.control, session)


async def test_the_token_file_is_the_users_alone_and_every_call_needs_it(control, tmp_path):
    mode = os.stat(control.server.token_file).st_mode
    assert stat.S_IMODE(mode) == 0o600 and control.server.token_file.read_text().strip() == control.server.token
    for path in ("/api/status", "/api/exchanges", "/api/nothing-here"):
        for token in ("", control.server.token[:-1]):  # 7 refusals in all: fewer than lock a client out
            status, doc = await control.call("GET", path, token=token)
            assert status == 401 and "Bearer" in doc["message"]
    async with control.session.get(control.url + "/api/status") as answer:  # no header at all
        assert answer.status == 401
    assert (await control.call("GET", "/api/status"))[0] == 200
    assert ControlServer(control.inspector.hub, tmp_path / "data", port=0).token == control.server.token


async def test_a_client_that_keeps_guessing_is_refused_for_a_while(control):
    answers = [(await control.call("GET", "/api/status", token=f"guess{n}"))[0] for n in range(12)]
    assert answers[:10] == [401] * 10 and answers[10:] == [429, 429]
    assert (await control.call("GET", "/api/status"))[0] == 429  # even with the right token, for a while


async def test_the_receivers_port_never_answers_the_api(control):
    status, _, body = await control.inspector.post(b"{}", path="/api/status", method="GET",
                                                   headers=control.headers())
    assert status == 405 and b"version" not in body  # a partner request like any other, and kept as one
    [kept] = control.inspector.history.search()
    assert kept.path == "/api/status" and kept.method == "GET"


async def test_status_exchanges_pages_and_one_exchange_in_the_stored_format(control):
    for n in range(25):
        assert (await control.inspector.post(orjson.dumps(make_event(event=f"E{n}", messageId=f"m{n}"))))[0] == 200
    status, doc = await control.call("GET", "/api/status")
    assert status == 200 and doc["stored"] == 25 and doc["default"]["status"] == 200
    assert doc["localUrl"] == control.inspector.hub.local_url and control.server.token not in orjson.dumps(doc).decode()
    seen: list[str] = []
    before = None
    while True:
        status, page = await control.call("GET", "/api/exchanges?limit=10" + (f"&before={before}" if before else ""))
        assert status == 200 and page["total"] == 25
        seen += [summary_from(row).names[0] for row in page["exchanges"]]
        before = page["next"]
        if before is None:
            break
    assert seen == [f"E{n}" for n in reversed(range(25))]  # newest first, no gap, no repeat
    status, page = await control.call("GET", "/api/exchanges?offset=20&limit=10")  # in arrival order
    assert page["offset"] == 20 and [row["names"] for row in page["exchanges"]] == [[f"E{n}"] for n in range(20, 25)]
    some = page["exchanges"][2]["id"]
    status, page = await control.call("GET", f"/api/exchanges?at={some}&limit=10")
    assert page["offset"] == 20 and page["exchanges"][2]["id"] == some
    status, page = await control.call("GET", "/api/exchanges?at=01NOSUCHEXCHANGE0000000000&q=event:E1")
    assert page == {"exchanges": [], "total": 1, "offset": None}
    status, page = await control.call("GET", "/api/exchanges?q=event:E3%20OR%20event:E4")
    assert [row["names"] for row in page["exchanges"]] == [["E4"], ["E3"]]
    one = page["exchanges"][0]["id"]
    status, full = await control.call("GET", f"/api/exchanges/{one}")
    assert status == 200 and full["id"] == one and full["response"]["status"] == 200
    assert orjson.loads(full["body"])["event"] == "E4" and full["heldNow"] is False


@pytest.mark.parametrize("method, path, doc, status, words", [
    ("GET", "/api/exchanges?q=(type:track", None, 400, "query error: "),
    ("GET", "/api/exchanges?limit=0", None, 400, "limit: between 1 and 1000"),
    ("GET", "/api/exchanges?before=NOPE", None, 400, "before: no exchange"),
    ("GET", "/api/exchanges/01NOSUCHEXCHANGE0000000000", None, 404, "no exchange"),
    ("PUT", "/api/default", {"status": 700}, 400, "outside 100-599"),
    ("PUT", "/api/default", {"status": "500"}, 400, "status: expected int"),
    ("PUT", "/api/default", {"stauts": 500}, 400, "unknown field 'stauts'"),
    ("POST", "/api/rules", {"rule": "type:track"}, 400, "QUERY => STATUS"),
    ("POST", "/api/rules", {"rule": "status:500 => 200"}, 400, "can never match"),
    ("PATCH", "/api/rules/3", {"enabled": False}, 404, "no rule 3"),
    ("PUT", "/api/hold", {"timeout": "soon"}, 400, "timeout: not a duration"),
    ("PUT", "/api/forward", {"url": "ftp://x"}, 400, "url: "),
    ("POST", "/api/held/01NOSUCH", {"status": 200}, 409, "is held"),
    ("GET", "/api/export?format=pdf", None, 400, "format: one of"),
    ("DELETE", "/api/status", None, 405, "Method Not Allowed"),
])
async def test_bad_calls_are_answered_with_a_message(control, method, path, doc, status, words):
    got, answer = await control.call(method, path, doc)
    assert got == status and words in answer["message"], answer


async def test_malformed_and_oversize_bodies(control):
    status, doc = await control.call("PUT", "/api/default", data=b'{"status": 500,}')
    assert status == 400 and "not JSON" in doc["message"]
    status, doc = await control.call("PUT", "/api/default", data=b"[1]")
    assert status == 400 and "JSON object" in doc["message"]
    status, doc = await control.call("PUT", "/api/default", data=b'{"message": "' + b"x" * (2 * 1024 * 1024) + b'"}')
    assert status == 413 and "at most" in doc["message"]
    assert (await control.call("GET", "/api/status"))[0] == 200  # still serving


async def test_answers_rules_and_forwarding_change_the_hub(control):
    assert (await control.call("PUT", "/api/default", {"status": 503, "message": "down"}))[0] == 200
    assert (await control.inspector.post(orjson.dumps(make_event())))[0] == 503
    status, doc = await control.call("POST", "/api/rules", {"rule": "event:Special => 400:no"})
    assert status == 201 and doc["rules"] == [{"rule": "event:Special => 400:no", "enabled": True}]
    assert (await control.inspector.post(orjson.dumps(make_event(event="Special"))))[0] == 400
    assert (await control.call("PATCH", "/api/rules/0", {"enabled": False}))[1]["rules"][0]["enabled"] is False
    assert (await control.inspector.post(orjson.dumps(make_event(event="Special"))))[0] == 503
    await control.call("POST", "/api/rules", {"rule": "event:First => 202", "at": 0})
    status, doc = await control.call("PATCH", "/api/rules/0", {"move": 1})
    assert [r["rule"] for r in doc["rules"]] == ["event:Special => 400:no", "event:First => 202"]
    status, doc = await control.call("DELETE", "/api/rules/1")
    assert doc["removed"] == "event:First => 202" and len(doc["rules"]) == 1
    status, doc = await control.call("PUT", "/api/forward", {"url": "http://127.0.0.1:9/x", "mirror": True})
    assert doc == {"url": "http://127.0.0.1:9/x", "mirror": True}
    assert control.inspector.hub.forward is not None and control.inspector.hub.forward.mirror
    assert (await control.call("DELETE", "/api/forward"))[0] == 200 and control.inspector.hub.forward is None


async def test_a_held_request_is_answered_through_the_api_once(control):
    status, doc = await control.call("PUT", "/api/hold", {"query": "event:Wait", "count": 1, "timeout": "30s"})
    assert status == 200 and doc["count"] == 1 and doc["timeout"] == 30.0
    posting = asyncio.create_task(control.inspector.post(orjson.dumps(make_event(event="Wait"))))
    await until(lambda: len(control.inspector.hub.held()) == 1, what="the request held")
    status, doc = await control.call("GET", "/api/held")
    [held] = doc["held"]
    assert held["summary"]["names"] == ["Wait"] and held["deadline"] > held["exchange"]["time"]
    exchange_id = held["exchange"]["id"]
    status, doc = await control.call("POST", f"/api/held/{exchange_id}",
                                     {"status": 429, "headers": {"Retry-After": "7"}, "message": "later"})
    assert status == 200
    answered, headers, body = await posting
    assert answered == 429 and headers["Retry-After"] == "7" and orjson.loads(body) == {"message": "later"}
    status, doc = await control.call("POST", f"/api/held/{exchange_id}", {"status": 200})
    assert status == 409 and "answered 429 (hold, by ana@laptop)" in doc["message"]
    status, full = await control.call("GET", f"/api/exchanges/{exchange_id}")
    assert full["response"]["detail"] == "by ana@laptop"  # kept: who answered it


async def test_export_and_event_delivery(control):
    await control.inspector.post(orjson.dumps(make_event(event="Exported")))
    async with control.session.get(control.url + "/api/export?format=jsonl", headers=control.headers()) as answer:
        assert answer.status == 200 and "test_segment" not in answer.headers["Content-Disposition"]
        lines = (await answer.read()).splitlines()
    assert [orjson.loads(line)["event"] for line in lines] == ["Exported"]
    status, report = await control.call("GET", "/api/delivery")
    assert status == 200 and report["delivered"] == 1


async def stream(control: Control, query: str = "") -> aiohttp.ClientWebSocketResponse:
    return await control.session.ws_connect(control.url + "/api/stream" + query, headers=control.headers())


async def notices(socket: aiohttp.ClientWebSocketResponse, wanted: int) -> list[dict]:
    """The next notices: a message holds those of one turn of the server's loop, a line each."""
    got: list[dict] = []
    while len(got) < wanted:
        message = await asyncio.wait_for(socket.receive(), 30)
        assert message.type == aiohttp.WSMsgType.BINARY, message
        got += [orjson.loads(line) for line in message.data.splitlines()]
    return got


async def test_two_viewers_see_every_notice_and_a_reconnect_gets_what_it_missed(control):
    first, second = await stream(control), await stream(control)
    await until(lambda: len(control.server.feed.viewers) == 2, what="two viewers")
    await control.inspector.post(orjson.dumps(make_event(event="Live")))
    a, b = await notices(first, 1), await notices(second, 1)
    assert [n["kind"] for n in a] == ["recorded"] and a == b  # "arrived" is not sent: nothing to show yet
    assert a[0]["summary"]["names"] == ["Live"]
    last = a[-1]
    await first.close()
    await until(lambda: len(control.server.feed.viewers) == 1, what="the first viewer gone")
    await control.inspector.post(orjson.dumps(make_event(event="Missed")))
    await control.call("PUT", "/api/default", {"status": 202})
    back = await stream(control, f"?after={last['id']}&run={last['run']}")
    got = await notices(back, 2)
    assert [n["kind"] for n in got] == ["recorded", "answer"]
    assert [n["id"] for n in got] == [last["id"] + 1, last["id"] + 2]  # no gap, no repeat
    assert got[0]["summary"]["names"] == ["Missed"] and got[1]["state"]["default"]["status"] == 202
    elsewhere = await stream(control, f"?after={last['id']}&run=another-run")
    assert (await notices(elsewhere, 1))[0]["kind"] == "resync"
    _status, doc = await control.call("GET", "/api/status")
    assert len(doc["viewers"]) == 3
    for socket in (second, back, elsewhere):
        await socket.close()


async def test_a_viewer_too_slow_to_keep_up_is_told_to_resync_and_dropped(control, monkeypatch):
    monkeypatch.setattr(feed_module, "QUEUED", 5)
    socket = await stream(control)
    await until(lambda: len(control.server.feed.viewers) == 1, what="the viewer joined")
    [viewer] = control.server.feed.viewers
    control.inspector.hub.set_default(control.inspector.hub.default)
    [first] = await notices(socket, 1)  # one at a time, it keeps up
    assert first["kind"] == "answer" and viewer in control.server.feed.viewers
    for _ in range(20):  # twenty in one turn of the loop: more than it may have waiting
        control.inspector.hub.set_default(control.inspector.hub.default)
    got = []
    while (message := await asyncio.wait_for(socket.receive(), 30)).type == aiohttp.WSMsgType.BINARY:
        got += [orjson.loads(line) for line in message.data.splitlines()]
    assert viewer not in control.server.feed.viewers
    assert [n["kind"] for n in got] == ["resync"] and "behind" in got[0]["why"]


async def test_the_notices_kept_for_reconnecting_viewers_cost_their_own_size(tmp_path):
    """orjson's bytes hold the 4 KiB buffer they were written into: 50,000 kept would be 200 MB."""
    history = History(tmp_path / "data")
    history.start_session()
    hub = Hub(history, Policy())
    hub.bind(asyncio.get_running_loop())
    feed = feed_module.Feed(hub, dict)
    tracemalloc.start()
    try:
        for n in range(1_000):
            hub.record(make_exchange(make_event(messageId=f"m{n}")))
        kept = sum(stat.size for stat in tracemalloc.take_snapshot().statistics("filename")
                   if stat.traceback[0].filename == feed_module.__file__)
    finally:
        tracemalloc.stop()
        feed.close()
        history.close()
    assert len(feed.kept) == 1_000
    assert kept < 1_000 * 1_024, f"{kept / 1_000:.0f} bytes a kept notice"

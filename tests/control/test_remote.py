"""The remote hub: the hub's interface over another inspector's control API, as `attach` uses it."""

from __future__ import annotations

import asyncio

import orjson

from inspector.control.client import ControlClient
from inspector.control.remote import PAGE, RemoteHub
from inspector.core.policy import Reply, parse_rule
from inspector.core.query import parse

from ..factories import make_event
from ..waiting import until
from .test_api import control  # noqa: F401  (the fixture)


async def test_a_remote_hub_reads_pages_and_changes_the_server(control, tmp_path):  # noqa: F811
    for n in range(PAGE + 30):
        await control.inspector.post(orjson.dumps(make_event(event=f"E{n}", messageId=f"m{n}")))
    remote = RemoteHub(ControlClient(control.url, control.server.token, name="bo@desk"), tmp_path / "viewer")
    heard = []
    remote.subscribe(heard.append)
    await asyncio.to_thread(remote.connect)
    try:
        rows = await asyncio.to_thread(remote.rows)
        assert len(rows) == PAGE + 30
        names = await asyncio.to_thread(lambda: [rows[i].names[0] for i in (0, PAGE - 1, PAGE, len(rows) - 1)])
        assert names == ["E0", f"E{PAGE - 1}", f"E{PAGE}", f"E{PAGE + 29}"]
        assert await asyncio.to_thread(rows.position, rows.id_at(5)) == 5
        assert rows.position("7ZZZZZZZZZZZZZZZZZZZZZZZZZ") is None  # newer than the result: an arrival, not asked
        found = await asyncio.to_thread(remote.rows, parse("event:E7"))
        assert [s.names for s in found] == [("E7",)]
        exchange = await asyncio.to_thread(remote.get, found[0].id)
        assert exchange is not None and orjson.loads(exchange.body)["event"] == "E7"
        remote.add_rule(parse_rule("event:Blocked => 403:no"))
        remote.set_default(Reply(202))
        assert [str(r) for r in remote.rules] == ["event:Blocked => 403:no"]  # at once, in the mirror
        await until(lambda: len(control.inspector.hub.rules) == 1 and control.inspector.hub.default.status == 202,
                    what="the server took both changes, in order")
        assert (await control.inspector.post(orjson.dumps(make_event(event="Blocked"))))[0] == 403
        control.inspector.hub.set_default(Reply(204))  # a change made elsewhere reaches this viewer
        await until(lambda: remote.default.status == 204, what="the server's change mirrored")
        await until(lambda: any(n.kind == "recorded" and n.summary and n.summary.names == ("Blocked",)
                                for n in heard), what="the arrival heard")
        remote.start_holding(parse("event:Wait"), count=1)
        await until(lambda: control.inspector.hub.holding is not None, what="holding on the server")
        posting = asyncio.create_task(control.inspector.post(orjson.dumps(make_event(event="Wait"))))
        await until(lambda: len(remote.held()) == 1, what="the held request mirrored")
        [(waiting, _)] = remote.held()
        assert remote.resolve(waiting.id, Reply(429, "later")) and not remote.resolve(waiting.id, Reply(200))
        assert (await posting)[0] == 429
        remote.add_rule(parse_rule("event:X => 500"), at=5)  # the server refuses nothing here: it clamps
        remote.replace_rule(0, parse_rule("event:Blocked => 401"))
        await until(lambda: str(control.inspector.hub.rules[0]) == "event:Blocked => 401", what="replaced")
        report = await asyncio.to_thread(remote.delivery, parse("since:1h"))
        assert report.total == control.inspector.hub.delivery(parse("since:1h")).total
    finally:
        await asyncio.to_thread(remote.close)


async def test_a_viewer_reconnects_when_the_stream_drops(control, tmp_path):  # noqa: F811
    remote = RemoteHub(ControlClient(control.url, control.server.token), tmp_path / "viewer")
    await asyncio.to_thread(remote.connect)
    try:
        await until(lambda: len(control.server.feed.viewers) == 1, what="the viewer follows")
        [viewer] = control.server.feed.viewers
        control.server.feed.drop(viewer, "a test drops it")
        await until(lambda: remote.connection.startswith("reconnecting") or len(control.server.feed.viewers) == 1,
                    what="the drop seen")
        await until(lambda: len(control.server.feed.viewers) == 1 and viewer not in control.server.feed.viewers,
                    what="followed again")
        control.inspector.hub.set_default(Reply(503))
        await until(lambda: remote.default.status == 503 and remote.connection == "connected",
                    what="changes reach it again")
    finally:
        await asyncio.to_thread(remote.close)

"""`segment-inspector mcp --attach`: the tools act on a live inspector through its control API,
and a real HTTP client posting to the receiver gets the answer the agent chose."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from inspector.control.server import ControlServer

from ..conftest import Inspector, running
from ..factories import make_event
from ..waiting import until
from .conftest import agent, call, refusal


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[tuple[Inspector, ControlServer]]:
    async with running(tmp_path / "data") as inspector:
        server = ControlServer(inspector.hub, tmp_path / "data", port=0)
        await server.start()
        try:
            yield inspector, server
        finally:
            await server.stop()


def attach(server: ControlServer) -> tuple[str, ...]:
    return "--attach", server.url, "--token-file", str(server.token_file)


async def test_the_agents_answers_are_what_a_real_client_gets(live, tmp_path):
    inspector, server = live
    async with agent(*attach(server), "--data-dir", str(tmp_path / "data"), cwd=tmp_path) as session:
        default = await call(session, "set_default_answer", status=503, message="down for a test")
        assert default["default"]["status"] == 503
        status, _, body = await inspector.post(json.dumps(make_event(messageId="m-1")))
        assert status == 503 and json.loads(body)["message"] == "down for a test"

        rules = await call(session, "add_rule", query="event:Purchase", status=400, message="use Order Completed")
        assert rules["rules"] == [{"rule": "event:Purchase => 400:use Order Completed", "enabled": True}]
        status, _, body = await inspector.post(json.dumps(make_event(event="Purchase", messageId="m-2")))
        assert status == 400 and json.loads(body)["message"] == "use Order Completed"
        assert "query error" in await refusal(session, "add_rule", query="type:(", status=400)
        assert "rule query" in await refusal(session, "add_rule", query="is:delivered", status=400)

        held = await call(session, "hold", query="event:Wait", timeout="30s")
        assert held["hold"]["query"] == "event:Wait" and held["hold"]["timeout"] == 30.0
        waiting = asyncio.create_task(inspector.post(json.dumps(make_event(event="Wait", messageId="m-3"))))
        await until(lambda: inspector.hub.held(), what="the request held")
        rows = (await call(session, "search_exchanges", query="is:held"))["exchanges"]
        [row] = rows
        assert row["events"] == ["Wait"] and row["held"] and not waiting.done()
        exchange = await call(session, "get_exchange", id=row["id"])
        assert exchange["heldNow"] is True and exchange["segment"]["outcome"] is None
        answered = await call(session, "answer_held", id=row["id"], status=429, message="later",
                              headers={"Retry-After": "7"})
        assert answered == {"resolved": row["id"]}
        status, headers, body = await asyncio.wait_for(waiting, 30)
        assert (status, headers["Retry-After"], json.loads(body)["message"]) == (429, "7", "later")
        again = await refusal(session, "answer_held", id=row["id"], status=200)
        assert "no longer held: answered 429" in again
        assert (await call(session, "hold", stop=True)) == {"hold": None}

        await until(lambda: len(inspector.history) == 3, what="the three requests kept")
        found = await call(session, "search_exchanges")
        assert [r["status"] for r in found["exchanges"]] == [429, 400, 503]
        report = await call(session, "delivery_report")
        assert (report["retried"], report["dropped"]) == (2, 1)
        written = await call(session, "export_fixtures", format="jsonl", path="kept.jsonl")
        assert written["exported"] == 3
        assert [json.loads(line)["messageId"] for line in (tmp_path / "kept.jsonl").read_text().splitlines()] \
            == ["m-1", "m-2", "m-3"]
        assert "no exchange" in await refusal(session, "get_exchange", id="0123456789ABCDEF")
        assert "needs 6 or more" in await refusal(session, "get_exchange", id="01")


async def test_a_wrong_token_or_a_server_that_is_down_fails_at_start(live, tmp_path):
    _, server = live
    (tmp_path / "wrong").write_text("not-the-token\n")
    refused = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "inspector", "mcp", "--attach", server.url,
                         "--token-file", str(tmp_path / "wrong")], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 3 and "Bearer" in refused.stderr and refused.stdout == ""
    missing = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "inspector", "mcp", "--attach", server.url,
                         "--token-file", str(tmp_path / "none")], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "--token-file" in missing.stderr

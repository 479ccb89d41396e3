"""The control API's client against a real server: what `attach` and `mcp --attach` use."""

from __future__ import annotations

import asyncio
import socket

import orjson
import pytest

from inspector.control.client import ControlClient, ControlError, Unreachable, find_token

from ..factories import make_event
from ..waiting import until
from .test_api import control  # noqa: F401  (the fixture)


async def test_calls_change_the_live_receiver_and_the_stream_says_so(control):  # noqa: F811
    async with ControlClient(control.url, control.server.token, name="ana@laptop") as client:
        notices = client.stream()
        first = asyncio.ensure_future(anext(notices))
        await until(lambda: bool(control.server.feed.viewers), what="the stream joined")
        assert (await client.status())["viewers"] == ["ana@laptop"]
        await client.add_rule("event:Refused => 400:no")
        notice = await asyncio.wait_for(first, 30)
        assert notice["kind"] == "rules" and notice["state"]["rules"][0]["rule"] == "event:Refused => 400:no"
        assert (await control.inspector.post(orjson.dumps(make_event(event="Refused"))))[0] == 400
        page = await client.exchanges("event:Refused")
        assert page["total"] == 1 and (await client.exchange(page["exchanges"][0]["id"]))["response"]["status"] == 400
        assert await client.exchange("01NOSUCHEXCHANGE0000000000") is None
        with pytest.raises(ControlError) as refused:
            await client.add_rule("status:200 => 500")
        assert refused.value.status == 400 and "can never match" in str(refused.value)
        await notices.aclose()


async def test_a_wrong_token_and_a_server_that_is_not_there(control, tmp_path, monkeypatch):  # noqa: F811
    async with ControlClient(control.url, "wrong") as client:
        with pytest.raises(ControlError) as refused:
            await client.status()
        assert refused.value.status == 401
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with ControlClient(f"http://127.0.0.1:{port}", "t") as client:
        with pytest.raises(Unreachable, match="cannot reach"):
            await client.status()
    assert find_token(None, tmp_path / "data") == control.server.token
    monkeypatch.setenv("SEGMENT_INSPECTOR_TOKEN", "from-env")
    assert find_token(None, tmp_path / "data") == "from-env"
    (tmp_path / "given").write_text("from-file\n")
    assert find_token(str(tmp_path / "given"), tmp_path / "data") == "from-file"

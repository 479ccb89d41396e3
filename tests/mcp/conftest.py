"""`segment-inspector mcp` as an agent runs it: a subprocess over stdio, driven by the SDK's own
client, over a history a real inspector kept."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from ..conftest import running
from ..factories import make_event

# Untrusted text a request may carry: a terminal escape, a C1 CSI and a bidi override.
HOSTILE = "Order\x1b[2J\x9b31m\u202eCompleted"


def command(*args: str, cwd: Path | None = None) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=["-m", "inspector", "mcp", *args],
                                 cwd=str(cwd) if cwd else None)


@asynccontextmanager
async def agent(*args: str, cwd: Path | None = None, errlog: Path | None = None) -> AsyncIterator[ClientSession]:
    """An initialized SDK client session on `segment-inspector mcp ARGS`; the server's stderr goes to `errlog`."""
    log_path = errlog or Path(cwd or ".") / "mcp-stderr.log"
    with log_path.open("a") as log:
        async with stdio_client(command(*args, cwd=cwd), errlog=log) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield session


def text(result: Any) -> str:
    [content] = result.content
    return str(content.text)


async def call(session: ClientSession, tool: str, **arguments: Any) -> Any:
    """A tool's JSON result; the test fails with the tool's error text when it refused."""
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, text(result)
    return json.loads(text(result))


async def refusal(session: ClientSession, tool: str, **arguments: Any) -> str:
    result = await session.call_tool(tool, arguments)
    assert result.is_error, text(result)
    return text(result)


@pytest.fixture
async def kept(tmp_path: Path) -> Path:
    """A data directory holding what a real inspector received: good events, a bad one, a hostile one."""
    data = tmp_path / "data"
    async with running(data) as inspector:
        for n in range(3):
            await inspector.post(json.dumps(make_event(messageId=f"m-{n}", event="Order Completed")))
        await inspector.post(json.dumps(make_event(messageId="m-bad", userId=None, anonymousId=None)))
        await inspector.post(json.dumps(make_event(messageId="m-hostile", event=HOSTILE)))
        await inspector.post(b"{not json")
    return data

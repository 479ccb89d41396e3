"""A real inspector with the Tracking API on 127.0.0.1 port 0, and a bare destination endpoint."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import orjson
import pytest

from inspector.core.history import History
from inspector.core.hub import Hub
from inspector.core.model import Exchange
from inspector.core.policy import Policy
from inspector.local_segment.api import TRACKING, Tracking, TrackingOptions
from inspector.receiver import Receiver

from ..conftest import basic
from ..waiting import until

ROOT = Path(__file__).resolve().parents[2]
NODE_CLIENTS = ROOT / ".ci" / "node_clients"  # .ci/run: npm install --prefix .ci/node_clients @segment/analytics-node


@dataclass
class Local:
    """The inspector playing Segment: its URL, hub, history and pipeline."""

    hub: Hub
    history: History
    url: str
    tracking: Tracking
    session: aiohttp.ClientSession

    async def call(self, path: str, body: object, key: str | None = "wk", headers: dict | None = None,
                   raw: bytes | None = None) -> tuple[int, dict]:
        sent = {"Content-Type": "application/json", **({"Authorization": basic(key)} if key else {}),
                **(headers or {})}
        data = raw if raw is not None else orjson.dumps(body)
        async with self.session.post(self.url.rstrip("/") + path, data=data, headers=sent) as response:
            return response.status, await response.json(content_type=None)

    def exchanges(self, kind: str | None = None) -> list[Exchange]:
        found = [self.history.get(s.id) for s in self.history.search(newest_first=False)]
        return [e for e in found if e is not None and (kind is None or e.kind == kind)]

    def delivered(self) -> list[Exchange]:
        """What the destination side received from the pipeline: linked partner exchanges."""
        return [e for e in self.exchanges() if e.link is not None]

    async def until(self, predicate: Callable[[], object], what: str, timeout: float = 30.0) -> None:
        await until(predicate, timeout, what)


@pytest.fixture
async def local(tmp_path: Path) -> AsyncIterator[Local]:
    async with open_local(tmp_path, TrackingOptions(time_scale=0.001)) as inspector:
        yield inspector


class open_local:
    """A Local inspector with these options, as an async context manager."""

    def __init__(self, tmp_path: Path, options: TrackingOptions | None = None,
                 policy: Policy | None = None, rate_limit: float | None = None) -> None:
        self.tmp_path, self.options, self.policy = tmp_path, options, policy
        self.rate_limit = rate_limit

    async def __aenter__(self) -> Local:
        self.history = History(self.tmp_path / "data").load()
        self.history.start_session()
        hub = Hub(self.history, self.policy or Policy(), hold_timeout=5.0)
        self.receiver = Receiver(hub, host="127.0.0.1", port=0, tracking=self.options,
                                 rate_limit=self.rate_limit)
        url = await self.receiver.start()
        self.session = aiohttp.ClientSession()
        return Local(hub, self.history, url, self.receiver.app[TRACKING], self.session)

    async def __aexit__(self, *_: object) -> None:
        await self.session.close()
        await self.receiver.stop()
        self.history.close()



def node_available() -> str | None:
    """Why the analytics-node test cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed on this machine"
    if not (NODE_CLIENTS / "node_modules" / "@segment" / "analytics-node").is_dir():
        return f"@segment/analytics-node is not installed in {NODE_CLIENTS} (.ci/run installs it with npm)"
    return None

"""Shared fixtures: a real receiver on 127.0.0.1 port 0 over a real history in a temp dir."""

from __future__ import annotations

import os

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")  # read once, when Textual is first imported

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from inspector.core.hub import Hub
from inspector.core.policy import Policy
from inspector.core.store import History
from inspector.receiver import Receiver

SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS = SHARED / "corpus" / "direct-integration-tester"


def basic(key: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{key}:{password}".encode()).decode()


SEGMENT_HEADERS = {
    "Accept": "*/*",
    "Authorization": basic("segment"),
    "Cache-Control": "no-cache",
    "Connection": "Keep-Alive",
    "Content-Type": "application/json",
    "User-Agent": "Segment.io/1.0",
}


@dataclass
class Inspector:
    hub: Hub
    history: History
    url: str
    session: aiohttp.ClientSession

    async def post(self, body: bytes | str, headers: dict[str, str] | None = None,
                   path: str = "/", method: str = "POST") -> tuple[int, dict, bytes]:
        data = body.encode() if isinstance(body, str) else body
        async with self.session.request(method, self.url.rstrip("/") + path, data=data,
                                        headers=SEGMENT_HEADERS if headers is None else headers) as resp:
            return resp.status, dict(resp.headers), await resp.read()


@pytest.fixture
async def inspector(tmp_path: Path) -> AsyncIterator[Inspector]:
    history = History(tmp_path).load()
    history.start_session()
    hub = Hub(history, Policy(), hold_timeout=5.0)
    receiver = Receiver(hub, host="127.0.0.1", port=0)
    url = await receiver.start()
    async with aiohttp.ClientSession() as session:
        yield Inspector(hub, history, url, session)
    await receiver.stop()
    history.close()

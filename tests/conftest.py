"""Shared fixtures: the inspector `serve` runs, built by the same factory, listening on
127.0.0.1 port 0 over a real history in a temp dir."""

from __future__ import annotations

import os

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")  # read once, when Textual is first imported

import base64
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from inspector.cli.factory import make_inspector
from inspector.cli.settings import Settings
from inspector.control.server import ControlServer
from inspector.core.history import History
from inspector.core.hub import Hub
from inspector.review.tester import TEMPLATES

from .endpoint import Endpoint, serving

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
CORPUS = TEMPLATES  # Segment's endpoint-tester templates, as the package ships them (NOTICE.md)


@pytest.fixture(autouse=True, scope="session")
def own_home() -> None:
    """The user's own config file and data directory stay out of the tests: the default
    places (platformdirs, XDG on Linux) point into the temp directory."""
    home = tempfile.mkdtemp(prefix="home-")
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        os.environ[name] = os.path.join(home, name.split("_")[1].lower())


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
    control: ControlServer | None = None  # the control API, on a port of its own

    async def post(self, body: bytes | str, headers: dict[str, str] | None = None,
                   path: str = "/", method: str = "POST") -> tuple[int, dict, bytes]:
        data = body.encode() if isinstance(body, str) else body
        async with self.session.request(method, self.url.rstrip("/") + path, data=data,
                                        headers=SEGMENT_HEADERS if headers is None else headers) as resp:
            return resp.status, dict(resp.headers), await resp.read()


@asynccontextmanager
async def running(data_dir: Path, **flags: object) -> AsyncIterator[Inspector]:
    """The inspector `serve` runs with these flags (`max_body=1000`, `forward=URL`), its
    history in `data_dir`, on a free port, without a tunnel."""
    flags = {"port": 0, "control_port": 0, "no_tunnel": True, "hold_timeout": 5.0, **flags}
    built = make_inspector(Settings.of(data_dir=str(data_dir), **flags))
    try:
        url = await built.listeners.start()
        try:
            async with aiohttp.ClientSession() as session:
                yield Inspector(built.hub, built.history, url, session, built.listeners.control)
        finally:
            await built.listeners.stop()
    finally:
        built.close()


@pytest.fixture
async def inspector(tmp_path: Path) -> AsyncIterator[Inspector]:
    async with running(tmp_path) as started:
        yield started


@pytest.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    """A destination endpoint that keeps what it gets: 200 `{}`, or `endpoint.statuses` in turn."""
    async with serving() as found:
        yield found

"""The TUI's header follows the tunnel: its live public URL, or why there is none."""

from __future__ import annotations

import os
import signal

import pytest

from inspector.listeners import Listeners
from inspector.receiver import Receiver
from inspector.tui.app import InspectorApp
from inspector.tui.widgets.header import InspectorHeader
from inspector.tunnel import Timing, Tunnel

from ..waiting import pilot_until, until
from .conftest import FAST, alive, status


@pytest.fixture(autouse=True)
def no_animations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")


def header(app: InspectorApp) -> str:
    return app.query_one(InspectorHeader).render().plain


async def test_the_header_shows_the_live_url_and_says_when_the_tunnel_is_down(agent, hub, tmp_path):
    # "down" lasts as long as the pause before reconnecting: long enough for the header to show it
    timing = Timing(start=3.0, call=1.0, poll=0.2, first_retry=1.5)
    tunnel = Tunnel(hub, ngrok_path=agent.path, authtoken="tok", config_dir=tmp_path / "ngrok", timing=timing)
    app = InspectorApp(hub, receiver=Listeners(Receiver(hub, port=0), tunnel))
    async with app.run_test(size=(200, 30)) as pilot:
        await until(lambda: status(hub) == "up")
        first = hub.tunnel.public_url
        await pilot_until(pilot, lambda: f"public {first}" in header(app), what="the header shows the URL")
        pid = tunnel.agent_pid
        os.kill(pid, signal.SIGKILL)
        await until(lambda: "tunnel down" in header(app), what="the header says the tunnel is down")
        assert "the ngrok agent exited (killed by SIGKILL); reconnecting in" in header(app)
        assert first not in header(app)
        await until(lambda: status(hub) == "up")
        await pilot_until(pilot, lambda: f"public {hub.tunnel.public_url}" in header(app),
                          what="the header shows the new URL")
        assert first not in header(app)
        pid = tunnel.agent_pid
    assert not alive(pid)  # the app stopped the agent on exit


async def test_the_header_says_what_is_missing(hub, tmp_path):
    tunnel = Tunnel(hub, ngrok_path=None, authtoken="tok", config_dir=tmp_path / "ngrok", timing=FAST)
    app = InspectorApp(hub, receiver=Listeners(Receiver(hub, port=0), tunnel))
    async with app.run_test(size=(200, 30)) as pilot:
        await until(lambda: status(hub) == "unavailable")
        await pilot_until(pilot, lambda: "public no tunnel: ngrok not found; install it "
                          "(https://ngrok.com/download)" in header(app), what="the header says why")

"""Attached TUIs: two viewers of one running inspector under run_test(), as `attach` opens them."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import orjson
import pytest

from inspector.control.client import ControlClient
from inspector.control.remote import RemoteHub
from inspector.tui.app import InspectorApp
from inspector.tui.widgets.detail.pane import DetailPane
from inspector.tui.widgets.exchange_list import ExchangeList
from inspector.tui.widgets.header import InspectorHeader

from ..conftest import SEGMENT_HEADERS
from ..factories import make_event
from ..tui.test_app import list_text
from ..waiting import pilot_until, until_answered


@dataclass
class Served:
    """A real `serve` in a process of its own, its control API on a free port."""

    process: subprocess.Popen[str]
    url: str  # the receiver's
    control: str
    token: str

    async def post(self, event: dict) -> int:
        async with aiohttp.ClientSession() as session, \
                session.post(self.url, data=orjson.dumps(event), headers=SEGMENT_HEADERS) as answer:
            return answer.status

    async def status(self) -> dict:
        async with ControlClient(self.control, self.token, name="the test") as client:
            return await client.status()


def start_serve(data: Path, *flags: str) -> Served:
    process = subprocess.Popen([sys.executable, "-m", "inspector", "serve", "--no-tunnel", "--port", "0",
                                "--hold-timeout", "60", "--data-dir", str(data), *(flags or ("--control-port", "0"))],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None
    url = process.stdout.readline().split("receiving on ")[1].split()[0]
    control = process.stderr.readline().split("control API on ")[1].split(";")[0]
    return Served(process, url, control, (data / "control-token").read_text().strip())


@pytest.fixture
def served(tmp_path) -> Iterator[Served]:
    started = start_serve(tmp_path / "served")
    yield started
    started.process.send_signal(signal.SIGINT)
    started.process.communicate(timeout=60)


@asynccontextmanager
async def attached(served: Served, name: str, tmp_path) -> AsyncIterator[tuple[InspectorApp, object]]:
    hub = RemoteHub(ControlClient(served.control, served.token, name=name), tmp_path / name)
    await asyncio.to_thread(hub.connect)
    app = InspectorApp(hub, local_url=hub.local_url)
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            yield app, pilot
    finally:
        await asyncio.to_thread(hub.close)


async def test_two_viewers_see_one_list_and_answer_held_requests_together(served, tmp_path):
    assert await served.post(make_event(event="Before Anyone")) == 200
    async with attached(served, "ana@laptop", tmp_path) as (ana, ana_pilot), \
            attached(served, "bo@desk", tmp_path) as (bo, bo_pilot):
        for app, pilot in ((ana, ana_pilot), (bo, bo_pilot)):
            await pilot_until(pilot, lambda app=app: "Before Anyone" in list_text(app), what="the server's history")
            header = app.query_one(InspectorHeader).state
            assert header.attached == served.control and header.local_url == served.url
        assert sorted((await served.status())["viewers"]) == ["ana@laptop", "bo@desk"]
        assert await served.post(make_event(event="Live One")) == 200
        for app, pilot in ((ana, ana_pilot), (bo, bo_pilot)):
            await pilot_until(pilot, lambda app=app: "Live One" in list_text(app), what="an arrival, live")
        await ana_pilot.press("h")  # ana holds new requests: on the server

        async def holding() -> bool:
            return (await served.status())["hold"] is not None

        await until_answered(holding, what="the server holds")
        waiting = asyncio.create_task(served.post(make_event(event="Held One")))
        for app, pilot in ((ana, ana_pilot), (bo, bo_pilot)):
            await pilot_until(pilot, lambda app=app: app.query_one(InspectorHeader).state.held == 1,
                              what="both see it held")
        await pilot_until(ana_pilot, lambda: (s := ana.query_one(ExchangeList).selected) is not None and s.held,
                          what="ana's cursor on the held request")
        await ana_pilot.press("9")  # 501, from ana's keyboard
        assert await asyncio.wait_for(waiting, 30) == 501
        started = time.monotonic()
        await pilot_until(bo_pilot, lambda: bo.query_one(InspectorHeader).state.held == 0,
                          what="bo's held list empties")
        assert time.monotonic() - started < 1.0
        await pilot_until(bo_pilot, lambda: "501" in list_text(bo) and "HELD" not in list_text(bo))
        await bo_pilot.press("home")  # bo opens it: the detail is read from the server
        detail = bo.query_one(DetailPane)
        await pilot_until(bo_pilot, lambda: detail.exchange is not None and detail.exchange.answer is not None
                          and detail.exchange.answer.detail == "by ana@laptop", what="bo sees who answered")
        await bo_pilot.press("0")  # bo's default answer, 500: for everyone
        await ana_pilot.press("h")  # ana stops holding

        async def changed() -> bool:
            state = await served.status()
            return state["default"]["status"] == 500 and state["hold"] is None

        await until_answered(changed, what="both changes on the server")
        assert await served.post(make_event(event="After")) == 500
        await pilot_until(ana_pilot, lambda: ana.query_one(InspectorHeader).state.answer == "500",
                          what="bo's change on ana's screen")


async def test_a_viewer_rides_out_a_restart_of_the_server(tmp_path):
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    first = start_serve(tmp_path / "served", "--control-port", str(port))
    async with attached(first, "cy@home", tmp_path) as (app, pilot):
        assert await first.post(make_event(event="Before The Restart")) == 200
        await pilot_until(pilot, lambda: "Before The Restart" in list_text(app))
        first.process.send_signal(signal.SIGINT)
        first.process.communicate(timeout=60)
        await pilot_until(pilot, lambda: "reconnecting" in app.query_one(InspectorHeader).state.attached,
                          what="the header says reconnecting")
        again = start_serve(tmp_path / "served", "--control-port", str(port))  # same history, same token
        try:
            await pilot_until(pilot, lambda: "reconnecting" not in app.query_one(InspectorHeader).state.attached,
                              timeout=30, what="connected again")
            assert await again.post(make_event(event="After The Restart")) == 200
            await pilot_until(pilot, lambda: "After The Restart" in list_text(app), what="the list resumes")
            shown = list_text(app)
            assert shown.count("Before The Restart") == 1 and shown.count("After The Restart") == 1
        finally:
            again.process.send_signal(signal.SIGINT)
            again.process.communicate(timeout=60)


def test_attach_says_when_it_cannot_attach(tmp_path):
    for argv, code, words in ((["attach", "http://127.0.0.1:9", "--token-file", str(tmp_path / "none")], 2,
                               "no control token"),):
        done = subprocess.run([sys.executable, "-m", "inspector", *argv, "--data-dir", str(tmp_path)],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == code and words in done.stderr, done.stderr
    (tmp_path / "token").write_text("t\n")
    done = subprocess.run([sys.executable, "-m", "inspector", "attach", "http://127.0.0.1:9", "--token-file",
                           str(tmp_path / "token")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3 and "cannot attach to http://127.0.0.1:9: cannot reach" in done.stderr


async def test_a_review_from_an_attached_tui_says_its_requests_are_kept_nowhere(served, tmp_path):
    """A viewer keeps no history, and the server's is not written by viewers: the screen says so."""
    from textual.widgets import Static

    from ..review.endpoints import serving
    from ..tui.test_review_screen import start_review

    async with serving() as url, attached(served, "ana", tmp_path) as (app, pilot):
        screen = await start_review(app, pilot, url)
        await pilot_until(pilot, lambda: screen.report is not None, what="the review finishes", timeout=60)
        progress = str(screen.query_one("#progress", Static).render())
        assert f"its {screen.report.sent:,} requests are kept nowhere: this TUI is attached to" in progress
    assert (await served.status())["stored"] == 0

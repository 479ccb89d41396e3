"""The whole TUI driven by Pilot: requests arrive over real HTTP and are answered from keys."""

from __future__ import annotations

import asyncio
import functools
import html
import json
import socket
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import orjson
import pytest
from rich.text import Text
from textual.timer import Timer
from textual.widgets import Static, TabbedContent

from inspector.cli.factory import make_inspector
from inspector.cli.settings import Settings
from inspector.core.history import History
from inspector.core.hub import Hub, TunnelState
from inspector.core.policy import Policy, parse_reply
from inspector.receiver import Receiver
from inspector.tui.app import InspectorApp
from inspector.tui.screens.export import ExportScreen
from inspector.tui.widgets.detail.findings import FindingsView
from inspector.tui.widgets.detail.pane import AUTH_TAB, BODY_TAB, FINDINGS_TAB, HEADERS_TAB, RESPONSE_TAB, DetailPane
from inspector.tui.widgets.exchange_list import ExchangeList
from inspector.tui.widgets.header import InspectorHeader
from inspector.tui.widgets.search_bar import SearchBar

from ..conftest import SEGMENT_HEADERS
from ..factories import make_event
from ..waiting import pilot_until


@asynccontextmanager
async def running(tmp_path: Path, size: tuple[int, int] = (160, 45), app_options: dict | None = None,
                  **flags: object) -> AsyncIterator[tuple[InspectorApp, object, Client]]:
    """The TUI as `segment-inspector` runs it with these flags, on a free port, no tunnel."""
    inspector = make_inspector(Settings.of(data_dir=str(tmp_path), port=0, control_port=0, no_tunnel=True, **flags))
    app = InspectorApp(inspector.hub, receiver=inspector.listeners, **(app_options or {}))
    try:
        async with app.run_test(size=size) as pilot:
            async with aiohttp.ClientSession() as session:
                yield app, pilot, Client(session, app.local_url)
    finally:
        inspector.close()


class Client:
    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session = session
        self.url = url

    async def post(self, event: dict) -> tuple[int, dict]:
        async with self.session.post(self.url, data=orjson.dumps(event), headers=SEGMENT_HEADERS) as resp:
            return resp.status, json.loads(await resp.read() or b"null")


def screen_text(app: InspectorApp) -> str:
    """What the screen shows, as text: the SVG screenshot with its entities decoded."""
    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


def list_text(app: InspectorApp) -> str:
    exchanges = app.query_one(ExchangeList)
    return "\n".join(exchanges.render_line(y).text for y in range(exchanges.size.height))


async def test_posted_events_appear_and_selection_fills_the_tabs(tmp_path):
    async with running(tmp_path) as (app, pilot, client):
        assert app.local_url.startswith("http://127.0.0.1:")
        for name in ("Order Completed", "Signed Up", "Purchase"):
            assert (await client.post(make_event(event=name)))[0] == 200
        await pilot_until(pilot, lambda: app.query_one(InspectorHeader).state.received == 3)
        text = list_text(app)
        assert "Order Completed" in text and "Signed Up" in text and "Purchase" in text
        assert text.index("Purchase") < text.index("Order Completed")  # newest first
        header = app.query_one(InspectorHeader).state
        assert header.received == 3 and header.errors == 0  # Purchase is a vendor name: a warning
        await pilot.press("home")
        detail = app.query_one(DetailPane)
        await pilot_until(pilot, lambda: detail.exchange is not None, what="the detail read, off the loop")
        shown = detail.exchange
        assert shown is not None and shown.events[0].event == "Purchase"
        assert '"Purchase"' in screen_text(app)  # the body tab shows the JSON
        app.query_one(DetailPane).query_one(TabbedContent).active = FINDINGS_TAB
        await pilot.pause()
        codes = [finding.code for finding in app.query_one(FindingsView).findings]
        assert "SPEC042" in codes and "SPEC042" in screen_text(app)


async def test_keys_set_the_answer_the_next_request_gets(tmp_path):
    async with running(tmp_path) as (app, pilot, client):
        await pilot.press("0")
        assert (await client.post(make_event()))[0] == 500
        await pilot.press("7")
        assert (await client.post(make_event()))[0] == 429
        await pilot.press("2")
        assert (await client.post(make_event()))[0] == 200
        assert app.query_one(InspectorHeader).state.answer == "200"


async def test_custom_answer_screen_sets_status_message_and_delay(tmp_path):
    async with running(tmp_path) as (app, pilot, client):
        await pilot.press("r")
        await pilot.pause()
        status = app.screen.query_one("#status")
        status.value = "503"
        app.screen.query_one("#message").value = "maintenance"
        await pilot.press("enter")
        await pilot.pause()
        assert app.hub.default == parse_reply("503:maintenance")
        assert await client.post(make_event()) == (503, {"message": "maintenance"})


async def test_held_request_is_answered_from_the_keyboard(tmp_path):
    async with running(tmp_path) as (app, pilot, client):
        await pilot.press("h")
        assert app.hub.holding is not None
        waiting = asyncio.create_task(client.post(make_event(event="Held One")))
        await pilot_until(pilot, lambda: app.query_one(InspectorHeader).state.held == 1)
        assert "HELD" in list_text(app)
        assert not waiting.done()
        focused = app.focused
        exchanges = app.query_one(ExchangeList)
        assert exchanges.selected is not None and exchanges.selected.held
        await pilot.press("9")  # 501
        assert await asyncio.wait_for(waiting, 5) == (501, {"message": "Not Implemented"})
        assert app.focused is focused  # holding never moved the focus
        await pilot_until(pilot, lambda: "HELD" not in list_text(app) and "501" in list_text(app))
        detail = app.query_one(DetailPane)
        await pilot_until(pilot, lambda: detail.exchange is not None and detail.exchange.answer is not None
                          and detail.exchange.answer.status == 501, what="the detail shows the answer given")
        assert app.hub.default.status == 200  # the default answer did not change


async def test_held_requests_fall_back_when_nobody_answers(tmp_path):
    async with running(tmp_path, hold_timeout=0.5) as (app, pilot, client):
        await pilot.press("h")
        app.hub.set_default(parse_reply("202"))
        assert await asyncio.wait_for(client.post(make_event()), 5) == (202, {})
        await pilot_until(pilot, app.hub.search)
        [summary] = app.hub.search()
        assert app.hub.get(summary.id).answer.chosen_by == "hold timeout"


async def test_answer_all_held(tmp_path):
    async with running(tmp_path) as (app, pilot, client):
        await pilot.press("h")
        tasks = [asyncio.create_task(client.post(make_event(messageId=f"m{n}"))) for n in range(3)]
        await pilot_until(pilot, lambda: len(app.hub.held()) == 3)
        await pilot.press("A")
        results = await asyncio.wait_for(asyncio.gather(*tasks), 5)
        assert [status for status, _ in results] == [200, 200, 200]


async def test_search_filters_the_whole_history_and_shows_errors_in_place(tmp_path):
    async with running(tmp_path) as (app, pilot, client):
        for name in ("Order Completed", "Signed Up"):
            await client.post(make_event(event=name))
        await pilot_until(pilot, lambda: "Signed Up" in list_text(app))
        await pilot.press("slash")
        await pilot.press(*"event:Signed*", "enter")
        await app.workers.wait_for_complete()
        await pilot_until(pilot, lambda: "Order Completed" not in list_text(app))
        assert "Signed Up" in list_text(app)
        await client.post(make_event(event="Order Completed"))
        await client.post(make_event(event="Signed Out"))
        # Signed Out came second: once it shows, Order Completed would show too if it matched
        await pilot_until(pilot, lambda: "Signed Out" in list_text(app))
        assert "Order Completed" not in list_text(app)
        # A query that does not parse is pointed at under the input; the last good one stays in force.
        await pilot.press(*" (unclosed", "enter")
        bar = app.query_one(SearchBar)
        await pilot_until(pilot, lambda: bar.has_class("-invalid"), what="the search bar shows the error")
        pointer = bar.query_one("#search-error", Static).content
        assert isinstance(pointer, Text) and pointer.plain == " " * len("event:Signed* (unclosed") + "^ expected ')'"
        assert "^ expected ')'" in screen_text(app)
        assert app.filter is not None and app.filter.text == "event:Signed*"
        assert "Signed Out" in list_text(app) and "Order Completed" not in list_text(app)


async def test_rule_from_selected_answers_requests_like_it(tmp_path):
    async with running(tmp_path) as (app, pilot, client):
        await client.post(make_event(event="Purchase"))
        await pilot_until(pilot, lambda: "Purchase" in list_text(app))
        await pilot.press("home", "x")
        await pilot.pause()
        app.screen.query_one("#status").value = "400"
        app.screen.query_one("#message").value = "use Order Completed"
        await pilot.press("enter")
        await pilot.pause()
        assert [str(rule) for rule in app.hub.rules] == [
            'type:"track" event:"Purchase" => 400:use Order Completed']
        assert await client.post(make_event(event="Purchase")) == (400, {"message": "use Order Completed"})
        assert (await client.post(make_event(event="Order Completed")))[0] == 200
        await pilot.press("R")
        await pilot.pause()
        await pilot.press("space")  # disable it
        await pilot.press("escape")
        assert (await client.post(make_event(event="Purchase")))[0] == 200


async def test_untrusted_text_is_inert_in_the_list_the_tabs_and_the_header(tmp_path):
    hostile = "[@click=app.quit]x[/] [bold]b[/bold] \x1b[31mred \x1b]0;pwned\x07 \x9b2J"
    async with running(tmp_path) as (app, pilot, client):
        app.hub.set_tunnel(TunnelState("external", public_url="https://[@click=app.quit]evil[/].example"))
        headers = dict(SEGMENT_HEADERS, **{"X-Note": hostile.replace("\x1b", "").replace("\x07", "")
                                           .replace("\x9b", "")})
        async with client.session.post(client.url, headers=headers, data=orjson.dumps(
                make_event(event=hostile, userId=hostile, properties={hostile: hostile}))) as resp:
            assert resp.status == 200
        await pilot_until(pilot, lambda: app.query_one(ExchangeList).row_count == 1)
        await pilot.press("home")
        await pilot.pause()
        assert "[@click=app.qu" in list_text(app)  # cut to the column, but literal
        tabs = app.query_one(DetailPane).query_one(TabbedContent)
        for tab in (BODY_TAB, HEADERS_TAB, AUTH_TAB, FINDINGS_TAB, RESPONSE_TAB):
            tabs.active = tab
            await pilot.pause()
            svg = screen_text(app)
            assert "\x1b" not in svg and "\x9b" not in svg and "\x07" not in svg
            if tab in (BODY_TAB, HEADERS_TAB):
                assert "[@click=app.quit]x[/]" in svg, tab
        app._show_header()
        header = app.query_one(InspectorHeader).render().plain
        assert "[@click=app.quit]evil[/]" in header
        await pilot.click(ExchangeList, offset=(40, 0))
        await pilot.pause()
        assert app.is_running


async def test_keys_are_remapped_by_binding_id(tmp_path):
    history = History(tmp_path).load()
    hub = Hub(history, Policy())
    app = InspectorApp(hub, local_url="http://127.0.0.1:8686/", keymap={"answer.503": "f5"})
    async with app.run_test() as pilot:
        await pilot.press("f5")
        assert hub.default.status == 503
        await pilot.press("question_mark")
        await pilot.pause()
        assert "f5" in screen_text(app) and "answer.503" in screen_text(app)


async def test_export_marked_exchanges_from_the_tui(tmp_path):
    async with running(tmp_path / "data") as (app, pilot, client):
        for name in ("Order Completed", "Signed Up", "Purchase"):
            await client.post(make_event(event=name, messageId=name))
        await pilot_until(pilot, lambda: app.query_one(ExchangeList).row_count == 3)
        await pilot.press("home", "m", "j", "j", "m")  # Purchase and Order Completed
        assert "●" in list_text(app)
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#format").value = "jsonl"
        out = tmp_path / "fixtures.jsonl"
        app.screen.query_one("#path").value = str(out)
        await pilot.click("#ok")
        await app.workers.wait_for_complete()
        await pilot.pause()
        events = [json.loads(line) for line in out.read_text().splitlines()]
        assert sorted(event["event"] for event in events) == ["Order Completed", "Purchase"]


@pytest.mark.parametrize("redact", [False, True])
async def test_an_export_holding_api_keys_says_so_in_its_toast(tmp_path, redact):
    async with running(tmp_path / "data") as (app, pilot, client):
        await client.post(make_event(event="Order Completed"))  # with Segment's Basic auth: the API key
        await pilot_until(pilot, lambda: app.query_one(ExchangeList).row_count == 1)
        await pilot.press("e")
        await pilot_until(pilot, lambda: isinstance(app.screen, ExportScreen), what="the export dialog")
        app.screen.query_one("#format").value = "har"  # it keeps each request's headers
        out = tmp_path / "fixtures.har"
        app.screen.query_one("#path").value = str(out)
        app.screen.query_one("#redact").value = redact
        await pilot.click("#ok")
        await pilot_until(pilot, lambda: any("exported 1" in n.message for n in app._notifications),
                          what="the export's toast")
        [toast] = [n for n in app._notifications if "exported 1" in n.message]
        key = SEGMENT_HEADERS["Authorization"].split()[1]  # Basic credentials, as they would be sent again
        if redact:
            assert "API keys" not in toast.message and toast.severity == "information"
            assert key not in out.read_text()
        else:
            assert toast.message.endswith(
                ": it holds API keys in the clear, so only you can read it; Redact replaces them")
            assert toast.severity == "warning" and key in out.read_text()
            assert stat.S_IMODE(out.stat().st_mode) == 0o600


async def test_replay_the_selected_request_and_compare_the_answers(tmp_path):
    target_history = History(tmp_path / "target").load()
    target = Receiver(Hub(target_history, Policy(default=parse_reply("503:busy"))), port=0)
    target_url = await target.start()
    try:
        async with running(tmp_path / "data") as (app, pilot, client):
            await client.post(make_event(event="Order Completed"))
            await pilot_until(pilot, lambda: app.query_one(ExchangeList).row_count == 1)
            await pilot.press("home", "p")
            await pilot.pause()
            app.screen.query_one("#url").value = target_url
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            text = screen_text(app)
            assert "what we answered Segment" in text and "503" in text and "busy" in text
            assert "retried" in text and "delivered" in text
        [replayed] = target_history.search()
        assert target_history.get(replayed.id).events[0].event == "Order Completed"
    finally:
        await target.stop()
        target_history.close()


def notice_timers(app: InspectorApp) -> list:
    """The running timers, on the app or any screen, that call back into the app or its notice batches."""
    def target(timer: Timer) -> object:
        callback = timer._callback
        if isinstance(callback, functools.partial):  # set_timer wraps it: partial(call_next, callback)
            callback = callback.args[0]
        return getattr(callback, "__self__", None)

    owners = [app, *app.screen_stack]
    return [timer for owner in owners for timer in owner._timers
            if timer._task is not None and not timer._task.done() and target(timer) in (app, app.notices)]


async def test_a_single_request_shows_without_a_polling_timer(tmp_path):
    async with running(tmp_path) as (app, pilot, client):
        await pilot_until(pilot, lambda: not notice_timers(app), what="the app goes quiet")
        timers_when_recorded: list[list] = []
        app.hub.subscribe(lambda notice: notice.kind == "recorded"
                          and timers_when_recorded.append(notice_timers(app)))
        await client.post(make_event(event="Order Completed"))
        await pilot_until(pilot, lambda: "Order Completed" in list_text(app))
        # Nothing was scheduled to bring the request to the screen: the notice itself did.
        assert timers_when_recorded == [[]]


async def test_a_free_text_search_shows_the_arrivals_whose_body_has_the_words(tmp_path):
    async with running(tmp_path) as (app, pilot, client):
        await pilot.press("slash", *"zebrafish", "enter")
        await pilot_until(pilot, lambda: not app.searching, what="the search done")
        await client.post(make_event(event="Plain"))
        await client.post(make_event(event="Aquarium", properties={"note": "zebrafish tank"}))
        await client.post(make_event(event="Plainer"))
        await pilot_until(pilot, lambda: app.query_one(InspectorHeader).state.received == 3, what="all three in")
        await pilot_until(pilot, lambda: "Aquarium" in list_text(app), what="the arrival that matches shows")
        assert "Plain" not in list_text(app)


async def test_a_held_request_answered_after_a_search_shows_its_answer(tmp_path):
    async with running(tmp_path) as (app, pilot, client):
        await pilot.press("h")
        waiting = asyncio.create_task(client.post(make_event(event="Held One")))
        await pilot_until(pilot, lambda: "HELD" in list_text(app))
        await pilot.press("slash", *"type:track", "enter")  # the search's result holds the held request
        await pilot_until(pilot, lambda: not app.searching, what="the search done")
        app.query_one(ExchangeList).focus()
        await pilot.press("9")
        assert (await asyncio.wait_for(waiting, 5))[0] == 501
        await pilot_until(pilot, lambda: "501" in list_text(app) and "HELD" not in list_text(app),
                          what="the answered row replaces the held one")


async def test_the_column_names_stay_over_their_columns_once_the_scrollbar_shows(tmp_path):
    from inspector.tui.widgets.list_header import ListHeader

    async with running(tmp_path, size=(100, 30)) as (app, pilot, client):
        exchanges = app.query_one(ExchangeList)
        header = app.query_one(ListHeader)

        def aligned(name: str) -> bool:
            row = next((line for line in list_text(app).splitlines() if name in line), None)
            return row is not None and header.render_line(0).text.index("event") == row.index(name)

        await client.post(make_event(event="First Event"))
        await pilot_until(pilot, lambda: aligned("First Event"))
        assert not exchanges.show_vertical_scrollbar and exchanges.following
        # The terminal shows the header as last painted: it must be painted again once the
        # scrollbar narrows the rows, even while the list follows arrivals (no other repaint then).
        painted_with_scrollbar = []
        refresh = header.refresh

        def recorded(*args, **kwargs):
            painted_with_scrollbar.append(exchanges.show_vertical_scrollbar)
            return refresh(*args, **kwargs)

        header.refresh = recorded
        for n in range(40):  # more than the list shows: the scrollbar comes with them
            await client.post(make_event(event=f"More {n}"))
        await pilot_until(pilot, lambda: exchanges.show_vertical_scrollbar and "More 39" in list_text(app),
                          what="the scrollbar shows")
        await pilot_until(pilot, lambda: any(painted_with_scrollbar), what="the header painted again")
        assert aligned("More 39")


async def test_marks_outlive_a_restart(tmp_path):
    async with running(tmp_path) as (app, pilot, client):
        await client.post(make_event(event="Keep Me"))
        await client.post(make_event(event="Not Me"))
        await pilot_until(pilot, lambda: "Not Me" in list_text(app) and "Keep Me" in list_text(app))
        exchanges = app.query_one(ExchangeList)
        await pilot.press("end")  # newest first: the oldest, Keep Me, is last
        await pilot_until(pilot, lambda: exchanges.selected is not None and exchanges.selected.names == ("Keep Me",))
        await pilot.press("m")
        marked = exchanges.selected.id
        assert list(exchanges.marked) == [marked]
    assert stat.S_IMODE((tmp_path / "marks.json").stat().st_mode) == 0o600
    async with running(tmp_path) as (app, pilot, _):
        exchanges = app.query_one(ExchangeList)
        await pilot_until(pilot, lambda: "Keep Me" in list_text(app))
        assert list(exchanges.marked) == [marked]
        shown = next(line for line in list_text(app).splitlines() if "Keep Me" in line)
        assert "●" in shown and "●" not in next(line for line in list_text(app).splitlines() if "Not Me" in line)


async def test_y_copies_the_url_and_says_why_there_is_no_public_one(tmp_path):
    """The header cuts the tunnel's note at 80 columns; the copy's toast says it whole."""
    async with running(tmp_path, size=(80, 24)) as (app, pilot, _):
        await pilot.press("y")
        await pilot_until(pilot, lambda: any("copied" in n.message for n in app._notifications),
                          what="the toast of the copy")
        [toast] = [n.message for n in app._notifications if "copied" in n.message]
        assert toast == (f"copied {app.local_url} "
                         "(no public URL: no tunnel (--no-tunnel): Segment cannot reach this URL)")


async def test_a_taken_port_stops_the_tui_with_exit_3_as_serve_does(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        inspector = make_inspector(Settings.of(data_dir=str(tmp_path), port=port, no_control=True, no_tunnel=True))
        app = InspectorApp(inspector.hub, receiver=inspector.listeners)
        try:
            async with app.run_test() as pilot:
                await pilot_until(pilot, lambda: app.return_code is not None, what="the app told to stop")
        finally:
            inspector.close()
    assert app.return_code == 3
    said = " ".join(capsys.readouterr().err.split())  # the terminal's width breaks the line
    assert f"segment-inspector: cannot listen on 127.0.0.1:{port}: " in said and "address already in use" in said


async def test_the_header_says_hold_is_off_once_the_requests_asked_for_were_held(tmp_path):
    async with running(tmp_path) as (app, pilot, client):
        app.hub.start_holding(count=1)
        await pilot_until(pilot, lambda: "(next 1)" in app.query_one(InspectorHeader).state.hold)
        posting = asyncio.ensure_future(client.post(make_event()))
        await pilot_until(pilot, lambda: len(app.hub.held()) == 1, what="the one asked for held")
        header = app.query_one(InspectorHeader)
        await pilot_until(pilot, lambda: header.state.hold == "off (the ones asked for were held)",
                          what=f"the header's hold: {header.state.hold}")
        app.hub.release_all()
        await posting

"""The TUI at 80x24, 100x30 and 160x45: everything a newcomer needs is on screen.

Each test runs the real app with its receiver at each size, posts over real HTTP and
waits for what it checks by condition (`until`), never for a fixed time.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.widgets import Button

from inspector.core.hub import TunnelState
from inspector.tui.app import InspectorApp
from inspector.tui.screens.export import ExportScreen
from inspector.tui.screens.response import ResponseScreen
from inspector.tui.widgets.detail.pane import DetailPane
from inspector.tui.widgets.exchange_list import ExchangeList
from inspector.tui.widgets.header import InspectorHeader
from inspector.tui.widgets.list_header import ListHeader
from inspector.tunnel import NEITHER, NO_TOKEN

from ..factories import make_event
from ..waiting import pilot_until
from .test_app import running

SIZES = [(80, 24), (100, 30), (160, 45)]
sizes = pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])


async def until(pilot, predicate: Callable[[], object], what: str) -> None:
    """Let the app run until `predicate()` holds; fail naming `what` past the deadline."""
    await pilot_until(pilot, predicate, what=what)


def lines(app: InspectorApp) -> list[str]:
    """What the terminal shows now, line by line, as the compositor draws it."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def shown(app: InspectorApp, text: str) -> bool:
    return any(text in line for line in lines(app))


def inside(app: InspectorApp, widget) -> bool:
    """The widget is drawn wholly within the terminal."""
    region, screen = widget.region, app.screen.region
    return region.width > 0 and region.height > 0 and screen.contains_region(region)


@sizes
async def test_the_status_line_shows_under_a_long_tunnel_message(tmp_path, size):
    async with running(tmp_path, size) as (app, pilot, client):
        note = f"{NEITHER}\n{NO_TOKEN}"
        app.hub.set_tunnel(TunnelState("unavailable", note=note))
        assert (await client.post(make_event()))[0] == 200
        header = app.query_one(InspectorHeader)
        await until(pilot, lambda: header.state.received == 1, "the arrival counted")
        await until(pilot, lambda: lines(app)[1].strip().startswith("answer 200  rules 0  hold off"),
                    "the status line on the header's second line")
        assert "received 1" in lines(app)[1]
        assert "ngrok not found" in lines(app)[0]
        assert str(header.tooltip) == note, "the whole message is in the tooltip"


@sizes
async def test_the_search_box_shows_what_is_typed_and_errors_as_you_type(tmp_path, size):
    async with running(tmp_path, size) as (app, pilot, client):
        assert (await client.post(make_event(event="Checkout Step Completed")))[0] == 200
        await until(pilot, lambda: app.query_one(ExchangeList).row_count == 1, "the arrival listed")
        await pilot.press("slash", *"status>")
        await until(pilot, lambda: shown(app, "status>") and shown(app, "needs a value"),
                    "the typed text, and the error without pressing enter")
        await pilot.press(*"=300")
        await until(pilot, lambda: not shown(app, "needs a value"), "the error gone once the query is valid")
        await pilot.press("enter")
        await until(pilot, lambda: shown(app, "no request matches status>=300"), "the empty result explained")


@sizes
async def test_list_and_detail_are_both_usable_and_z_maximizes_either(tmp_path, size):
    width, height = size
    async with running(tmp_path, size) as (app, pilot, client):
        assert (await client.post(make_event(event="Checkout Step Completed")))[0] == 200
        await until(pilot, lambda: shown(app, '"event": "Checkout Step Completed"'), "the body shown")
        exchanges, detail = app.query_one(ExchangeList), app.query_one(DetailPane)
        assert detail.region.width >= min(60, width - 2) and detail.region.height >= 8
        assert exchanges.region.height >= 4 and inside(app, detail) and inside(app, exchanges)

        exchanges.focus()
        await pilot.press("z")
        await until(pilot, lambda: not detail.display or detail.region.width == 0, "only the list")
        assert exchanges.region.height >= height - 8
        await pilot.press("z")
        await until(pilot, lambda: detail.region.height >= 8, "both panes again")
        app.query_one("BodyView").focus()
        await pilot.press("z")
        await until(pilot, lambda: exchanges.region.height == 0, "only the detail pane")
        assert detail.region.height >= height - 6 and shown(app, "Checkout Step Completed")


@sizes
async def test_dialogs_fit_with_their_buttons_on_screen(tmp_path, size):
    async with running(tmp_path, size) as (app, pilot, client):
        assert (await client.post(make_event()))[0] == 200
        await until(pilot, lambda: app.query_one(ExchangeList).selected is not None, "a selection")
        for key, screen_type in (("e", ExportScreen), ("r", ResponseScreen)):
            await pilot.press(key)
            await until(pilot, lambda kind=screen_type: isinstance(app.screen, kind), f"{key} opens its dialog")
            await pilot.pause()
            for button in app.screen.query(Button):
                assert inside(app, button), f"{button.label} is cut off by the terminal"
            await pilot.press("escape")
            await until(pilot, lambda kind=screen_type: not isinstance(app.screen, kind), "the dialog closed")


@sizes
async def test_new_arrivals_are_followed_then_counted_once_the_user_moves(tmp_path, size):
    async with running(tmp_path, size) as (app, pilot, client):
        exchanges = app.query_one(ExchangeList)
        for n in range(3):
            assert (await client.post(make_event(event=f"Arrival {n}", messageId=f"m-{n}")))[0] == 200
        await until(pilot, lambda: exchanges.row_count == 3, "three arrivals")
        await until(pilot, lambda: exchanges.selected.names == ("Arrival 2",), "the newest selected")

        exchanges.focus()
        await pilot.press("down")
        assert not exchanges.following
        page = exchanges.scrollable_content_region.height
        for n in range(3, 3 + page + 5):
            await client.post(make_event(event=f"Arrival {n}", messageId=f"m-{n}"))
        await until(pilot, lambda: exchanges.row_count == page + 8, "the burst listed")
        assert exchanges.selected.names == ("Arrival 1",), "arrivals never move the user's cursor"
        header = app.query_one(ListHeader)
        await until(pilot, lambda: exchanges.unseen > 0 and f"{exchanges.unseen} new ↑" in header.render_line(0).text,
                    "a count of the arrivals out of view")

        await pilot.press("n")
        newest = f"Arrival {page + 7}"
        await until(pilot, lambda: exchanges.selected.names == (newest,), "n selects the newest")
        assert exchanges.following and "new ↑" not in header.render_line(0).text
        await until(pilot, lambda: shown(app, newest), "the newest on screen")


@sizes
async def test_the_list_has_named_columns_of_stable_width(tmp_path, size):
    async with running(tmp_path, size) as (app, pilot, client):
        header = app.query_one(ListHeader)
        await until(pilot, lambda: "time" in header.render_line(0).text, "the column names")
        before = header.render_line(0).text
        assert all(name in before for name in ("time", "answer", "type", "event"))
        await client.post(make_event(event="Checkout Step Completed", userId="someone-with-a-long-user-id"))
        await client.post({"type": "identify", "userId": "user-77", "messageId": "m-identify",
                           "traits": {"email": "a@example.com"}})
        await until(pilot, lambda: app.query_one(ExchangeList).row_count == 2, "both arrivals")
        assert header.render_line(0).text == before, "widths do not change as data arrives"
        text = "\n".join(lines(app))
        assert "Checkout Step Completed " in text, "a 23-character Spec name shows whole"
        identify = next(line for line in lines(app) if "identify" in line)
        assert "a@example.com" in identify.split("identify", 1)[1], "identify shows its traits' email"

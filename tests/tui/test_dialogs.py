"""Dialogs and answering from them: keys typed in a burst, enter on a checkbox, one toast,
a held request answered with a body and headers of the user's choosing."""

from __future__ import annotations

import asyncio

from textual import events
from textual.widgets import Checkbox, Static, TextArea

from inspector.core.policy import Forward, parse_headers
from inspector.tui.screens.forward import ForwardScreen
from inspector.tui.screens.response import ResponseScreen
from inspector.tui.widgets.detail.pane import DetailPane
from inspector.tui.widgets.exchange_list import ExchangeList

from ..factories import make_event
from ..waiting import pilot_until
from .test_app import running


async def test_keys_typed_in_one_burst_reach_the_status_field(tmp_path):
    async with running(tmp_path) as (app, pilot, _client):
        for key in "r429":  # as a terminal delivers a fast typist's (or tmux's) keys: all queued at once
            app.post_message(events.Key(key, key))
        await pilot_until(pilot, lambda: isinstance(app.screen, ResponseScreen), what="r opens the dialog")
        await pilot_until(pilot, lambda: app.screen.query_one("#status").value == "429",
                          what="429 typed into the status field")
        await pilot.press("enter")
        await pilot_until(pilot, lambda: app.hub.default.status == 429, what="429 answers new requests")


async def test_enter_on_a_checkbox_submits_and_space_toggles_it(tmp_path):
    async with running(tmp_path) as (app, pilot, _client):
        await pilot.press("f")
        await pilot_until(pilot, lambda: isinstance(app.screen, ForwardScreen))
        app.screen.query_one("#url").value = "http://127.0.0.1:9/hook"
        mirror = app.screen.query_one("#mirror", Checkbox)
        mirror.focus()
        await pilot.press("space")
        await pilot_until(pilot, lambda: mirror.value, what="space toggles")
        await pilot.press("enter")
        await pilot_until(pilot, lambda: app.hub.forward == Forward("http://127.0.0.1:9/hook", mirror=True),
                          what="enter on the checkbox submits")
        assert not isinstance(app.screen, ForwardScreen)


async def test_answer_keys_leave_one_toast_and_a_dialog_opens_over_none(tmp_path):
    async with running(tmp_path) as (app, pilot, _client):
        app.NOTIFICATION_TIMEOUT = 3600  # a toast goes only when the app takes it down, not by timing out
        for key in "2075":
            await pilot.press(key)
        await pilot_until(pilot, lambda: app.hub.default.status == 401)
        await pilot_until(pilot, lambda: toasts(app) == ["new requests are answered 401"],
                          what="one toast, the last answer's")
        await pilot.press("r")
        await pilot_until(pilot, lambda: isinstance(app.screen, ResponseScreen))
        await pilot_until(pilot, lambda: toasts(app) == [], what="no toast over the dialog")


def toasts(app) -> list[str]:
    """The notifications up (run_test draws no toasts)."""
    return [notification.message for notification in app._notifications]


async def test_a_held_request_is_answered_with_headers_and_a_body(tmp_path):
    async with running(tmp_path) as (app, pilot, client):
        await pilot.press("h")
        waiting = asyncio.create_task(client.session.post(client.url, json=make_event()))
        await pilot_until(pilot, lambda: len(app.hub.held()) == 1, what="the request held")
        await pilot_until(pilot, lambda: app.query_one(ExchangeList).selected is not None)
        await pilot.press("r")
        await pilot_until(pilot, lambda: isinstance(app.screen, ResponseScreen))
        dialog = app.screen
        dialog.query_one("#status").value = "429"
        dialog.query_one("#headers", TextArea).load_text("Retry-After: 30")
        dialog.query_one("#body", TextArea).load_text('{"error": "slow down"')
        await pilot.press("ctrl+s")
        await pilot_until(pilot, lambda: "not JSON" in str(dialog.query_one("#problem").render()),
                          what="a body that is not JSON is refused")
        dialog.query_one("#body", TextArea).load_text('{"error": "slow down"}')
        await pilot.press("ctrl+s")
        response = await asyncio.wait_for(waiting, 10)
        assert response.status == 429 and response.headers["Retry-After"] == "30"
        assert await response.json() == {"error": "slow down"}
        await pilot_until(pilot, lambda: app.hub.search() and app.hub.search()[0].status == 429)
        assert app.hub.get(app.hub.search()[0].id).answer.headers == [("Retry-After", "30")]


def test_headers_are_read_one_a_line_and_bad_ones_refused():
    assert parse_headers("Retry-After: 30\n\nX-Note:  a: b ") == (("Retry-After", "30"), ("X-Note", "a: b"))
    for bad in ("no colon", "Bad Name: 1", "X: a\x07b"):
        try:
            parse_headers(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} accepted")


async def test_the_detail_pane_shows_the_short_id_and_i_copies_it(tmp_path):
    async with running(tmp_path) as (app, pilot, client):
        assert (await client.post(make_event(event="Signed Up")))[0] == 200
        await pilot_until(pilot, lambda: app.query_one(DetailPane).exchange is not None)
        exchange_id = app.query_one(DetailPane).exchange.id
        short = app.hub.short_id(exchange_id)
        assert exchange_id.startswith(short) and app.hub.get(short).id == exchange_id
        line = app.query_one("#detail-id", Static)
        await pilot_until(pilot, lambda: line.display and str(line.content).startswith(f"id {short} · i copies it"),
                          what="the id in the pane")
        await pilot.press("i")
        await pilot_until(pilot, lambda: app.clipboard == short, what="i copies the id")

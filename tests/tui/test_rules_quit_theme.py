"""Rules typed and edited in the rules screen, a removal undone, quitting with held
requests asked first, and the theme the user picks kept for the next start."""

from __future__ import annotations

import asyncio

from textual.widgets import Input

from inspector.tui.screens.confirm import ConfirmScreen
from inspector.tui.screens.rule import RuleScreen
from inspector.tui.screens.rules import RulesScreen

from ..factories import make_event
from ..waiting import pilot_until
from .test_app import running


async def type_rule(app, pilot, text: str) -> None:
    await pilot_until(pilot, lambda: isinstance(app.screen, RuleScreen), what="the rule dialog")
    app.screen.query_one("#rule", Input).value = text
    await pilot.press("enter")


async def test_rules_are_typed_edited_removed_and_put_back(tmp_path):
    async with running(tmp_path) as (app, pilot, client):
        await pilot.press("R")
        await pilot_until(pilot, lambda: isinstance(app.screen, RulesScreen))
        await pilot.press("a")
        await type_rule(app, pilot, "event:Purchase => nope")
        await pilot_until(pilot, lambda: "expected a status" in str(app.screen.query_one("#problem").render()),
                          what="a wrong rule is refused with why")
        await type_rule(app, pilot, 'event:Purchase => 503:later')
        await pilot_until(pilot, lambda: [str(r) for r in app.hub.rules] == ["event:Purchase => 503:later"])
        await pilot.press("a")
        await type_rule(app, pilot, "type:identify => 400")
        await pilot_until(pilot, lambda: len(app.hub.rules) == 2)
        assert (await client.post(make_event(event="Purchase")))[0] == 503

        await pilot.press("up", "enter")  # edit the first
        await pilot_until(pilot, lambda: isinstance(app.screen, RuleScreen))
        assert app.screen.query_one("#rule", Input).value == "event:Purchase => 503:later"
        await type_rule(app, pilot, "event:Purchase => 429")
        await pilot_until(pilot, lambda: str(app.hub.rules[0]) == "event:Purchase => 429")
        assert (await client.post(make_event(event="Purchase")))[0] == 429

        await pilot.press("d")
        await pilot_until(pilot, lambda: [str(r) for r in app.hub.rules] == ["type:identify => 400"])
        await pilot.press("u")
        await pilot_until(pilot, lambda: [str(r) for r in app.hub.rules] ==
                          ["event:Purchase => 429", "type:identify => 400"], what="u puts it back in place")


async def test_quit_with_held_requests_asks_first(tmp_path):
    async with running(tmp_path) as (app, pilot, client):
        await pilot.press("h")
        waiting = asyncio.create_task(client.post(make_event()))
        await pilot_until(pilot, lambda: len(app.hub.held()) == 1)
        await pilot.press("q")
        await pilot_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="q asks")
        assert "1 held request would be answered 200" in str(app.screen.query_one("Static").render())
        await pilot.press("escape")
        await pilot_until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert app.is_running and not waiting.done()
        await pilot.press("2")  # answer it: now q quits at once
        assert (await asyncio.wait_for(waiting, 10))[0] == 200
        await pilot.press("q")
        await pilot_until(pilot, lambda: not app.is_running, what="q quits with nothing held")


async def test_the_theme_picked_is_remembered_and_used_at_start(tmp_path):
    saved: list[str] = []
    options = {"theme": "nord", "remember_theme": saved.append}
    async with running(tmp_path, app_options=options) as (app, pilot, _client):
        await pilot_until(pilot, lambda: app.theme == "nord", what="the configured theme at start")
        assert saved == []  # starting with it is not a change
        app.theme = "gruvbox"
        await pilot_until(pilot, lambda: saved == ["gruvbox"], what="the new theme written")

"""A tracking plan from the TUI: inferred from the list through the palette, then every
event that arrives is checked, its violations in the Findings tab with the rule that failed."""

from __future__ import annotations

import json

from textual.command import CommandPalette

from inspector.tui.widgets.detail.findings import FindingsView
from inspector.tui.widgets.detail.pane import FINDINGS_TAB, DetailPane
from inspector.tui.widgets.header import InspectorHeader

from ..factories import make_event
from ..waiting import pilot_until
from .test_app import running, screen_text


def order(n: int, revenue: object) -> dict:
    return make_event(event="Order Completed", messageId=f"m{n}", properties={"order_id": f"o{n}", "revenue": revenue})


async def test_infer_from_the_list_then_check_what_arrives(tmp_path):
    async with running(tmp_path, size=(160, 45)) as (app, pilot, client):
        for n in range(3):
            assert (await client.post(order(n, 10.5 + n)))[0] == 200
        await pilot_until(pilot, lambda: app.query_one(InspectorHeader).state.received == 3, what="three arrived")
        await pilot.press("ctrl+p")
        await pilot_until(pilot, lambda: isinstance(app.screen, CommandPalette), what="the palette opens")
        await pilot.press(*"plan: infer")
        await pilot_until(pilot, lambda: "plan: infer" in screen_text(app), what="the command is offered")
        await pilot.press("enter")
        await pilot_until(pilot, lambda: app.hub.checking is not None, what="the plan is in use")
        kept = list((tmp_path / "plans").glob("inferred-*.json"))
        assert len(kept) == 1 and [rule["key"] for rule in json.loads(kept[0].read_text())["rules"]] == [
            "Order Completed"]
        await pilot_until(pilot, lambda: any("checking arriving events against 1 rule inferred from 3 events"
                                             in n.message and str(kept[0]) in n.message for n in app._notifications),
                          what="the toast says so")
        assert (await client.post(order(9, "ten")))[0] == 200
        await pilot_until(pilot, lambda: app.query_one(InspectorHeader).state.received == 4, what="the fourth")
        await pilot.press("home")
        detail = app.query_one(DetailPane)
        await pilot_until(pilot, lambda: detail.exchange is not None and detail.exchange.events[0].message_id == "m9",
                          what="the newest selected")
        assert [(f.code, f.path) for f in detail.exchange.findings if f.code.startswith("PLAN")] == [
            ("PLAN003", "$.properties.revenue")]
        detail.query_one("TabbedContent").active = FINDINGS_TAB
        await pilot_until(pilot, lambda: "PLAN003" in screen_text(app), what="the Findings tab shows it")
        shown = screen_text(app)
        assert "TRACK 'Order Completed' v1" in shown and "$.properties.revenue" in shown
        assert app.query_one(FindingsView) is not None

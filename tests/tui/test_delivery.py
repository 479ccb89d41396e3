"""The Event Delivery screen in the real app: its counts are the history's, a group opens its exchanges."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import orjson
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from inspector.core.history import History
from inspector.core.hub import Hub
from inspector.core.model import Answer, Destination, segment_outcome
from inspector.core.policy import Policy
from inspector.tui.app import InspectorApp
from inspector.tui.screens.delivery import DeliveryScreen
from inspector.tui.widgets.exchange_list import ExchangeList

from ..factories import make_event, make_exchange
from ..waiting import pilot_until


def history_with_errors(directory: Path) -> History:
    now = time.time()
    history = History(directory)
    history.start_session()
    for index in range(7):
        history.add(make_exchange(make_event(messageId=f"ok-{index}"), now=now - 60 * index))
    for index in range(4):
        down = make_exchange(make_event(messageId=f"down-{index}"), now=now - 10 - index)
        down.answer = Answer(500, orjson.dumps({"message": "database down"}))
        history.add(down)
    forwarded = make_exchange(make_event(messageId="expired"), now=now - 5)
    forwarded.destination = Destination("http://127.0.0.1:9/", 401, [], b'{"message": "API token expired"}', 0.2)
    history.add(forwarded)
    history.close()
    return History(directory).load()


def outcomes(history: History) -> dict[str, int]:
    """What the history says, counted here without the screen's code."""
    counted = {"delivered": 0, "retried": 0, "dropped": 0}
    for summary in history.search(None):
        exchange = history.get(summary.id)
        status = exchange.destination.status if exchange.destination else exchange.answer.status
        counted[segment_outcome(status)] += 1
    return counted


@asynccontextmanager
async def delivery_screen(tmp_path: Path) -> AsyncIterator[tuple[InspectorApp, Pilot, History]]:
    """The app over `history_with_errors`, with `D` pressed and the delivery screen shown."""
    history = history_with_errors(tmp_path)
    app = InspectorApp(Hub(history, Policy()))
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.press("D")
            await pilot_until(pilot, lambda: isinstance(app.screen, DeliveryScreen) and app.screen.report is not None,
                              what="the delivery screen opens and counts")
            yield app, pilot, history
    finally:
        history.close()


async def test_counts_match_the_history_and_a_group_opens_its_exchanges(tmp_path: Path) -> None:
    async with delivery_screen(tmp_path) as (app, pilot, history):
        screen = app.screen
        counted = outcomes(history)
        assert counted == {"delivered": 7, "retried": 4, "dropped": 1}
        totals = str(screen.query_one("#totals", Static).render())
        for outcome, count in counted.items():
            assert f"{count} {outcome}" in totals
        groups = screen.query_one("#groups", DataTable)
        await pilot_until(pilot, lambda: groups.row_count == 2, what="two error groups")
        assert [str(cell) for cell in groups.get_row_at(0)] == ["4", "retried", "500", "database down"]
        await pilot.press("enter")
        listed = screen.query_one("#group-exchanges", DataTable)
        await pilot_until(pilot, lambda: listed.row_count == 4, what="the 500 group lists its four exchanges")
        expected = {s.id for s in history.search(None) if s.status == 500}
        assert {str(listed.get_row_at(row)[-1]) for row in range(4)} == expected
        first = str(listed.get_row_at(0)[-1])
        await pilot.press("enter")
        await pilot_until(pilot, lambda: not isinstance(app.screen, DeliveryScreen), what="the screen closes")
        await pilot_until(pilot, lambda: app.query_one(ExchangeList).selected is not None
                          and app.query_one(ExchangeList).selected.id == first, what="the exchange is selected")


async def test_the_window_is_a_query_and_a_bad_one_is_explained(tmp_path: Path) -> None:
    async with delivery_screen(tmp_path) as (app, pilot, _):
        screen = app.screen
        window = screen.query_one("#window")
        window.focus()
        window.value = "since:30s"
        await pilot.press("enter")
        totals = screen.query_one("#totals", Static)
        await pilot_until(pilot, lambda: "1 delivered" in str(totals.render()), what="only the last 30 s counted")
        assert "4 retried" in str(totals.render()) and "1 dropped" in str(totals.render())
        window.focus()
        window.value = "status:"
        await pilot.press("enter")
        await pilot_until(pilot, lambda: "query error" in str(totals.render()), what="the query error shown")
        await pilot.press("escape")
        await pilot_until(pilot, lambda: not isinstance(app.screen, DeliveryScreen), what="escape closes")

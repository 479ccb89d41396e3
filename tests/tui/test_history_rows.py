"""The TUI's list over a large history: row references, summaries only for the lines drawn."""

from __future__ import annotations

import aiohttp

from inspector.core.history import History
from inspector.core.history.blocks import Block
from inspector.core.hub import Hub
from inspector.core.policy import Policy
from inspector.listeners import Listeners
from inspector.receiver import Receiver
from inspector.tui.app import InspectorApp
from inspector.tui.widgets.exchange_list import ExchangeList

from ..factories import make_event, make_exchange
from ..waiting import pilot_until
from .test_app import Client, list_text

SIZE = 3000


async def test_a_long_history_is_listed_without_a_summary_per_exchange(tmp_path, monkeypatch):
    history = History(tmp_path, shard_size=500)
    first = make_exchange(make_event(userId="first-user"))
    history.add(first)
    for n in range(1, SIZE):
        history.add(make_exchange(make_event(userId=f"u{n % 10}", event=f"Event {n}")))
    history.close()
    made = []
    real = Block.summary
    monkeypatch.setattr(Block, "summary", lambda self, row, table: made.append(row) or real(self, row, table))
    history = History(tmp_path).load()
    history.start_session()
    hub = Hub(history, Policy())
    app = InspectorApp(hub, receiver=Listeners(Receiver(hub, port=0)))
    async with app.run_test(size=(160, 45)) as pilot:
        exchanges = app.query_one(ExchangeList)
        await pilot_until(pilot, lambda: exchanges.row_count == SIZE, what="the whole history listed")
        assert f"Event {SIZE - 1}" in list_text(app)  # newest first, the newest selected
        assert len(made) < 300, len(made)  # a screenful and the selection, not 3,000
        await pilot.press("end")  # the oldest
        await pilot_until(pilot, lambda: exchanges.selected is not None and exchanges.selected.id == first.id,
                          what="the oldest selected")
        assert "first-user" in list_text(app)
        assert len(made) < 600, len(made)
        await pilot.press("slash")
        app.query_one("#search-input").value = "user:u3"
        await pilot.press("enter")
        await pilot_until(pilot, lambda: exchanges.row_count == SIZE // 10, what="the filter's rows")
        assert exchanges.select(exchanges.selected.id)
        async with aiohttp.ClientSession() as session:
            client = Client(session, app.local_url)
            await client.post(make_event(userId="u3", event="Arrived Now"))
            await client.post(make_event(userId="u4", event="Filtered Out"))
        await pilot_until(pilot, lambda: exchanges.row_count == SIZE // 10 + 1, what="the matching arrival")
        await pilot.press("n")
        await pilot_until(pilot, lambda: "Arrived Now" in list_text(app), what="the arrival on screen")
        assert "Filtered Out" not in list_text(app)
    history.close()

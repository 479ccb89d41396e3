"""The TUI and the history: a full disk said once and cleared, the size on disk, a search under way."""

from __future__ import annotations

from inspector.core.query import parse
from inspector.tui.widgets.exchange_list import ExchangeList
from inspector.tui.widgets.header import HeaderState, InspectorHeader, size_text

from ..core.test_history_faults import Disk
from ..factories import make_event
from ..waiting import pilot_until
from .test_app import list_text, running, screen_text


async def test_a_full_disk_is_said_once_in_the_tui_and_cleared_when_there_is_room(tmp_path, monkeypatch):
    disk = Disk(monkeypatch)
    async with running(tmp_path) as (app, pilot, client):
        said: list[str] = []
        real_notify = app.notify
        monkeypatch.setattr(app, "notify", lambda text, **kw: (said.append(str(text)), real_notify(text, **kw)))
        disk.full = True
        for n in range(3):
            status, _ = await client.post(make_event(event=f"Lost {n}"))
            assert status == 503
        header = app.query_one(InspectorHeader)
        await pilot_until(pilot, lambda: any("cannot keep requests" in note for note in header.state.notes),
                          what="the header says requests cannot be kept")
        assert sum("cannot keep requests" in text for text in said) == 1
        disk.full = False
        status, _ = await client.post(make_event(event="Kept Again"))
        assert status == 200
        await pilot_until(pilot, lambda: not any("cannot keep" in note for note in header.state.notes),
                          what="the header no longer says it")
        assert any("writable again" in text for text in said)
        await pilot_until(pilot, lambda: "Kept Again" in list_text(app))
        assert "Lost" not in list_text(app)


def test_the_header_shows_the_history_size_once_it_is_a_megabyte():
    header = InspectorHeader()
    header.state = HeaderState(history=12, disk=2_500_000)
    assert "history 12 (2.5 MB on disk)" in header._status().plain
    header.state = HeaderState(history=1, disk=900)
    assert "on disk" not in header._status().plain
    assert [size_text(n) for n in (12_300_000, 1_340_000_000)] == ["12 MB", "1.3 GB"]


async def test_a_search_under_way_is_shown_and_the_list_follows_its_result(tmp_path, monkeypatch):
    async with running(tmp_path) as (app, pilot, client):
        for name in ("Order Completed", "Signed Up"):
            await client.post(make_event(event=name))
        await pilot_until(pilot, lambda: app.query_one(ExchangeList).row_count == 2)
        searching = []
        real = app.hub.rows

        def search(*args, **kwargs):
            searching.append(app.query_one(InspectorHeader).state.searching)
            return real(*args, **kwargs)

        monkeypatch.setattr(app.hub, "rows", search)
        await pilot.press("slash")
        app.query_one("#search-input").value = '"signed up"'
        await pilot.press("enter")
        await pilot_until(pilot, lambda: app.query_one(ExchangeList).row_count == 1 and not app.searching,
                          what="the search's result in the list")
        assert True in searching  # the header said so while the history was searched
        assert "searching" not in screen_text(app)
        assert app.filter is not None and str(app.filter) == str(parse('"signed up"'))

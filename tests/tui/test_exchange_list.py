"""The exchange list: order, arrivals, selection, held countdowns, size and untrusted text."""

from __future__ import annotations

import html
import time
from typing import Any

from textual.app import App, ComposeResult
from textual.strip import Strip

from inspector.core.model import Summary
from inspector.tui.widgets.exchange_list import ExchangeList

from ..waiting import pilot_until

START = 1_700_000_000.0




def summary(n: int, **fields: Any) -> Summary:
    """The n-th arrival: a delivered track event unless the test says otherwise."""
    values: dict[str, Any] = {
        "id": f"ex{n:06d}", "time": START + n, "method": "POST", "path": "/", "status": 200,
        "types": ("track",), "names": (f"Event {n}",), "users": (f"user-{n}",), "anons": (f"anon-{n}",),
        "messages": (f"msg-{n}",), "key": "segment", "codes": (), "severities": (), "redelivery": 0,
        "held": False, "text": "",
    }
    values.update(fields)
    return Summary(**values)


def clock_time(n: int) -> str:
    return time.strftime("%H:%M:%S", time.localtime(START + n))


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class ListApp(App[None]):
    """Just the list, recording the selections it announces."""

    def __init__(self, **options: Any) -> None:
        super().__init__()
        self.options = options
        self.selections: list[Summary | None] = []

    def compose(self) -> ComposeResult:
        yield ExchangeList(**self.options)

    def on_exchange_list_selected(self, message: ExchangeList.Selected) -> None:
        self.selections.append(message.summary)

    @property
    def exchanges(self) -> ExchangeList:
        return self.query_one(ExchangeList)


def lines(widget: ExchangeList, count: int | None = None) -> list[str]:
    height = widget.scrollable_content_region.height if count is None else count
    return [widget.render_line(y).text for y in range(height)]


def screen_text(app: App[Any]) -> str:
    """What the terminal shows, as plain text."""
    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


def line_of(widget: ExchangeList, name: str) -> int:
    """The screen line showing this event name."""
    return next(y for y, text in enumerate(lines(widget)) if f"{name} " in text)


async def test_empty_list_shows_a_hint_the_app_can_change() -> None:
    app = ListApp()
    async with app.run_test(size=(100, 10)) as pilot:
        assert lines(app.exchanges, 1)[0].startswith("Waiting for requests…")
        app.exchanges.empty_text = "No exchange matches [bold]x"
        await pilot.pause()
        assert lines(app.exchanges, 1)[0].startswith("No exchange matches [bold]x")
        assert app.exchanges.selected is None


async def test_rows_show_newest_first_then_oldest_first() -> None:
    app = ListApp()
    async with app.run_test(size=(120, 10)) as pilot:
        widget = app.exchanges
        widget.add([summary(n) for n in range(3)])
        await pilot.pause()
        shown = lines(widget, 4)
        assert [text.split()[4:6] for text in shown[:3]] == [["Event", "2"], ["Event", "1"], ["Event", "0"]]
        assert shown[0].startswith(f"{clock_time(2)} 200 ok    track     Event 2")
        assert "user-2" in shown[0]
        assert shown[3].strip() == ""

        widget.newest_first = False
        await pilot.pause()
        assert [text.split()[4:6] for text in lines(widget, 3)] == [["Event", "0"], ["Event", "1"], ["Event", "2"]]


async def test_once_the_user_moves_arrivals_never_move_the_selection() -> None:
    app = ListApp()
    async with app.run_test(size=(120, 10)) as pilot:
        widget = app.exchanges
        widget.add([summary(0), summary(1)])
        await pilot.pause()
        assert widget.selected is not None and widget.selected.id == "ex000001", "following the newest"
        widget.focus()
        await pilot.press("down")
        assert not widget.following
        assert [s.id for s in app.selections if s] == ["ex000001", "ex000000"]

        widget.add([summary(n) for n in range(2, 102)])
        await pilot.pause()
        assert widget.selected.id == "ex000000"
        assert "Event 0 " in "".join(lines(widget)), "the selected exchange stays in view"
        assert [s.id for s in app.selections if s] == ["ex000001", "ex000000"], "arrivals announce no new selection"


async def test_selection_and_view_stay_put_while_reading_in_newest_first() -> None:
    app = ListApp()
    async with app.run_test(size=(120, 10)) as pilot:
        widget = app.exchanges
        widget.set_rows([summary(n) for n in range(50)])
        widget.select("ex000040")
        await pilot.pause()
        before = lines(widget)
        cursor_line = line_of(widget, "Event 40")

        widget.add([summary(n) for n in range(50, 150)])
        await pilot.pause()
        assert widget.selected.id == "ex000040"
        assert line_of(widget, "Event 40") == cursor_line
        assert lines(widget) == before, "rows arriving above the view do not shift what is read"
        assert widget.row_count == 150


async def test_newest_first_shows_arrivals_until_the_selection_would_leave_the_view() -> None:
    app = ListApp()
    async with app.run_test(size=(120, 10)) as pilot:
        widget = app.exchanges
        widget.add([summary(0)])
        widget.select("ex000000")
        widget.add([summary(1)])
        await pilot.pause()
        assert lines(widget, 1)[0].split()[5] == "1", "the newest row is on top while the selection stays in view"

        widget.add([summary(n) for n in range(2, 40)])
        await pilot.pause()
        shown = lines(widget)
        assert "Event 0 " in shown[-1], "the selection is kept on the last visible line"


async def test_oldest_first_follows_the_end_only_while_the_selection_stays_visible() -> None:
    app = ListApp(newest_first=False)
    async with app.run_test(size=(120, 10)) as pilot:
        widget = app.exchanges
        widget.set_rows([summary(n) for n in range(30)])
        widget.select("ex000029")
        await pilot.pause()
        widget.add([summary(30), summary(31)])
        await pilot.pause()
        assert "Event 31 " in lines(widget)[-1]
        assert widget.selected.id == "ex000029"

        widget.add([summary(n) for n in range(32, 60)])
        await pilot.pause()
        assert widget.selected.id == "ex000029"
        assert "Event 29 " in "".join(lines(widget))


async def test_a_known_id_replaces_its_row_in_place() -> None:
    clock = Clock(START + 100)
    app = ListApp(clock=clock)
    async with app.run_test(size=(120, 10)) as pilot:
        widget = app.exchanges
        widget.add([summary(0), summary(1, status=None, held=True), summary(2)])
        widget.set_held({"ex000001": clock.now + 30})
        widget.select("ex000001")
        await pilot.pause()
        assert "HELD 30s" in lines(widget)[1]

        answered = summary(1, status=429, held=True)
        widget.add([answered, summary(3)])
        widget.set_held({})
        await pilot.pause()
        assert widget.row_count == 4
        shown = lines(widget, 4)
        assert [text.split()[-1] for text in shown] == ["user-3", "user-2", "user-1", "user-0"]
        assert "429 retry track" in shown[2]
        assert widget.selected is answered
        assert app.selections[-1] is answered, "the app hears that the selected exchange changed"


async def test_held_rows_count_down_by_themselves() -> None:
    clock = Clock(START + 100)
    app = ListApp(clock=clock)
    async with app.run_test(size=(120, 10)) as pilot:
        widget = app.exchanges
        widget.add([summary(0), summary(1, status=None, held=True), summary(2, status=None)])
        widget.set_held({"ex000001": clock.now + 12})
        await pilot.pause()
        assert "HELD 12s" in screen_text(app)
        assert "..." in lines(widget)[0], "an unanswered row that is not held waits"

        clock.now += 5  # nothing asks the list to repaint: its own countdown does
        await pilot_until(pilot, lambda: "HELD 7s" in screen_text(app), what="the countdown moves")

        widget.set_held({})
        await pilot.pause()
        assert "HELD 7s" not in screen_text(app)
        assert "HELD " in lines(widget)[1]


async def test_keys_and_clicks_select_and_announce() -> None:
    app = ListApp()
    async with app.run_test(size=(120, 10)) as pilot:
        widget = app.exchanges
        widget.set_rows([summary(n) for n in range(30)])
        widget.focus()
        await pilot.pause()
        assert widget.selected.id == "ex000029"

        await pilot.press("down", "j")
        assert widget.selected.id == "ex000027"
        await pilot.press("up")
        assert widget.selected.id == "ex000028"
        await pilot.press("end")
        assert widget.selected.id == "ex000000"
        assert "Event 0 " in lines(widget)[-1]
        await pilot.press("pageup")
        assert widget.selected.id == f"ex{widget.scrollable_content_region.height:06d}"
        await pilot.press("home")
        assert widget.selected.id == "ex000029"
        await pilot.press("pagedown")
        await pilot.press("k")
        assert widget.selected.id == f"ex{29 - widget.scrollable_content_region.height + 1:06d}"

        await pilot.click(ExchangeList, offset=(3, 2))
        clicked = widget.selected
        assert f"Event {int(clicked.id[2:])} " in lines(widget)[2]
        await pilot.pause()
        assert app.selections[-1] is clicked
        assert [s.id for s in app.selections[:4]] == ["ex000029", "ex000028", "ex000027", "ex000028"]


async def test_changing_the_order_keeps_the_selection_in_view() -> None:
    app = ListApp()
    async with app.run_test(size=(120, 10)) as pilot:
        widget = app.exchanges
        widget.set_rows([summary(n) for n in range(200)])
        widget.select("ex000150")
        await pilot.pause()
        before = line_of(widget, "Event 150")

        widget.newest_first = False
        await pilot.pause()
        assert widget.selected.id == "ex000150"
        assert line_of(widget, "Event 150") == before

        await pilot.press("o")
        assert widget.newest_first
        assert line_of(widget, "Event 150") == before


async def test_set_rows_keeps_the_selection_when_it_is_still_there() -> None:
    app = ListApp()
    async with app.run_test(size=(120, 10)) as pilot:
        widget = app.exchanges
        widget.set_rows([summary(n) for n in range(10)])
        widget.select("ex000004")
        widget.set_rows([summary(n) for n in (2, 4, 6)])
        await pilot.pause()
        assert widget.selected.id == "ex000004"

        widget.set_rows([summary(n) for n in (1, 3)])
        await pilot.pause()
        assert widget.selected.id == "ex000003", "the first line is selected when the old one is gone"

        widget.set_rows([])
        await pilot.pause()
        assert widget.selected is None
        assert app.selections[-1] is None
        assert lines(widget, 1)[0].startswith("Waiting for requests")


async def test_row_shows_outcome_batch_request_line_findings_and_marks() -> None:
    app = ListApp()
    async with app.run_test(size=(140, 10)) as pilot:
        widget = app.exchanges
        widget.add([
            summary(0, status=500, severities=("error", "error", "warning", "info", "info", "info"),
                    redelivery=2),
            summary(1, status=400, types=("track", "identify", "track"), names=("A", "", "B"),
                    users=("", "", ""), anons=("anon-x", "", "")),
            summary(2, status=301, method="GET", path="/health", types=(), names=(), users=(), anons=()),
        ])
        await pilot.pause()
        request, batch, failing = lines(widget, 3)
        assert "301 drop            GET /health" in request
        assert "400 drop  batch(3)  A, B" in batch and "anon-x" in batch
        assert "500 retry track" in failing
        assert failing.rstrip().endswith("2E 1W 3I ↻2")
        styles = {segment.text.strip(): segment.style for segment in widget.render_line(2) if segment.text.strip()}
        assert styles["2E"].color.name == "red"
        assert styles["1W"].color.name == "yellow"
        assert styles["500"].color.name == "red"


async def test_columns_are_cut_to_the_width() -> None:
    app = ListApp()
    async with app.run_test(size=(60, 10)) as pilot:
        widget = app.exchanges
        widget.add([summary(0, names=("A very long event name that cannot fit in the column",))])
        await pilot.pause()
        shown = widget.render_line(0)
        assert shown.cell_length == widget.scrollable_content_region.width
        assert "A very long event…" in shown.text, "the user column goes first"


class CountingList(ExchangeList):
    """Counts the lines it is asked to render."""

    rendered = 0

    def render_line(self, y: int) -> Strip:
        CountingList.rendered += 1
        return super().render_line(y)


class LargeApp(ListApp):
    def compose(self) -> ComposeResult:
        yield CountingList()


async def test_a_hundred_thousand_rows_render_only_what_is_on_screen() -> None:
    app = LargeApp()
    rows = [summary(n) for n in range(100_000)]
    async with app.run_test(size=(120, 30)) as pilot:
        widget = app.exchanges
        widget.focus()
        widget.set_rows(rows)
        await pilot.press("end")
        for batch in range(20):
            widget.add([summary(100_000 + batch * 100 + n) for n in range(100)])
        await pilot.pause()

        assert widget.row_count == 102_000
        assert widget.selected.id == "ex000000"
        assert "Event 0 " in lines(widget)[-1]
        assert CountingList.rendered < 20 * widget.scrollable_content_region.height


UNTRUSTED = ["[@click=app.quit]x[/]", "[bold]", "\x1b[31m", "\x9b2J"]


async def test_untrusted_text_is_shown_literally_and_never_acted_on() -> None:
    app = ListApp()
    async with app.run_test(size=(140, 10)) as pilot:
        widget = app.exchanges
        widget.add([
            summary(n, names=(text,), users=(text,), anons=(text,)) for n, text in enumerate(UNTRUSTED)
        ] + [summary(9, types=(), names=(), users=(), anons=(), path="/[/]\x1b]8;;x\x07", method="P[b]")])
        await pilot.pause()
        shown = lines(widget, 5)
        visible = "\n".join(shown)
        for literal in ("[@click=app.quit]x[/]", "[bold]", "\\x1b[31m", "\\x9b2J", "P[b] /[/]\\x1b]8;;x\\x07"):
            assert literal in visible
        for y in range(5):
            for segment in widget.render_line(y):
                assert not any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f for c in segment.text)
                assert segment.style is None or not (segment.style.meta or segment.style.link)
                if "[bold]" in segment.text:
                    assert not segment.style.bold

        await pilot.click(ExchangeList, offset=(40, shown.index(next(t for t in shown if "@click" in t))))
        await pilot.pause()
        assert app.is_running and app.return_code is None
        assert "[@click=app.quit]x[/]" in screen_text(app)

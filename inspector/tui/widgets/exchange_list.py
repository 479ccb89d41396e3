"""The live list of exchanges: one line per request Segment sent, newest first by default.

Segment can send thousands of requests a second and a session can hold 100,000 of them,
so the list renders only the lines on screen (Textual's Line API). It holds a search's
result as the hub gives it (`Hub.rows`: row references, a `Summary` made only for a line
drawn) followed by the arrivals since, and absorbs a batch of arrivals in time
proportional to the batch.
Until the user moves the cursor, the list follows the newest arrival (cursor and view).
Once the user has moved it, the cursor belongs to an exchange, not to a line: arrivals
never move it, because the person at the keyboard is reading what it points at; how many
newer arrivals are out of view is counted for the column header ("3 new ↑"), and `n`
goes back to the newest and follows again.

Column widths depend on the width only, never on the data: the event column takes what
is spare; the user column, then the findings column, go before the event name is cut.

Every field shown comes from an untrusted request, so lines are built from `Segment`s
holding `inert()` text: nothing is parsed as markup and no escape sequence reaches the
terminal.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Iterable
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from inspector.core import naming
from inspector.core.model import Summary, segment_outcome
from inspector.core.text import inert

WAITING = "Waiting for requests…"
OUTCOME_WORD = {"delivered": "ok", "retried": "retry", "dropped": "drop"}

_TIME, _ANSWER, _TYPE, _MARKS = 8, 9, 9, 3
_USER, _USER_MAX, _FINDINGS = 20, 36, 8
_EVENT_WANTED, _EVENT_MIN, _EVENT_MAX = 24, 16, 40
_BASE = _TIME + _ANSWER + _TYPE + _MARKS + 4  # and one space after each of the first four
_GAP = Segment(" ")

_STATUS_STYLES = {
    2: Style(color="green"),
    3: Style(color="cyan"),
    4: Style(color="yellow"),
    5: Style(color="red"),
}
_HELD_STYLE = Style(color="magenta", bold=True)
_WAITING_STYLE = Style(dim=True)
_OUTCOME_STYLES = {"ok": Style(dim=True), "retry": Style(color="yellow"), "drop": Style(color="red")}
_SEVERITY_MARKS = (
    ("error", "E", Style(color="red")),
    ("warning", "W", Style(color="yellow")),
    ("info", "I", Style(dim=True)),
)
_MARK_STYLE = Style(color="magenta")

LEGEND = (
    ("time", "when the request arrived (local time)"),
    ("answer", "the status we answered, then what Segment does with it: ok (delivered), "
               "retry (it sends again), drop (it gives up)"),
    ("HELD 23s", "held: answer it with a digit or r; the default answer goes in 23 s"),
    ("...", "not answered yet"),
    ("type", "the call: track, identify, page, screen, group, alias, delete; batch(N) for N events"),
    ("event", "the event name; for other calls what identifies them; METHOD /path for a request "
              "with no event"),
    ("user", "userId, else anonymousId (hidden first when the list is narrow)"),
    ("findings", "2E 1W 3I: errors, warnings and notes found (hidden next)"),
    ("●", "marked with m, for export"),
    ("↻2", "Segment's 2nd redelivery of a messageId seen before"),
    ("3 new ↑", "arrivals out of view since you moved the cursor; n jumps to the newest"),
)
"""What each column and symbol means, for the help screen and the README."""


def _fit(text: str, width: int) -> str:
    """Untrusted text made inert and cut or padded to exactly `width` cells."""
    if width <= 0:
        return ""
    text = inert(text).replace("\t", " ")
    if cell_len(text) > width:
        text = set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)


@functools.lru_cache(maxsize=64)
def columns(width: int) -> tuple[int, int, int]:
    """Widths of the event, user and findings columns (0: not shown) in this many cells."""
    spare = max(0, width - _BASE)
    findings = _FINDINGS if spare - _FINDINGS - 1 >= _EVENT_MIN else 0
    spare -= findings + (1 if findings else 0)
    user = 0
    if spare - _USER - 1 >= _EVENT_WANTED:
        user = min(_USER_MAX, max(_USER, spare - 1 - _EVENT_MAX))
        spare -= user + 1
    return spare, user, findings


@functools.lru_cache(maxsize=1024)
def _clock(second: int) -> str:
    return time.strftime("%H:%M:%S", time.localtime(second))

class _Listing:
    """The list's rows, oldest first: a search's result, then arrivals since (a known id
    replaces its row in place). The result is any sequence of summaries; one with
    `position` and `id_at` (the history's `Rows`) is not copied, nor summarised whole:
    its replaced rows (a held request, answered since) are kept beside it."""

    def __init__(self, found: Iterable[Summary] = ()) -> None:
        rows: Any = found
        if not hasattr(found, "position"):
            rows = list(found)
            self._found_index: dict[str, int] | None = {summary.id: i for i, summary in enumerate(rows)}
        else:
            self._found_index = None
        self._found: Any = rows
        self._replaced: dict[int, Summary] = {}
        self._base = len(rows)
        self._arrivals: list[Summary] = []
        self._arrival_index: dict[str, int] = {}

    def __len__(self) -> int:
        return self._base + len(self._arrivals)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __getitem__(self, row: int) -> Summary:
        if row < 0:
            row += len(self)
        if row >= self._base:
            return self._arrivals[row - self._base]
        replaced = self._replaced.get(row)
        return replaced if replaced is not None else self._found[row]

    def id_at(self, row: int) -> str:
        if row < 0:
            row += len(self)
        if row >= self._base:
            return self._arrivals[row - self._base].id
        return self._found[row].id if self._found_index is not None else self._found.id_at(row)

    def position(self, exchange_id: str | None) -> int | None:
        if exchange_id is None:
            return None
        found = self._arrival_index.get(exchange_id)
        if found is not None:
            return self._base + found
        if self._found_index is not None:
            return self._found_index.get(exchange_id)
        return self._found.position(exchange_id)

    def put(self, summary: Summary) -> bool:
        """Add an arrival, or replace its row: True if it was added."""
        row = self.position(summary.id)
        if row is None:
            self._arrival_index[summary.id] = len(self._arrivals)
            self._arrivals.append(summary)
            return True
        if row >= self._base:
            self._arrivals[row - self._base] = summary
        else:
            self._replaced[row] = summary
        return False


class ExchangeList(ScrollView, can_focus=True):
    """The exchanges received, one per line, with a cursor on the one being read."""

    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False, id="list.up",
                tooltip="Select the exchange above"),
        Binding("down,j", "cursor_down", "Down", show=False, id="list.down",
                tooltip="Select the exchange below"),
        Binding("pageup", "page_up", "Page up", show=False, id="list.page-up",
                tooltip="Select the exchange one page up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="list.page-down",
                tooltip="Select the exchange one page down"),
        Binding("home", "first", "First", show=False, id="list.first",
                tooltip="Select the first exchange shown (the newest when newest first)"),
        Binding("end", "last", "Last", show=False, id="list.last",
                tooltip="Select the last exchange shown (the oldest when newest first)"),
        Binding("o", "toggle_order", "Order", show=False, id="list.order",
                tooltip="Show the newest or the oldest exchange first"),
        Binding("m", "toggle_mark", "Mark", show=False, id="list.mark",
                tooltip="Mark or unmark the selected exchange, to export the marked ones"),
        Binding("n", "newest", "Newest", show=False, id="list.newest",
                tooltip="Select the newest exchange and follow new arrivals again"),
    ]

    COMPONENT_CLASSES = {
        "exchange-list--cursor",
        "exchange-list--error",
        "exchange-list--hint",
    }

    DEFAULT_CSS = """
    ExchangeList {
        height: 1fr;
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;
        &:focus {
            background-tint: $foreground 5%;
            & > .exchange-list--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
        & > .exchange-list--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .exchange-list--error {
            background: $error 10%;
        }
        & > .exchange-list--hint {
            color: $text-muted;
        }
    }
    """

    newest_first: reactive[bool] = reactive(True, init=False)
    """Show the newest exchange on the first line."""

    empty_text: reactive[str] = reactive(WAITING)
    """The hint shown while the list is empty (plain text, never markup)."""

    class Selected(Message):
        """The selected exchange changed, or its row was replaced; None when the list emptied."""

        def __init__(self, exchange_list: ExchangeList, summary: Summary | None) -> None:
            super().__init__()
            self.exchange_list = exchange_list
            self.summary = summary

        @property
        def control(self) -> ExchangeList:
            return self.exchange_list

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ExchangeList.Selected) and message.exchange_list is self.exchange_list

    def __init__(self, *, newest_first: bool = True, empty_text: str | None = None,
                 clock: Callable[[], float] = time.time, name: str | None = None,
                 id: str | None = None, classes: str | None = None, disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._rows = _Listing()
        self._selected_id: str | None = None
        self._deadlines: dict[str, float] = {}
        self.marked: set[str] = set()
        self._countdown: Timer | None = None
        self._clock = clock
        self.following = True
        """The cursor and the view go to each new arrival; off once the user moves the cursor."""
        self._unseen = 0
        self.header: Widget | None = None
        """The widget showing the column headers, refreshed when the count of unseen arrivals changes."""
        self.set_reactive(ExchangeList.newest_first, newest_first)
        if empty_text is not None:
            self.set_reactive(ExchangeList.empty_text, empty_text)

    # -- what the app calls ------------------------------------------------------------

    @property
    def selected(self) -> Summary | None:
        """The exchange under the cursor."""
        if self._selected_id is None:
            return None
        row = self._rows.position(self._selected_id)
        return self._rows[row] if row is not None else None

    @property
    def unseen(self) -> int:
        """Arrivals since the user moved the cursor that are out of view on the newest side."""
        if self.following or not self._unseen:
            return 0
        top = self.scroll_offset.y
        outside = top if self.newest_first else len(self._rows) - top - self._page_height
        return max(0, min(self._unseen, outside))

    @property
    def row_count(self) -> int:
        """How many exchanges the list holds."""
        return len(self._rows)

    def set_rows(self, summaries: Iterable[Summary]) -> None:
        """Show these exchanges instead (given in arrival order), keeping the selection if it is among them."""
        self._rows = _Listing(summaries)
        self.virtual_size = Size(0, len(self._rows))
        previous = self._selected_id
        if self.following and self._rows:
            self._selected_id = self._rows.id_at(-1)
        elif self._rows.position(previous) is None:
            self._selected_id = self._rows.id_at(self._row_at(0)) if self._rows else None
        self._unseen = 0
        self._keep_cursor_visible(center=True)
        self.refresh()
        if self._selected_id != previous:
            self.post_message(self.Selected(self, self.selected))

    def add(self, summaries: Iterable[Summary]) -> None:
        """Take a batch of arrivals: a known id replaces its row in place, others are appended."""
        rows = self._rows
        before = len(rows)
        selection_replaced = False
        for summary in summaries:
            if not rows.put(summary):
                selection_replaced = selection_replaced or summary.id == self._selected_id
        added = len(rows) - before
        if added and self.following:
            self._grow()
            self._selected_id = rows.id_at(-1)
            self._keep_cursor_visible()
            self.refresh()
            self.post_message(self.Selected(self, self.selected))
            return
        if added:
            self._follow_arrivals(before, added)
            self._unseen += added
            if self.header is not None:
                self.header.refresh()
        self.refresh()
        if self._selected_id is None and rows:
            self._selected_id = rows.id_at(0)
            self._keep_cursor_visible()
            self.post_message(self.Selected(self, self.selected))
        elif selection_replaced:
            self.post_message(self.Selected(self, self.selected))

    def set_held(self, deadlines: dict[str, float]) -> None:
        """Count down to these deadlines (epoch seconds) on held rows; {} when nothing is held."""
        if deadlines == self._deadlines:
            return
        self._deadlines = dict(deadlines)
        self._update_countdown()
        self.refresh()

    def select(self, exchange_id: str) -> bool:
        """Put the cursor on this exchange, which stops following; False if the list does not hold it."""
        if self._rows.position(exchange_id) is None:
            return False
        self._move_to(self._line_of(exchange_id))
        self._follow(False)
        return True

    def _follow(self, following: bool) -> None:
        if following != self.following:
            self.following = following
            self._unseen = 0
            if self.header is not None:
                self.header.refresh()

    @property
    def _newest_line(self) -> int:
        return 0 if self.newest_first else len(self._rows) - 1

    # -- lines and rows ----------------------------------------------------------------

    def _row_at(self, line: int) -> int:
        """The row shown on this line."""
        return len(self._rows) - 1 - line if self.newest_first else line

    def _line_of(self, exchange_id: str) -> int:
        """The line on which this exchange is shown."""
        row = self._rows.position(exchange_id)
        assert row is not None, exchange_id
        return len(self._rows) - 1 - row if self.newest_first else row

    @property
    def _cursor_line(self) -> int | None:
        return None if self._selected_id is None else self._line_of(self._selected_id)

    @property
    def _page_height(self) -> int:
        return self.scrollable_content_region.height

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._unseen and self.header is not None:
            self.header.refresh()

    def _scroll_to_line(self, top: int) -> None:
        self.scroll_to(y=max(0, top), animate=False, force=True)

    def _keep_cursor_visible(self, center: bool = False) -> None:
        line, height = self._cursor_line, self._page_height
        if line is None or height <= 0:
            return
        top = self.scroll_offset.y
        if center and not top <= line < top + height:
            self._scroll_to_line(line - height // 2)
        elif line < top:
            self._scroll_to_line(line)
        elif line >= top + height:
            self._scroll_to_line(line - height + 1)

    def _grow(self) -> None:
        """Make room for arrived rows without a layout pass of the whole screen.

        Assigning `virtual_size` lays the screen out again; at 1,000 requests/s that
        made every arrival batch cost a full layout frame. Only the scrollbar needs
        the new size, unless it appears or disappears.
        """
        size = Size(0, len(self._rows))
        if size == self.virtual_size:
            return
        showing = self.show_vertical_scrollbar
        self.set_reactive(ExchangeList.virtual_size, size)
        self._scroll_update(size)
        if self.show_vertical_scrollbar != showing:
            self.refresh(layout=True)

    def _follow_arrivals(self, before: int, added: int) -> None:
        """Keep showing the newest edge while the cursor stays in view, else keep the view still."""
        height = self._page_height
        top = self.scroll_offset.y
        cursor = self._cursor_line
        self._grow()
        if height <= 0 or cursor is None:
            return
        if self.newest_first:
            if top > 0:
                self._scroll_to_line(top + added)
            elif cursor >= height:
                self._scroll_to_line(cursor - height + 1)
        elif top >= before - height:
            end = len(self._rows) - height
            if cursor >= end:
                self._scroll_to_line(end)

    def _move_to(self, line: int) -> None:
        if not self._rows:
            return
        line = max(0, min(line, len(self._rows) - 1))
        exchange_id = self._rows.id_at(self._row_at(line))
        changed = exchange_id != self._selected_id
        self._selected_id = exchange_id
        self._keep_cursor_visible()
        self.refresh()
        if changed:
            self.post_message(self.Selected(self, self.selected))

    # -- actions and events ------------------------------------------------------------

    def _user_moves_to(self, line: int) -> None:
        """A move the user made: following goes on at the newest line, off anywhere else."""
        self._move_to(line)
        self._follow(self._cursor_line == self._newest_line)

    def action_cursor_up(self) -> None:
        if self._cursor_line is not None:
            self._user_moves_to(self._cursor_line - 1)

    def action_cursor_down(self) -> None:
        if self._cursor_line is not None:
            self._user_moves_to(self._cursor_line + 1)

    def action_page_up(self) -> None:
        if self._cursor_line is not None:
            self._user_moves_to(self._cursor_line - max(1, self._page_height))

    def action_page_down(self) -> None:
        if self._cursor_line is not None:
            self._user_moves_to(self._cursor_line + max(1, self._page_height))

    def action_first(self) -> None:
        self._user_moves_to(0)

    def action_last(self) -> None:
        self._user_moves_to(len(self._rows) - 1)

    def action_newest(self) -> None:
        self._user_moves_to(self._newest_line)
        self._follow(True)

    def action_toggle_mark(self) -> None:
        if self._selected_id is not None:
            self.marked ^= {self._selected_id}
            self.refresh()

    def action_toggle_order(self) -> None:
        self.newest_first = not self.newest_first

    def watch_newest_first(self, newest_first: bool) -> None:
        """Flip the order, keeping the selected exchange on the same screen line."""
        self._unseen = 0
        if self.header is not None:
            self.header.refresh()
        cursor = self._cursor_line
        if cursor is not None:
            old_line = len(self._rows) - 1 - cursor  # the line it had in the other order
            self._scroll_to_line(cursor - (old_line - self.scroll_offset.y))
            self._keep_cursor_visible()
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        line = self.scroll_offset.y + offset.y
        if line < len(self._rows):
            self._user_moves_to(line)

    def on_mount(self) -> None:
        self._update_countdown()

    def on_resize(self) -> None:
        self._keep_cursor_visible()
        if self.header is not None:
            self.header.refresh()

    def on_unmount(self) -> None:
        if self._countdown is not None:
            self._countdown.stop()
            self._countdown = None

    def _update_countdown(self) -> None:
        """Refresh once a second while any row is held; stop when none is."""
        if self._deadlines and self._countdown is None and self.is_mounted:
            self._countdown = self.set_interval(1.0, self.refresh)
        elif not self._deadlines and self._countdown is not None:
            self._countdown.stop()
            self._countdown = None

    # -- rendering ---------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if not self._rows:
            if y != 0:
                return Strip.blank(width, base)
            hint = self.get_component_rich_style("exchange-list--hint")
            return Strip([Segment(_fit(self.empty_text, width), hint)], width)
        line = self.scroll_offset.y + y
        if line >= len(self._rows):
            return Strip.blank(width, base)
        summary = self._rows[self._row_at(line)]
        if summary.id == self._selected_id:
            style = self.get_component_rich_style("exchange-list--cursor")
        elif "error" in summary.severities:
            style = self.get_component_rich_style("exchange-list--error")
        else:
            style = base
        return Strip(self._row_segments(summary, width)).crop_extend(0, width, None).apply_style(style)

    def _row_segments(self, summary: Summary, width: int) -> list[Segment]:
        """One exchange as segments of plain, inert text, column by column."""
        event_width, user_width, findings_width = columns(width)
        kind, what, user = naming.kind(summary), naming.title(summary), naming.person(summary)
        marks = ("●" if summary.id in self.marked else "") + (
            f"↻{summary.redelivery}" if summary.redelivery else "")
        segments = [
            Segment(_clock(int(summary.time))), _GAP,
            *self._answer(summary), _GAP,
            Segment(_fit(kind, _TYPE)), _GAP,
            Segment(_fit(what, event_width)), _GAP,
        ]
        if user_width:
            segments += [Segment(_fit(user, user_width)), _GAP]
        if findings_width:
            segments += [*self._finding_counts(summary), _GAP]
        segments.append(Segment(_fit(marks, _MARKS), _MARK_STYLE))
        return segments

    def header_strip(self, width: int) -> Strip:
        """The column names for rows `width` cells wide, and how many arrivals are out of view."""
        event_width, user_width, findings_width = columns(width)
        names = [("time", _TIME), ("answer", _ANSWER), ("type", _TYPE), ("event", event_width),
                 ("user", user_width), ("findings", findings_width)]
        text = " ".join(_fit(name, size) for name, size in names if size)
        unseen = self.unseen
        if unseen:
            note = f" {unseen:,} new {'↑' if self.newest_first else '↓'} n "
            strip = Strip([Segment(_fit(text, max(0, width - cell_len(note)))),
                           Segment(note, Style(reverse=True, bold=True))])
        else:
            strip = Strip([Segment(_fit(text, width))])
        return strip.crop_extend(0, width, None)

    def _answer(self, summary: Summary) -> list[Segment]:
        """`200 ok`: our status and what Segment does then; `HELD 23s` while held."""
        if summary.status is not None:
            outcome = OUTCOME_WORD[segment_outcome(summary.status)]
            return [Segment(_fit(str(summary.status), 3), _STATUS_STYLES.get(summary.status // 100)),
                    _GAP, Segment(_fit(outcome, _ANSWER - 4), _OUTCOME_STYLES.get(outcome))]
        deadline = self._deadlines.get(summary.id)
        if deadline is not None:
            return [Segment(_fit(f"HELD {max(0, math.ceil(deadline - self._clock()))}s", _ANSWER), _HELD_STYLE)]
        if summary.held:
            return [Segment(_fit("HELD", _ANSWER), _HELD_STYLE)]
        return [Segment(_fit("...", _ANSWER), _WAITING_STYLE)]

    @staticmethod
    def _finding_counts(summary: Summary) -> list[Segment]:
        """`2E 1W 3I`, each count in its severity's color, padded to the column."""
        segments: list[Segment] = []
        used = 0
        for severity, letter, style in _SEVERITY_MARKS:
            count = summary.severities.count(severity)
            if count:
                text = f"{count}{letter}" if not segments else f" {count}{letter}"
                segments.append(Segment(text, style))
                used += len(text)
        if used > _FINDINGS:
            return [Segment(_fit("".join(s.text for s in segments), _FINDINGS), _SEVERITY_MARKS[0][2])]
        segments.append(Segment(" " * (_FINDINGS - used)))
        return segments

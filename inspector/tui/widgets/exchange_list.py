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

The rows are kept by `exchange_rows`, drawn by `exchange_columns`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable

from rich.segment import Segment
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from inspector.core.marks import Marks
from inspector.core.model import Summary

from ...core.hub_api import Found
from . import exchange_columns
from .exchange_columns import fit, row_segments
from .exchange_rows import Listing

WAITING = "Waiting for requests…"


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
        self._rows = Listing()
        self._selected_id: str | None = None
        self._deadlines: dict[str, float] = {}
        self.marked = Marks(None)  # the app gives the hub's, kept across restarts
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

    def set_rows(self, summaries: Iterable[Summary] | Found) -> None:
        """Show these exchanges instead (given in arrival order), keeping the selection if it is among them."""
        self._rows = Listing(summaries)
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
            try:
                self.marked.toggle(self._selected_id)
            except OSError as err:
                self.notify(f"the mark is not kept: {err.strerror or err}", severity="error", markup=False)
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
            return Strip([Segment(fit(self.empty_text, width), hint)], width)
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
        deadline = self._deadlines.get(summary.id)
        held_for = max(0, math.ceil(deadline - self._clock())) if deadline is not None else None
        segments = row_segments(summary, width, marked=summary.id in self.marked, held_for=held_for)
        return Strip(segments).crop_extend(0, width, None).apply_style(style)

    def watch_show_vertical_scrollbar(self) -> None:
        """The scrollbar takes its columns from the rows: the names above them move with them."""
        if self.header is not None:
            self.header.refresh()

    def header_strip(self, width: int) -> Strip:
        """The column names for rows `width` cells wide, and how many arrivals are out of view."""
        return exchange_columns.header_strip(width, self.unseen, self.newest_first)

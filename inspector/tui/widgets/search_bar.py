"""The search bar: the one query language over the whole history, errors shown in place."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

from ...core.query import Query, QueryError, parse


class SearchBar(Vertical):
    """An input that posts `SearchBar.Changed` with a parsed query, or shows why it cannot."""

    DEFAULT_CSS = """
    SearchBar {
        height: auto;
    }
    SearchBar Input, SearchBar Input:focus {
        border: none;
        height: 1;
        padding: 0 1;
    }
    SearchBar Input:focus {
        background: $boost;
    }
    SearchBar #search-error {
        height: auto;
        color: $error;
        padding: 0 1;
        display: none;
    }
    SearchBar.-invalid #search-error {
        display: block;
    }
    """

    BINDINGS = [Binding("escape", "clear", "Clear search", id="search.clear")]

    CHECK_DELAY = 0.3
    """Seconds of no typing before what is typed is checked, so errors show as you type."""

    class Changed(Message):
        """The user applied a query (None: show everything)."""

        def __init__(self, query: Query | None) -> None:
            super().__init__()
            self.query = query

    def compose(self) -> ComposeResult:
        yield Input(placeholder="/ search: type:track event:\"Order Completed\" status>=400 has:errors since:10m",
                    id="search-input")
        yield Static(id="search-error", markup=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._check: Timer | None = None

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.apply(event.value)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._check is not None:
            self._check.stop()
        self._check = self.set_timer(self.CHECK_DELAY, lambda: self._parse(event.value))

    def _parse(self, text: str) -> tuple[bool, Query | None]:
        """The query typed, or (False, None) after showing why it is not one."""
        error = self.query_one("#search-error", Static)
        try:
            query = parse(text) if text.strip() else None
        except QueryError as err:
            self.add_class("-invalid")
            # The input is one line above, its text in the same column: point straight at it.
            pointer = Text(" " * err.position + "^ ", style="bold")
            pointer.append(err.message)
            error.update(pointer)
            return False, None
        self.remove_class("-invalid")
        return True, query

    def apply(self, text: str) -> None:
        """Parse and post the query; show the error under the input instead when it is invalid."""
        if self._check is not None:
            self._check.stop()
        valid, query = self._parse(text)
        if valid:
            self.post_message(self.Changed(query))

    def action_clear(self) -> None:
        if self._check is not None:
            self._check.stop()
        self.query_one(Input).value = ""
        self.remove_class("-invalid")
        self.post_message(self.Changed(None))
        self.screen.focus_next()

"""The search bar: the one query language over the whole history, errors shown in place."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from ...core.query import Query, QueryError, parse


class SearchBar(Vertical):
    """An input that posts `SearchBar.Changed` with a parsed query, or shows why it cannot."""

    DEFAULT_CSS = """
    SearchBar {
        height: auto;
    }
    SearchBar Input {
        border: none;
        height: 1;
        padding: 0 1;
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

    class Changed(Message):
        """The user applied a query (None: show everything)."""

        def __init__(self, query: Query | None) -> None:
            super().__init__()
            self.query = query

    def compose(self) -> ComposeResult:
        yield Input(placeholder="/ search: type:track event:\"Order Completed\" status>=400 has:errors since:10m",
                    id="search-input")
        yield Static(id="search-error", markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.apply(event.value)

    def apply(self, text: str) -> None:
        """Parse and post the query; show the error under the input instead when it is invalid."""
        error = self.query_one("#search-error", Static)
        try:
            query = parse(text) if text.strip() else None
        except QueryError as err:
            self.add_class("-invalid")
            pointer = Text(f"{err.message}\n", style="bold")
            pointer.append(text + "\n")
            pointer.append(" " * err.position + "^")
            error.update(pointer)
            return
        self.remove_class("-invalid")
        self.post_message(self.Changed(query))

    def action_clear(self) -> None:
        self.query_one(Input).value = ""
        self.remove_class("-invalid")
        self.post_message(self.Changed(None))
        self.screen.focus_next()

"""Hold requests for a person: all of them, or the next N that match a query."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from ...core import values
from ...core.query import Query, QueryError, parse
from . import Dialog


@dataclass(frozen=True)
class HoldChoice:
    query: Query | None
    count: int | None
    timeout: float


class HoldScreen(Dialog[HoldChoice]):
    """Returns what to hold, or None when cancelled."""

    def __init__(self, timeout: float, query: str = "") -> None:
        super().__init__()
        self.timeout = timeout
        self.initial_query = query

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text("Hold requests until you answer them", style="bold"), markup=False)
            yield Label("Only requests matching (empty: every request)")
            yield Input(self.initial_query, id="query", placeholder='event:"Order Completed"')
            yield Label("Only the next N of them (empty: until hold is turned off)")
            yield Input("", id="count", restrict=r"\d*")
            yield Label("Seconds before a held request falls back to the default answer")
            yield Input(f"{self.timeout:g}", id="timeout", restrict=r"[0-9.]*")
            yield Static(id="problem", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Hold", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def submit(self) -> None:
        text = self.query_one("#query", Input).value
        count = self.query_one("#count", Input).value.strip()
        timeout = self.query_one("#timeout", Input).value.strip()
        problem = self.query_one("#problem", Static)
        try:
            query = parse(text) if text.strip() else None
        except QueryError as err:
            problem.update(Text(f"query: {err}", style="bold red"))
            return
        try:
            seconds = values.duration(timeout) if timeout else self.timeout
        except ValueError as err:
            problem.update(Text(f"timeout: {err}", style="bold red"))
            return
        self.dismiss(HoldChoice(query, int(count) if count else None, seconds))

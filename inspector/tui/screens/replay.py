"""Replay a request to an endpoint, and its answer beside the one we sent Segment."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ...core import values
from ...core.model import OUTCOME_TEXT, Exchange, Outcome
from ...core.text import inert
from ...replay import ReplayReport
from . import Dialog


@dataclass(frozen=True)
class ReplayChoice:
    url: str
    api_key: str | None


class ReplayScreen(Dialog[ReplayChoice]):
    """Asks where to send the selected request again."""

    def __init__(self, url: str = "") -> None:
        super().__init__()
        self.url = url

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text("Replay the selected request with Segment's headers", style="bold"),
                         markup=False)
            yield Label("To URL")
            yield Input(self.url, id="url", placeholder="https://api.example.com/segment")
            yield Label("API key (empty: the one it was sent with)")
            yield Input("", id="key", password=True)
            yield Static(id="problem", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Replay", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def submit(self) -> None:
        try:
            url = values.url(self.query_one("#url", Input).value)
        except ValueError as err:
            self.query_one("#problem", Static).update(Text(f"URL: {err}", style="bold red"))
            return
        self.dismiss(ReplayChoice(url, self.query_one("#key", Input).value or None))


def _answer(status: int | None, seconds: float, body: bytes, note: str | None) -> Text:
    text = Text()
    text.append("no answer" if status is None else str(status), style="bold")
    text.append(f"  in {seconds * 1000:.0f} ms\n")
    if note:
        text.append(inert(note) + "\n", style="yellow")
    text.append(inert(body.decode("utf-8", "replace")[:2000]) or "(empty body)", style="dim")
    return text


class ReplayResultScreen(ModalScreen[None]):
    """The original answer and the replayed one, side by side, with what Segment would do."""

    BINDINGS = [Binding("escape,q,enter", "close", "Close", id="replay.close")]

    def __init__(self, exchange: Exchange, report: ReplayReport) -> None:
        super().__init__()
        self.exchange = exchange
        self.report = report

    def compose(self) -> ComposeResult:
        table = Table(expand=True, show_lines=True)
        table.add_column(Text("what we answered Segment"))
        table.add_column(Text(f"what {inert(self.report.target)} answered"))
        answer = self.exchange.answer
        left = (_answer(answer.status, self.exchange.duration, answer.body, f"chosen by {answer.chosen_by}")
                if answer else Text("not answered yet"))
        if self.report.results:
            result = self.report.results[0]
            right = _answer(result.status, result.seconds, result.body, result.error or result.location)
            outcome: Outcome | None = result.outcome
        else:
            right = Text(inert(self.report.down or "not sent: " + "; ".join(
                why for _, why in self.report.skipped)), style="bold red")
            outcome = "retried" if self.report.down else None
        table.add_row(left, right)
        table.add_row(Text(OUTCOME_TEXT[answer.outcome] if answer else ""),
                      Text(OUTCOME_TEXT[outcome] if outcome else ""))
        with VerticalScroll(id="dialog"):
            yield Static(Text("Replay", style="bold"), markup=False)
            yield Static(table, markup=False)
            yield Static(Text("enter or escape closes", style="dim"), markup=False)

    def action_close(self) -> None:
        self.dismiss(None)

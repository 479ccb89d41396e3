"""Type a rule, `QUERY => STATUS[:message]`, checked as the config file's rules are."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from ...core.model import Summary
from ...core.policy import Rule, parse_rule
from ...core.query import Query, parse
from . import Dialog


def quoted(value: str) -> str:
    """A value as the query language reads it, quoted with \\ and \" escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def like(summary: Summary) -> Query | None:
    """The query for requests like this one: its type and its event; None without an event."""
    if not summary.types:
        return None
    terms = [f"type:{quoted(summary.types[0])}"] if summary.types[0] else []
    if summary.names and summary.names[0]:
        terms.append(f"event:{quoted(summary.names[0])}")
    return parse(" ".join(terms))


class RuleScreen(Dialog[Rule]):
    """Returns the rule typed, or None when cancelled."""

    def __init__(self, title: str, text: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(self.title_text, style="bold"), markup=False)
            yield Label("QUERY => STATUS[:message], as --rule takes it")
            yield Input(self.text, id="rule", placeholder='event:"Order Completed" => 503:try later')
            yield Static(id="problem", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Save", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def submit(self) -> None:
        try:
            rule = parse_rule(self.query_one("#rule", Input).value)
        except ValueError as err:
            self.query_one("#problem", Static).update(Text(str(err), style="bold red"))
            return
        self.dismiss(rule)

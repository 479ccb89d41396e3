"""Type a rule, `QUERY => STATUS[:message]`, checked as the config file's rules are."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from ...core.policy import Rule, parse_rule
from . import Dialog


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

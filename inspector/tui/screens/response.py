"""Choose any response: a status, an optional message, an optional delay."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from ...core.policy import PRESETS, Reply, parse_reply, reason
from . import Dialog


class ResponseScreen(Dialog[Reply]):
    """Returns the Reply the user built, or None when cancelled."""

    def __init__(self, title: str, reply: Reply | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.initial = reply or Reply()

    def compose(self) -> ComposeResult:
        presets = "  ".join(f"{status} {reason(status)}" for status in PRESETS)
        with Vertical(id="dialog"):
            yield Static(Text(self.title_text, style="bold"), markup=False)
            yield Label("Status (100-599)")
            yield Input(str(self.initial.status), id="status", restrict=r"\d{0,3}")
            yield Static(Text(presets, style="dim"), markup=False)
            yield Label("Message (optional; 4xx/5xx default to the reason phrase)")
            yield Input(self.initial.message or "", id="message")
            yield Label("Delay in seconds (optional)")
            yield Input(f"{self.initial.delay:g}" if self.initial.delay else "", id="delay",
                        restrict=r"[0-9.]*")
            yield Static(id="problem", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Answer", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def submit(self) -> None:
        status = self.query_one("#status", Input).value.strip()
        message = self.query_one("#message", Input).value
        delay_text = self.query_one("#delay", Input).value.strip()
        try:
            delay = float(delay_text) if delay_text else 0.0
            reply = parse_reply(status + (f":{message}" if message else ""), delay)
        except ValueError as err:
            self.query_one("#problem", Static).update(Text(str(err), style="bold red"))
            return
        self.dismiss(reply)

"""Forward requests to your own endpoint: its URL, and whether to mirror instead."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Static

from ...core import values
from ...core.policy import Forward
from . import Dialog

OFF = Forward("")
"""Dismissed with this, the dialog means "stop forwarding"."""


class ForwardScreen(Dialog[Forward]):
    """Returns the Forward to use, OFF to stop forwarding, or None when cancelled."""

    def __init__(self, current: Forward | None = None) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text("Forward requests to your endpoint", style="bold"), markup=False)
            yield Label("Endpoint URL (empty: stop forwarding)")
            yield Input(self.current.url if self.current else "", id="url",
                        placeholder="http://localhost:3000/segment")
            yield Checkbox("Mirror: answer Segment as before, forward a copy",
                           self.current.mirror if self.current else False, id="mirror")
            yield Static(id="problem", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Forward", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def submit(self) -> None:
        url = self.query_one("#url", Input).value.strip()
        if not url:
            self.dismiss(OFF)
            return
        try:
            url = values.url(url)
        except ValueError as err:
            self.query_one("#problem", Static).update(Text(f"URL: {err}", style="bold red"))
            return
        self.dismiss(Forward(url, self.query_one("#mirror", Checkbox).value))

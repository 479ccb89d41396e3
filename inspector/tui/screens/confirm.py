"""Ask before doing something that cannot be taken back."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from . import Dialog


class ConfirmScreen(Dialog[bool]):
    """Returns True when the user confirms (enter on the first button), None otherwise."""

    def __init__(self, question: str, yes: str) -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(self.question), markup=False)
            with Horizontal(id="buttons"):
                yield Button(self.yes, variant="error", id="ok")
                yield Button("Cancel", id="cancel")

    def submit(self) -> None:
        self.dismiss(True)

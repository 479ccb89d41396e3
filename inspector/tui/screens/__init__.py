"""Modal screens: choose a response, hold requests, manage rules, help."""

from __future__ import annotations

from typing import TypeVar

from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Button

T = TypeVar("T")


class Dialog(ModalScreen[T]):
    """A form: enter or its first button submits, escape or Cancel dismisses with None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def submit(self) -> None:
        raise NotImplementedError

    def on_input_submitted(self) -> None:
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self.submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

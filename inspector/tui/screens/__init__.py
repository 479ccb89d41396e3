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

    COMPACT_BELOW = 30
    """In a terminal shorter than this, fields lose their borders so the whole form fits."""

    def on_mount(self) -> None:
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        compact = self.app.size.height < self.COMPACT_BELOW
        for field in self.query("Input, Select, RadioSet, Checkbox, Button"):
            field.set_class(compact, "-textual-compact")

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

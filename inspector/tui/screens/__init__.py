"""Modal screens: choose a response, hold requests, manage rules, help."""

from __future__ import annotations

from typing import TypeVar

from textual import events
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, TextArea

T = TypeVar("T")


class Dialog(ModalScreen[T]):
    """A form: enter or its first button submits, escape or Cancel dismisses with None.

    Enter submits from a checkbox too, as it does from a field: space toggles it.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
                Binding("enter", "submit", "Submit (from a checkbox too)", show=False, priority=True,
                        id="dialog.submit")]

    COMPACT_BELOW = 30
    """In a terminal shorter than this, fields lose their borders so the whole form fits."""

    def __init__(self) -> None:
        super().__init__()
        self._early: list[events.Key] = []

    def on_mount(self) -> None:
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        compact = self.app.size.height < self.COMPACT_BELOW
        for field in self.query("Input, Select, RadioSet, Checkbox, Button, TextArea"):
            field.set_class(compact, "-textual-compact")

    def take_key(self, event: events.Key) -> None:
        """A key typed in the burst that opened this dialog: it went to the screen below,
        came back unused, and belongs in the first field (once that has the focus)."""
        self._early.append(events.Key(event.key, event.character))
        if len(self._early) == 1:
            self.call_after_refresh(self._replay)

    def _replay(self) -> None:
        if not isinstance(self.focused, (Input, TextArea)):
            self._early.clear()
            return
        keys, self._early = self._early, []
        for key in keys:
            self.focused.post_message(key)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # enter is taken here only on a checkbox: fields, buttons and editors keep theirs.
        return action != "submit" or isinstance(self.focused, Checkbox)

    def action_submit(self) -> None:
        self.submit()

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

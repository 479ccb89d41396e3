"""Export the selected, the marked or the filtered exchanges as test fixtures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, RadioSet, Select, Static

from ...core.exporters import FORMATS, ExportOptions, export
from ...core.exporters.output import write_export
from ...core.model import Exchange
from . import Dialog

SCOPES = ("selected", "marked", "filtered")


@dataclass(frozen=True)
class ExportChoice:
    format: str
    scope: str  # one of SCOPES
    path: str
    redact: bool
    force: bool


KEYS_NOTE = "it holds API keys in the clear, so only you can read it; Redact replaces them"


def write_choice(choice: ExportChoice, exchanges: Sequence[Exchange], base_url: str) -> tuple[str, bool]:
    """Export and write what was chosen; returns what to tell the user, and whether the
    files hold API keys in the clear (written for the user alone), which the user must hear.
    Raises OSError or ValueError when the files cannot be written."""
    result = export(exchanges, choice.format, ExportOptions(base_url=base_url, redact=choice.redact))
    paths = write_export(result, Path(choice.path), force=choice.force)
    where = paths[0] if len(paths) == 1 else Path(choice.path)
    skipped = f"; {len(result.skipped)} left out" if result.skipped else ""
    said = f"exported {result.count} as {choice.format} to {where}{skipped}"
    return (f"{said}: {KEYS_NOTE}", True) if result.keys else (said, False)


class ExportScreen(Dialog[ExportChoice]):
    """Returns what to export and where, or None when cancelled."""

    def __init__(self, counts: dict[str, int]) -> None:
        super().__init__()
        self.counts = counts

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text("Export as test fixtures", style="bold"), markup=False)
            yield Label("Format")
            yield Select([(Text(f"{name}: {spec.help}"), name) for name, spec in FORMATS.items()],
                         value="pytest", allow_blank=False, id="format")
            yield Label("Which exchanges")
            with RadioSet(id="scope"):
                for scope in SCOPES:
                    yield RadioButton(Text(f"{scope} ({self.counts.get(scope, 0):,})"),
                                      value=scope == ("marked" if self.counts.get("marked") else "selected"))
            yield Label("File or directory (empty: the format's usual name, here)")
            yield Input("", id="path", placeholder=FORMATS["pytest"].default_name)
            yield Checkbox("Redact API keys, emails and IPs", id="redact")
            yield Checkbox("Overwrite existing files", id="force")
            yield Static(id="problem", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Export", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_select_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.query_one("#path", Input).placeholder = FORMATS[event.value].default_name

    def submit(self) -> None:
        name = self.query_one("#format", Select).value
        pressed = self.query_one(RadioSet).pressed_index
        scope = SCOPES[pressed if pressed >= 0 else 0]
        if not self.counts.get(scope):
            self.query_one("#problem", Static).update(Text(f"no {scope} exchanges", style="bold red"))
            return
        path = self.query_one("#path", Input).value.strip() or FORMATS[str(name)].default_name
        self.dismiss(ExportChoice(str(name), scope, path, self.query_one("#redact", Checkbox).value,
                                  self.query_one("#force", Checkbox).value))

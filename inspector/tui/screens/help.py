"""Help: every key, what it does, and the id to remap it with in the config file."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close", id="help.close")]

    def __init__(self, bindings: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.bindings = bindings

    def compose(self) -> ComposeResult:
        table = Table(box=None, padding=(0, 2), show_header=True, header_style="bold")
        table.add_column(Text("key"))
        table.add_column(Text("does"))
        table.add_column(Text("id (for [keys] in the config file)"), style="dim")
        for key, description, binding_id in self.bindings:
            table.add_row(Text(key, style="bold"), Text(description), Text(binding_id))
        intro = Text.assemble(
            ("segment-inspector", "bold"), " receives what Segment sends, checks it and answers it.\n",
            "Digits set the answer to new requests; on a held request they answer that request.\n",
            "Remap a key in config.toml:  [keys]  answer.500 = \"f5\"\n")
        with VerticalScroll(id="dialog"):
            yield Static(intro, markup=False)
            yield Static(table, markup=False)

    def action_close(self) -> None:
        self.dismiss(None)

"""Help: every key by where it works, what it does, the id to remap it with, and the list's symbols."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

Row = tuple[str, str, str]  # key, what it does, binding id


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close", id="help.close")]

    def __init__(self, sections: list[tuple[str, list[Row]]], legend: tuple[tuple[str, str], ...] = (),
                 attach: str = "") -> None:
        super().__init__()
        self.sections = sections
        self.legend = legend
        self.attach = attach  # the command that attaches a teammate's TUI here

    def compose(self) -> ComposeResult:
        intro = Text.assemble(
            ("segment-inspector", "bold"), " receives what Segment sends, checks it and answers it.\n",
            "Digits set the answer to new requests; on a held request they answer that request.\n",
            "Remap a key in config.toml:  [keys]  answer.500 = \"f5\"  (or \"answer.500\" = \"f5\")",
            *(("\nA teammate's TUI attaches with:  ", (self.attach, "bold")) if self.attach else ()))
        with VerticalScroll(id="dialog"):
            yield Static(intro, markup=False)
            for title, rows in self.sections:
                table = Table(box=None, padding=(0, 2), show_header=False, title=Text(title, style="bold"),
                              title_justify="left")
                table.add_column(min_width=9)
                table.add_column(ratio=1)
                table.add_column(style="dim")
                for key, description, binding_id in rows:
                    table.add_row(Text(key, style="bold"), Text(description), Text(binding_id))
                yield Static(table, markup=False)
            if self.legend:
                table = Table(box=None, padding=(0, 2), show_header=False,
                              title=Text("The exchange list's columns and symbols", style="bold"),
                              title_justify="left")
                table.add_column(min_width=9)
                table.add_column(ratio=1)
                for symbol, meaning in self.legend:
                    table.add_row(Text(symbol, style="bold"), Text(meaning))
                yield Static(table, markup=False)

    def action_close(self) -> None:
        self.dismiss(None)

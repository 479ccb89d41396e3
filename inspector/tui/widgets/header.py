"""The header: where to point Segment, how requests are being answered, and the counts."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text
from textual.widget import Widget

from ...core.text import inert


@dataclass(frozen=True)
class HeaderState:
    """Everything the header shows; the app builds a new one when anything changes."""

    local_url: str = ""
    public_url: str | None = None
    tunnel_note: str = "no tunnel: Segment cannot reach this URL"
    answer: str = "200"
    rules: int = 0
    hold: str = "off"
    received: int = 0
    held: int = 0
    errors: int = 0
    history: int = 0
    filter: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


class InspectorHeader(Widget):
    """Two lines at the top: the URLs, then the answer policy and the counts."""

    DEFAULT_CSS = """
    InspectorHeader {
        height: 2;
        background: $panel;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = HeaderState()

    def show(self, state: HeaderState) -> None:
        if state != self.state:
            self.state = state
            self.refresh()

    def render(self) -> Text:
        s = self.state
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("segment-inspector ", style="bold")
        text.append("local ", style="dim")
        text.append(inert(s.local_url or "starting…"), style="bold")
        text.append("  public ", style="dim")
        if s.public_url:
            text.append(inert(s.public_url), style="bold green")
        else:
            text.append(inert(s.tunnel_note), style="yellow")
        text.append("\n")
        text.append("answer ", style="dim")
        text.append(inert(s.answer), style="bold")
        text.append(f"  rules {s.rules}", style="bold" if s.rules else "dim")
        text.append("  hold ", style="dim")
        text.append(inert(s.hold), style="bold magenta" if s.hold != "off" else "dim")
        text.append(f"   this run: received {s.received:,}", style="")
        text.append(f"  held {s.held}", style="bold magenta" if s.held else "dim")
        text.append(f"  with errors {s.errors:,}", style="bold red" if s.errors else "dim")
        text.append(f"  history {s.history:,}", style="dim")
        if s.filter:
            text.append("  filter ", style="dim")
            text.append(inert(s.filter), style="bold cyan")
        for note in s.notes:
            text.append(f"  {inert(note)}", style="yellow")
        return text

"""The header: where to point Segment, how requests are being answered, and the counts."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text
from textual.content import Content
from textual.widget import Widget

from ...core.hub import TunnelState
from ...core.text import inert

NO_TUNNEL = "no tunnel: Segment cannot reach this URL"


def tunnel_note(tunnel: TunnelState | None) -> str:
    """Why there is no public URL: the tunnel's own word, else that there is none."""
    return tunnel.note if tunnel is not None and tunnel.note else NO_TUNNEL


@dataclass(frozen=True)
class HeaderState:
    """Everything the header shows; the app builds a new one when anything changes."""

    local_url: str = ""
    attached: str = ""  # the other inspector this TUI is attached to, and how the connection is
    public_url: str | None = None
    tunnel_note: str = NO_TUNNEL
    answer: str = "200"
    rules: int = 0
    hold: str = "off"
    received: int = 0
    held: int = 0
    errors: int = 0
    history: int = 0
    disk: int = 0  # bytes the history takes on disk
    filter: str = ""
    searching: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)


def size_text(size: int) -> str:
    """Bytes as people read them: 3.4 MB, 812 MB, 1.3 GB."""
    unit, scale = ("GB", 1e9) if size >= 1e9 else ("MB", 1e6)
    return f"{size / scale:.1f} {unit}" if size < 10 * scale else f"{size / scale:,.0f} {unit}"


def one_line(text: str) -> str:
    """Untrusted or multi-line text as one line of inert text."""
    return " ".join(inert(text).split())


class InspectorHeader(Widget):
    """Two lines at the top: the URLs, then the answer policy and the counts.

    Each line is cut at the width, never wrapped: a long tunnel message must not push
    the status line out. The full message is the tooltip.
    """

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
            note = "\n".join(inert(line) for line in state.tunnel_note.splitlines())
            self.tooltip = None if state.public_url else Content(note)
            self.refresh()

    def render(self) -> Text:
        width = max(1, self.content_region.width)
        top, status = self._urls(), self._status()
        for line in (top, status):
            line.truncate(width, overflow="ellipsis")
        return Text("\n", no_wrap=True).join([top, status])

    def _urls(self) -> Text:
        s = self.state
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("segment-inspector ", style="bold")
        if s.attached:
            text.append("attached ", style="dim")
            text.append(one_line(s.attached), style="bold yellow" if "reconnecting" in s.attached else "bold")
            text.append("  receiving ", style="dim")
        else:
            text.append("local ", style="dim")
        text.append(inert(s.local_url or "starting…"), style="bold")
        text.append("  public ", style="dim")
        if s.public_url:
            text.append(inert(s.public_url), style="bold green")
        else:
            text.append(one_line(s.tunnel_note), style="yellow")
        return text

    def _status(self) -> Text:
        s = self.state
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("answer ", style="dim")
        text.append(inert(s.answer), style="bold")
        text.append(f"  rules {s.rules}", style="bold" if s.rules else "dim")
        text.append("  hold ", style="dim")
        text.append(inert(s.hold), style="bold magenta" if s.hold != "off" else "dim")
        if s.filter:
            text.append("  filter ", style="dim")
            text.append(one_line(s.filter), style="bold cyan")
            if s.searching:
                text.append(" searching…", style="bold yellow")
        text.append(f"   received {s.received:,}", style="")
        text.append(f"  held {s.held}", style="bold magenta" if s.held else "dim")
        text.append(f"  with errors {s.errors:,}", style="bold red" if s.errors else "dim")
        text.append(f"  history {s.history:,}", style="dim")
        if s.disk >= 1e6:  # what retention (--keep) counts; below a megabyte it does not matter
            text.append(f" ({size_text(s.disk)} on disk)", style="dim")
        for note in s.notes:
            text.append(f"  {one_line(note)}", style="yellow")
        return text

"""The request body: pretty JSON with line numbers, or the exact text that arrived.

Findings point into a body by JSON path, so the JSON is laid out by `core.jsonview`,
which also says on which line each path starts; `show_path` marks that line. Bodies
can be large (1 MB and more), so this is a Line-API widget that draws only the lines
on screen, colours only the first lines, and lays large bodies out in a thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rich.cells import cell_len
from textual import work
from textual.binding import Binding
from textual.cache import LRUCache
from textual.content import Content
from textual.geometry import Size
from textual.highlight import highlight
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from ....core.intake import parse_body
from ....core.jsonview import line_of, pretty_lines
from ....core.model import BodyError, Exchange
from . import json_visible, visible

HIGHLIGHT_LINES = 2_000
HIGHLIGHT_CHARACTERS = 200_000
LONGEST_LINE = 10_000
"""Characters shown of one line; the rest is counted, not drawn."""
IN_THE_BACKGROUND = 64 * 1024
"""Bodies larger than this are laid out in a thread so the UI keeps answering keys."""
LINES_ABOVE_MARK = 3


@dataclass(slots=True)
class BodyLayout:
    """A body made ready to draw: its JSON and raw lines, and what to say about it."""

    size: int = 0
    json: list[str] | None = None  # pretty JSON lines, each cut to LONGEST_LINE; None if not JSON
    colored: list[Content] = field(default_factory=list)  # the first of the JSON lines, highlighted
    paths: dict[str, int] = field(default_factory=dict)
    raw: list[str] = field(default_factory=list)
    json_cut: dict[int, int] = field(default_factory=dict)  # line -> characters not shown
    raw_cut: dict[int, int] = field(default_factory=dict)
    json_width: int = 0
    raw_width: int = 0
    error: BodyError | None = None
    error_at: tuple[int, int] | None = None  # raw line and column of a JSON syntax error
    notes: list[Content] = field(default_factory=list)


def _cut(lines: list[str], show: Callable[[str], str] | None = None,
         cut: dict[int, int] | None = None) -> tuple[list[str], dict[int, int], int]:
    """Lines cut to LONGEST_LINE, how much each lost (added to `cut`), and the widest in cells.

    A line is cut before `show` makes it displayable, so a line of megabytes costs only
    what is drawn of it (and never holds the event loop's lock for long in a thread).
    """
    cut = dict(cut or {})
    shown = []
    for index, line in enumerate(lines):
        if len(line) > LONGEST_LINE:
            cut[index] = cut.get(index, 0) + len(line) - LONGEST_LINE
            line = line[:LONGEST_LINE]
        if show is not None:
            line = show(line)[:LONGEST_LINE]
        shown.append(line)
    width = max((len(line) if line.isascii() else cell_len(line) for line in shown), default=0)
    if cut:
        width += len(_more(max(cut.values())))
    return shown, cut, width


def _more(count: int) -> str:
    return f" … {count:,} more characters"


def _error_at(error: BodyError, body: bytes, raw: list[str]) -> tuple[int, int] | None:
    """Where a syntax error is on screen: line index and column in the visible raw text."""
    if error.line is not None and error.column is not None:
        line = error.line - 1
        if not 0 <= line < len(raw):
            return None
        return line, len(visible(raw[line][: error.column - 1]))
    if error.position is not None:
        line = body.count(b"\n", 0, error.position)
        start = body.rfind(b"\n", 0, error.position) + 1
        return line, len(visible(body[start:error.position].decode("utf-8", "replace")))
    return None


def lay_out(exchange: Exchange) -> BodyLayout:
    """Everything BodyView draws for this body; pure, so it can run in a thread."""
    body = exchange.content
    layout = BodyLayout(size=exchange.body_size)
    received = body.decode("utf-8", "replace").split("\n")
    layout.raw, layout.raw_cut, layout.raw_width = _cut(received, visible)
    if not body:
        layout.raw = []
        layout.notes.append(Content("The request has no body."))

    error = exchange.body_error
    if exchange.truncated:
        layout.notes.append(Content(f"Only the first {len(body):,} of {exchange.body_size:,} bytes "
                                    "were kept; shown as text."))
    elif error is None and body.strip():
        if exchange.data is not None:
            data = exchange.data
        else:
            data, error = parse_body(body)
        if error is None:
            lines, layout.paths, cut = pretty_lines(data, LONGEST_LINE)
            layout.json, layout.json_cut, layout.json_width = _cut(lines, json_visible, cut)
            layout.colored = _colored(layout.json)
            if len(layout.colored) < len(layout.json):
                layout.notes.append(Content(
                    f"Colours stop after line {len(layout.colored):,} of {len(layout.json):,}, "
                    "to stay quick."))
    if error is not None:
        layout.error = error
        layout.error_at = _error_at(error, body, received)
        layout.notes.insert(0, Content.assemble(("✗ ", "bold $text-error"),
                                                (visible(error.message), "$text-error")))
    return layout


def _colored(lines: list[str]) -> list[Content]:
    """The first lines highlighted as JSON, up to HIGHLIGHT_LINES and HIGHLIGHT_CHARACTERS."""
    count, characters = 0, 0
    for line in lines[:HIGHLIGHT_LINES]:
        characters += len(line) + 1
        if characters > HIGHLIGHT_CHARACTERS and count:
            break
        count += 1
    colored = highlight("\n".join(lines[:count]), language="json").split("\n", allow_blank=True)
    if len(colored) != count:  # never expected: the lines hold no other line breaks
        return [Content(line) for line in lines[:count]]
    return colored


class BodyView(ScrollView, can_focus=True):
    """The body of the selected exchange, as pretty JSON or as the exact text received."""

    BINDINGS = [
        Binding("v", "toggle_raw", "JSON/raw", id="body.toggle_raw",
                tooltip="Switch between pretty JSON and the exact text received"),
    ]

    COMPONENT_CLASSES = {
        "body-view--gutter",
        "body-view--marked",
        "body-view--error",
        "body-view--title",
    }

    DEFAULT_CSS = """
    BodyView {
        background: $surface;
        &:focus { background-tint: $foreground 5%; }
        & > .body-view--gutter { color: $text-muted; }
        & > .body-view--marked { background: $accent 35%; }
        & > .body-view--error { background: $error; color: $text; }
        & > .body-view--title { color: $text-muted; text-style: italic; }
    }
    """

    raw: var[bool] = var(False)
    """Show the exact text received rather than pretty JSON."""

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._exchange: Exchange | None = None
        self._layout: BodyLayout | None = BodyLayout()
        self._marked: int | None = None
        self._pending: tuple[str, int | None] | None = None
        self._banner: list[Content] = []
        self._strips: LRUCache[tuple[bool, int, bool], Strip] = LRUCache(1024)
        self._update_banner()

    # -- what the pane calls ----------------------------------------------------------

    def show(self, exchange: Exchange | None) -> None:
        """Show the body of this exchange, or nothing.

        Showing the same exchange again (it was answered meanwhile) keeps the place and mark.
        """
        previous, self._exchange = self._exchange, exchange
        if (exchange is not None and previous is not None and exchange.id == previous.id
                and exchange.body == previous.body):
            return
        self._marked = None
        self._pending = None
        if exchange is None:
            self._use(BodyLayout(notes=[Content("No exchange selected.")]))
        elif len(exchange.body) > IN_THE_BACKGROUND:
            self._layout = None
            self._redraw()
            self._lay_out_in_background(exchange)
        else:
            self._use(lay_out(exchange))

    def show_path(self, path: str, event: int | None = None) -> bool:
        """Switch to JSON, scroll to the line of a finding's path and mark it.

        `event` is the index of the event in a batch, for findings relative to their event.
        Returns False when there is no such line (the body is not JSON, or it is still
        being laid out, in which case the line is shown as soon as it is ready).
        """
        layout = self._layout
        if layout is None:
            self._pending = (path, event)
            return False
        line = line_of(layout.paths, path, event) if layout.json is not None else None
        if line is None:
            return False
        self._marked = line
        if self.raw:
            self.raw = False
        else:
            self._redraw()
        self.scroll_to(x=0, y=max(0, line - LINES_ABOVE_MARK), animate=False, immediate=True)
        self.call_after_refresh(self._keep_mark_in_view)
        return True

    @property
    def marked_line(self) -> int | None:
        """The 0-based JSON line marked by the last show_path, if any."""
        return self._marked

    @property
    def laid_out(self) -> BodyLayout | None:
        """What is drawn, or None while a large body is being laid out."""
        return self._layout

    def visible_lines(self) -> list[str]:
        """The plain text of the body lines now on screen, for tests and copying."""
        lines = self._lines()
        top = int(self.scroll_offset.y)
        height = max(0, self.size.height - len(self._banner))
        return [self._content(index).plain for index in range(top, min(len(lines), top + height))]

    def action_toggle_raw(self) -> None:
        """Switch between pretty JSON and the exact text received."""
        if self._layout is not None and self._layout.json is not None:
            self.raw = not self.raw
        else:
            self.app.bell()

    # -- laying out ---------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="body-layout")
    def _lay_out_in_background(self, exchange: Exchange) -> None:
        layout = lay_out(exchange)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._arrived, exchange, layout)

    def _arrived(self, exchange: Exchange, layout: BodyLayout) -> None:
        if self._exchange is not None and exchange.id == self._exchange.id:
            pending, self._pending = self._pending, None
            self._use(layout)
            if pending is not None:
                self.show_path(*pending)

    def _use(self, layout: BodyLayout) -> None:
        self._layout = layout
        raw = layout.json is None
        if raw != self.raw:
            self.set_reactive(BodyView.raw, raw)
        self._redraw()
        line = layout.error_at[0] if raw and layout.error_at else 0
        self.scroll_to(x=0, y=max(0, line - LINES_ABOVE_MARK), animate=False, immediate=True)

    def watch_raw(self) -> None:
        self._redraw()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def _redraw(self) -> None:
        self._strips.clear()
        self._update_banner()
        layout = self._layout
        lines = self._lines()
        width = 0
        if layout is not None:
            width = layout.raw_width if self.raw else layout.json_width
        self.virtual_size = Size(self._gutter_width() + width, len(self._banner) + len(lines))
        self.refresh()

    def _keep_mark_in_view(self) -> None:
        if self._marked is not None and not self.raw:
            top, height = self.scroll_offset.y, self.size.height - len(self._banner)
            if not top <= self._marked < top + max(1, height):
                self.scroll_to(y=max(0, self._marked - LINES_ABOVE_MARK), animate=False, immediate=True)

    def _update_banner(self) -> None:
        layout = self._layout
        if layout is None:
            size = len(self._exchange.body) if self._exchange else 0
            self._banner = [Content(f"Laying out {size:,} bytes…")]
            return
        if self._exchange is None:
            self._banner = list(layout.notes)
            return
        if self.raw:
            title = f"Text as received, {layout.size:,} bytes"
            if layout.json is not None:
                title += " · v: pretty JSON"
        else:
            title = f"JSON, {len(layout.json or ()):,} lines · v: text as received"
        self._banner = [Content(title).stylize(self.get_visual_style("body-view--title", partial=True)),
                        *layout.notes]

    # -- drawing --------------------------------------------------------------------------

    def _lines(self) -> list[str]:
        layout = self._layout
        if layout is None:
            return []
        if self.raw or layout.json is None:
            return layout.raw
        return layout.json

    def _gutter_width(self) -> int:
        count = len(self._lines())
        return len(f"{count:,}") + 3 if count else 0

    def _is_marked(self, index: int) -> bool:
        layout = self._layout
        if self.raw:
            return layout is not None and layout.error_at is not None and layout.error_at[0] == index
        return index == self._marked

    def _content(self, index: int) -> Content:
        """One body line as Content: coloured, with the error column and cut length shown."""
        layout = self._layout
        assert layout is not None
        if self.raw or layout.json is None:
            content = Content(layout.raw[index])
            cut = layout.raw_cut.get(index)
            if layout.error_at is not None and layout.error_at[0] == index:
                column = layout.error_at[1]
                if column < len(content):
                    content = content.stylize(self.get_visual_style("body-view--error", partial=True),
                                              column, column + 1)
                else:
                    content = content + Content("◂").stylize(
                        self.get_visual_style("body-view--error", partial=True))
        else:
            content = layout.colored[index] if index < len(layout.colored) else Content(layout.json[index])
            cut = layout.json_cut.get(index)
        if cut:
            content = content + Content(_more(cut)).stylize("italic $text-muted")
        return content

    def _strip(self, index: int, marked: bool) -> Strip:
        key = (self.raw, index, marked)
        strip = self._strips.get(key)
        if strip is None:
            base = self.get_visual_style("body-view--marked") if marked else self.get_visual_style()
            content = self._content(index)
            strip = Strip(content.render_segments(base), content.cell_length)
            self._strips[key] = strip
        return strip

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        normal = self.get_visual_style()
        banner = self._banner
        if y < len(banner):
            content = banner[y]
            strip = Strip(content.render_segments(normal), content.cell_length)
            return strip.crop_extend(0, width, normal.rich_style)
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y - len(banner)
        lines = self._lines()
        if not 0 <= index < len(lines):
            return Strip.blank(width, normal.rich_style)
        marked = self._is_marked(index)
        style = self.get_visual_style("body-view--marked") if marked else normal
        gutter_width = self._gutter_width()
        number = Content(f" {index + 1:>{gutter_width - 3},}{'▸' if marked else ' '} ")
        gutter_style = self.get_visual_style("body-view--gutter", *(("body-view--marked",) if marked else ()))
        gutter = Strip(number.render_segments(gutter_style), gutter_width)
        text = self._strip(index, marked).crop_extend(scroll_x, scroll_x + width - gutter_width,
                                                      style.rich_style)
        return Strip.join([gutter, text])

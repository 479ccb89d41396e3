"""The exchange list's column names, and how many new arrivals are out of view."""

from __future__ import annotations

from textual.strip import Strip
from textual.widget import Widget

from .exchange_list import ExchangeList


class ListHeader(Widget):
    """One line above the list, laid out by the list so the names sit over their columns."""

    DEFAULT_CSS = """
    ListHeader {
        height: 1;
        background: $panel;
        color: $text-muted;
        text-style: bold;
    }
    """

    def __init__(self, exchanges: ExchangeList, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.exchanges = exchanges
        exchanges.header = self

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y:
            return Strip.blank(width, self.rich_style)
        # The rows are as wide as the list's content: the scrollbar takes the rest.
        rows = self.exchanges.scrollable_content_region.width or width
        return self.exchanges.header_strip(rows).crop_extend(0, width, None).apply_style(self.rich_style)

"""The detail pane: everything about one exchange, one tab per concern.

Every widget here shows request data, which is untrusted, so they all turn it into
display text through `visible()` or `json_visible()` and build `Content` from plain
strings: no markup is parsed and no escape sequence reaches the terminal.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from textual.content import Content
from textual.widgets import Static

from ....core.model import Exchange
from ....core.text import inert

# Characters a terminal draws invisibly or that reorder or break a line: zero-width
# spaces, bidirectional controls, line and paragraph separators, the BOM.
_FORMAT = "\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"
_INVISIBLE = re.compile(f"[{_FORMAT}]")
_JSON_INVISIBLE = re.compile(f"[\x7f-\x9f{_FORMAT}]")


def _escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def visible(text: str, tab_size: int = 4) -> str:
    """Request text with every control and invisible character shown as an escape."""
    return _INVISIBLE.sub(_escaped, inert(text)).expandtabs(tab_size)


def json_visible(text: str) -> str:
    """JSON text (from json.dumps) with the characters JSON leaves raw written as \\uXXXX.

    The result is still valid JSON with the same value, so it can be highlighted as JSON.
    """
    return _JSON_INVISIBLE.sub(_escaped, text)


SEVERITY_STYLE = {
    "error": "bold $text-error",
    "warning": "bold $text-warning",
    "info": "bold $text-primary",
}
"""How each severity is coloured wherever a finding is shown."""


class DescribedView(Static):
    """A tab that is one block of text made from the selected exchange by `describe`."""

    DEFAULT_CSS = """
    DescribedView {
        height: auto;
        padding: 0 1;
    }
    """

    describe: Callable[[Exchange | None], Content]

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(Content("No exchange selected."), name=name, id=id, classes=classes)

    def show(self, exchange: Exchange | None) -> None:
        self.update(self.describe(exchange))

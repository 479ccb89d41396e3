"""Every finding of an exchange, worst first; choosing one shows where it is.

An OptionList draws only the lines on screen, so a batch with thousands of findings
stays cheap; each option is Content built from plain strings, never markup. Choosing
a finding posts `FindingsView.Jump` and the pane decides where to show it; each shows
the page of Segment's docs it comes from, and `l` opens that page in the browser.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ....core.checks import url_for
from ....core.model import SEVERITIES, Finding
from . import SEVERITY_STYLE, visible

MOST_SHOWN = 1_000
"""Findings listed at most; the tab title still counts them all."""

_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


def _prompt(finding: Finding) -> Content:
    where = [("  ", ""), (visible(finding.path), "$text-accent")] if finding.path else []
    event = [("  ", ""), (f"event {finding.event}", "italic")] if finding.event is not None else []
    url = url_for(finding.code)
    link = [("\n", ""), (url, "dim underline")] if url else []
    return Content.assemble(
        (f"{finding.severity:<9}", SEVERITY_STYLE.get(finding.severity, "bold")),
        (visible(finding.code), "bold"),
        *event,
        *where,
        "\n",
        visible(finding.message),
        *link,
    )


class FindingsView(OptionList):
    """The findings of one exchange; enter or a click on one posts Jump, `l` opens its page."""

    BINDINGS = [Binding("l", "open_link", "Open link", id="findings.open_link",
                        tooltip="Open the highlighted finding's page of Segment's docs in the browser")]

    DEFAULT_CSS = """
    FindingsView, FindingsView:focus {
        height: 1fr;
        border: none;
        & > .option-list--option { padding: 0 1; }
    }
    """

    class Jump(Message):
        """A finding was chosen: show the place in the request it is about."""

        def __init__(self, path: str, event_index: int | None) -> None:
            super().__init__()
            self.path = path
            """The finding's path: a JSON path such as `$.properties.price`, or `header:<Name>`."""
            self.event_index = event_index
            """The event in a batch the JSON path is relative to, or None."""

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._findings: list[Finding] = []

    @property
    def findings(self) -> list[Finding]:
        """The findings listed, in the order shown."""
        return self._findings

    def show(self, findings: list[Finding] | None) -> None:
        """List these findings, errors first; None or an empty list says there are none."""
        ordered = sorted(findings or (), key=lambda f: _RANK.get(f.severity, len(_RANK)))
        self._findings = ordered[:MOST_SHOWN]
        options: list[Option] = [Option(_prompt(finding), id=str(index))
                                 for index, finding in enumerate(self._findings)]
        if len(ordered) > MOST_SHOWN:
            options.append(Option(Content(f"… and {len(ordered) - MOST_SHOWN:,} more findings"),
                                  disabled=True))
        if not options:
            text = "No findings." if findings is not None else "No exchange selected."
            options.append(Option(Content(text), disabled=True))
        self.set_options(options)
        self.highlighted = 0 if self._findings else None

    def action_open_link(self) -> None:
        """Open the highlighted finding's page in the browser; a bell when there is none."""
        index = self.highlighted
        url = url_for(self._findings[index].code) if index is not None and index < len(self._findings) else ""
        if url:
            self.app.open_url(url)
            self.notify(url, title="Opened in the browser")
        else:
            self.app.bell()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is None:
            return
        finding = self._findings[int(event.option.id)]
        self.post_message(self.Jump(finding.path, finding.event))

"""The detail pane: the selected exchange, one tab per question a developer asks of it.

The pane owns the tabs and mediates between them: the views never touch each other,
so a finding chosen in the Findings tab comes up here as `FindingsView.Jump`, and the
pane switches to the Body (or Headers) tab and shows the place the finding is about.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static, TabbedContent, TabPane

from ....core.model import Exchange
from . import DescribedView
from .auth import AuthView
from .body import BodyView
from .destination import DestinationView
from .findings import FindingsView
from .headers import HEADER_PATH, HeadersView
from .pipeline import PipelineView
from .response import ResponseView

HINT = "Select an exchange to see its body, headers, auth, findings and our response."

BODY_TAB = "detail-body"
HEADERS_TAB = "detail-headers"
AUTH_TAB = "detail-auth"
FINDINGS_TAB = "detail-findings"
RESPONSE_TAB = "detail-response"
DESTINATION_TAB = "detail-destination"
PIPELINE_TAB = "detail-pipeline"


def findings_title(count: int) -> Content:
    """The Findings tab title; Content, so nothing in it is ever read as markup."""
    return Content(f"Findings ({count:,})")


class DetailPane(Vertical):
    """Tabs for the body, headers, auth, findings, response and forwarded answer of one exchange."""

    DEFAULT_CSS = """
    DetailPane {
        height: 1fr;
        & > #detail-hint { padding: 1 2; color: $text-muted; }
        & > #detail-id { height: 1; padding: 0 1; color: $text-muted; }
        & > TabbedContent { height: 1fr; }
        & TabPane { padding: 0; height: 1fr; }
        & .detail-scroll { height: 1fr; }
        & BodyView, & FindingsView { height: 1fr; }
    }
    """

    def __init__(self, *, short_id: Callable[[str], str] = str, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.short_id = short_id  # the id's shortest unambiguous prefix, for `show ID`
        self._exchange: Exchange | None = None
        self._filled: set[str] = set()

    @property
    def exchange(self) -> Exchange | None:
        """The exchange shown, if any."""
        return self._exchange

    def compose(self) -> ComposeResult:
        yield Static(Content(HINT), id="detail-hint")
        yield Static(Content(""), id="detail-id")
        with TabbedContent(id="detail-tabs", initial=BODY_TAB):
            with TabPane(Content("Body"), id=BODY_TAB):
                yield BodyView()
            with TabPane(Content("Headers"), id=HEADERS_TAB):
                with VerticalScroll(classes="detail-scroll"):
                    yield HeadersView()
            with TabPane(Content("Auth"), id=AUTH_TAB):
                with VerticalScroll(classes="detail-scroll"):
                    yield AuthView()
            with TabPane(findings_title(0), id=FINDINGS_TAB):
                yield FindingsView()
            with TabPane(Content("Response"), id=RESPONSE_TAB):
                with VerticalScroll(classes="detail-scroll"):
                    yield ResponseView()
            with TabPane(Content("Destination"), id=DESTINATION_TAB):
                with VerticalScroll(classes="detail-scroll"):
                    yield DestinationView()
            with TabPane(Content("Pipeline"), id=PIPELINE_TAB):
                with VerticalScroll(classes="detail-scroll"):
                    yield PipelineView()

    def on_mount(self) -> None:
        self.show(None)

    def show(self, exchange: Exchange | None) -> None:
        """Show this exchange; None shows a hint instead of the tabs.

        Only the open tab is filled now, the others when they are opened: moving
        through the list must stay quick while requests arrive.
        """
        self._exchange = exchange
        self._filled.clear()
        self.query_one("#detail-hint").display = exchange is None
        line = self.query_one("#detail-id", Static)
        line.display = exchange is not None
        if exchange is not None:
            short = self.short_id(exchange.id)
            line.update(Content.assemble("id ", (short, "bold $text"), " · i copies it (for show ID)"))
        tabs = self.query_one(TabbedContent)
        tabs.display = exchange is not None
        tabs.get_tab(FINDINGS_TAB).label = findings_title(len(exchange.findings) if exchange else 0)
        self._fill(tabs.active)

    def _fill(self, tab: str) -> None:
        if tab in self._filled:
            return
        self._filled.add(tab)
        exchange = self._exchange
        if tab == BODY_TAB:
            self.query_one(BodyView).show(exchange)
        elif tab == FINDINGS_TAB:
            self.query_one(FindingsView).show(exchange.findings if exchange is not None else None)
        else:
            views: dict[str, type[DescribedView | DestinationView]] = {
                HEADERS_TAB: HeadersView, AUTH_TAB: AuthView, RESPONSE_TAB: ResponseView,
                DESTINATION_TAB: DestinationView, PIPELINE_TAB: PipelineView}
            view = views.get(tab)
            if view is not None:
                self.query_one(view).show(exchange)

    def next_tab(self, step: int) -> None:
        """Open the tab `step` places after the open one, wrapping around."""
        tabs = self.query_one(TabbedContent)
        if not tabs.display:
            return
        panes = [pane.id for pane in tabs.query(TabPane) if pane.id]
        tabs.active = panes[(panes.index(tabs.active) + step) % len(panes)]

    def toggle_raw(self) -> None:
        """Open the Body tab and switch it between pretty JSON and the exact text received."""
        tabs = self.query_one(TabbedContent)
        if not tabs.display:
            return
        tabs.active = BODY_TAB
        self._fill(BODY_TAB)
        self.query_one(BodyView).action_toggle_raw()

    def on_tabbed_content_tab_activated(self, message: TabbedContent.TabActivated) -> None:
        if message.pane.id is not None:
            self._fill(message.pane.id)

    def on_findings_view_jump(self, message: FindingsView.Jump) -> None:
        message.stop()
        tabs = self.query_one(TabbedContent)
        if message.path.startswith(HEADER_PATH):
            tabs.active = HEADERS_TAB
            return
        tabs.active = BODY_TAB
        self._fill(BODY_TAB)
        body = self.query_one(BodyView)
        body.show_path(message.path, message.event_index)
        body.focus()

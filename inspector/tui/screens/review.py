"""Review: run Segment's partner-review checks against an endpoint, watch them, read the report.

The form asks for the URL, an API key and the call types not supported; the run screen
lists each check as it completes, and under it the request and answer of the selected
check's first failure, in the detail pane's tabs. Every request goes through the hub into
the running history (kind "review"), so the list and Event Delivery show them at once.
ctrl+s writes the Markdown report.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Input, Label, Static, TabbedContent

from ...core import values
from ...core.history import HistoryUnavailable
from ...core.history.files import write_atomic
from ...core.hub_api import HubAPI
from ...core.model import Exchange
from ...core.text import inert
from ...review.report import MARK, markdown, summary_line
from ...review.runner import CALL_TYPES, Check, ReviewOptions, ReviewReport, review
from ..widgets.detail.pane import DESTINATION_TAB, DetailPane
from . import Dialog

VERDICT_STYLE = {"pass": "bold green", "warn": "bold yellow", "fail": "bold red"}


@dataclass(frozen=True)
class ReviewChoice:
    url: str
    api_key: str
    unsupported: frozenset[str]


class ReviewScreen(Dialog[ReviewChoice]):
    """Asks which endpoint to review, with which key."""

    def __init__(self, url: str = "", api_key: str = "") -> None:
        super().__init__()
        self.url, self.api_key = url, api_key

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text("Review: check your endpoint against what Segment's partner review asks",
                              style="bold"))
            yield Label("Endpoint URL")
            yield Input(self.url, id="url", placeholder="https://api.example.com/segment")
            yield Label("API key your endpoint accepts")
            yield Input(self.api_key, id="key", password=True)
            yield Label("Call types not supported (answered 501), comma separated")
            yield Input("", id="unsupported", placeholder="alias, group")
            yield Static(id="problem")
            with Horizontal(id="buttons"):
                yield Button("Review", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def submit(self) -> None:
        url = self.query_one("#url", Input).value.strip()
        key = self.query_one("#key", Input).value
        types = {part.strip() for part in self.query_one("#unsupported", Input).value.split(",") if part.strip()}
        try:
            url = values.url(url)
            problem = ("an API key is needed: the review checks that a wrong one is refused" if not key
                       else f"not a call type: {', '.join(sorted(types - set(CALL_TYPES)))}"
                       if types - set(CALL_TYPES) else "")
        except ValueError as err:
            problem = f"URL: {err}"
        if problem:
            self.query_one("#problem", Static).update(Text(inert(problem), style="bold red"))
            return
        self.dismiss(ReviewChoice(url, key, frozenset(types)))


class ReviewRunScreen(ModalScreen[None]):
    """The checks as they complete; the selected one's first failure below; the report to save."""

    DEFAULT_CSS = """
    ReviewRunScreen #review {
        width: 96%; height: 94%; padding: 0 1; background: $surface; border: thick $primary;
        & #checks { height: 16; }
        & #review-detail { height: 1fr; }
    }
    """
    BINDINGS = [
        Binding("escape", "close", "Close", id="review.close"),
        Binding("ctrl+s", "save", "Save report", id="review.save", priority=True),
    ]

    def __init__(self, hub: HubAPI, choice: ReviewChoice) -> None:
        super().__init__()
        self.hub = hub
        self.choice = choice
        self.checks: list[Check] = []
        self.report: ReviewReport | None = None
        self.unkept = 0  # requests the history could not keep

    def compose(self) -> ComposeResult:
        with Vertical(id="review"):
            yield Static(Text(f"Review of {inert(self.choice.url)}", style="bold"))
            yield Static(Text("starting…", style="dim"), id="progress")
            table: DataTable[Text] = DataTable(id="checks", cursor_type="row", zebra_stripes=True)
            table.add_columns("Verdict", "Check", "What happened")
            yield table
            yield DetailPane(id="review-detail")
            yield Footer()

    def on_mount(self) -> None:
        self.query_one("#checks", DataTable).focus()
        self.run_review()

    @work(exclusive=True, group="review", exit_on_error=False)
    async def run_review(self) -> None:
        try:
            options = ReviewOptions(self.choice.url, self.choice.api_key, self.choice.unsupported)
            report = await review(options, keep=self.keep, on_check=self.add_check, on_progress=self.progress)
        except Exception as err:  # whatever stops it is said here, not left at "starting…"
            self.query_one("#progress", Static).update(
                Text(inert(f"the review stopped: {type(err).__name__}: {err}"), style="bold red"))
            self.notify(inert(f"the review stopped: {err}"), severity="error", markup=False, timeout=30)
            return
        report.session = self.hub.session
        self.report = report
        style = "bold red" if report.exit_code else "bold green"
        unkept = f"   {self.unkept} requests could not be kept" if self.unkept else ""
        if self.hub.attached:  # a viewer keeps no history: the inspector it is attached to keeps its own
            unkept = (f"   its {report.sent:,} requests are kept nowhere: this TUI is attached to "
                      f"{inert(self.hub.attached)} (`segment-inspector review` there keeps them)")
        self.query_one("#progress", Static).update(
            Text(inert(summary_line(report)) + unkept + "   ctrl+s saves the report", style=style))

    def keep(self, exchange: Exchange) -> None:
        """Through the hub: the list and Event Delivery show the review's requests as they go."""
        try:
            self.hub.record(exchange)
        except (HistoryUnavailable, OSError) as err:
            self.unkept += 1
            if self.unkept == 1:
                self.notify(f"the review's requests cannot be kept: {err}", severity="error", markup=False)

    def progress(self, label: str, done: int, total: int) -> None:
        self.query_one("#progress", Static).update(Text(f"{label}: {done}/{total}", style="dim"))

    def add_check(self, check: Check) -> None:
        self.checks.append(check)
        self.query_one("#checks", DataTable).add_row(
            Text(MARK[check.verdict], style=VERDICT_STYLE[check.verdict]), Text(check.title),
            Text(inert(check.detail)), key=str(len(self.checks) - 1))

    def on_data_table_row_highlighted(self, message: DataTable.RowHighlighted) -> None:
        if message.row_key.value is None:
            return
        check = self.checks[int(message.row_key.value)]
        pane = self.query_one(DetailPane)
        pane.show(check.exchanges[0] if check.exchanges else None)
        if check.exchanges:
            pane.query_one("#detail-tabs", TabbedContent).active = DESTINATION_TAB

    def action_save(self) -> None:
        if self.report is None:
            self.notify("the review is still running", severity="warning", markup=False)
            return
        name = "review-" + self.report.id + ".md"
        path = self.hub.data_dir / name
        try:
            write_atomic(path, markdown(self.report).encode())  # 0600, like the history it quotes
        except OSError as err:
            self.notify(f"cannot write {path}: {err.strerror or err}", severity="error", markup=False)
            return
        self.notify(f"report written to {path}", markup=False)

    def action_close(self) -> None:
        self.workers.cancel_group(self, "review")
        self.dismiss(None)

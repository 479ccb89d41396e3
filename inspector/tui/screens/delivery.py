"""Event Delivery: Segment's view of a destination, over what went through the inspector.

The counts, the timeline and latency of a window (a query, `since:24h` at first), the
errors grouped by status and message; enter on a group lists its exchanges, enter on
one of those closes the screen with its id, for the app to select it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Label, Static

from ...core.event_delivery import (
    BARS,
    DEFAULT_WINDOW,
    OUTCOMES,
    DeliveryReport,
    Group,
    hold_text,
    interval_text,
    ms,
    sparkline,
)
from ...core.hub_api import HubAPI, HubUnavailable
from ...core.query import Query, QueryError, parse
from ...core.text import inert

GROUP_ROWS_SHOWN = 500  # exchanges of a group listed


def totals_text(report: DeliveryReport) -> Text:
    text = Text()
    for outcome, style in zip(OUTCOMES, ("bold green", "bold yellow", "bold red"), strict=False):
        text.append(f"{report.counts[outcome]:,} {outcome}", style=style)
        text.append("   ")
    if report.total:
        text.append(f"{report.counts['delivered'] / report.total:.1%} delivered of {report.total:,}")
    if report.unanswered:
        text.append(f"; {report.unanswered} not answered yet")
    if report.blocked or report.omitted:
        text.append(f"\ntracking plan  {report.blocked:,} blocked", style="bold red")
        text.append(f"   {report.omitted:,} delivered with fields omitted", style="bold yellow")
    text.append(f"\nlatency  p50 {ms(report.percentile(50))}   p95 {ms(report.percentile(95))}   "
                f"p99 {ms(report.percentile(99))}")
    if report.holds:
        text.append(f"\nheld     {hold_text(report)}", style="italic")
    return text


def timeline_text(report: DeliveryReport) -> Text:
    text = Text()
    text.append("delivered      ")
    text.append(sparkline([bar.delivered for bar in report.bars]), style="green")
    text.append(f"   {interval_text(report.interval)} a bar, the last {BARS}\n")
    text.append("not delivered  ")
    text.append(sparkline([bar.failed for bar in report.bars]), style="red")
    return text


class DeliveryScreen(ModalScreen[str | None]):
    """Dismisses with the id of an exchange to select in the list, or None."""

    DEFAULT_CSS = """
    DeliveryScreen #delivery {
        width: 96%; height: 94%; padding: 0 1; background: $surface; border: thick $primary;
        & #window-row { height: 3; }
        & #window-row Label { padding: 1 1 0 0; }
        & #window { width: 1fr; margin: 0; }
        & #totals, & #timeline { height: auto; margin-bottom: 1; }
        & #groups { height: 1fr; min-height: 5; }
        & #group-exchanges { height: 1fr; min-height: 5; }
    }
    """
    BINDINGS = [
        Binding("escape", "close", "Close", id="delivery.close"),
        Binding("ctrl+r", "refresh", "Refresh", id="delivery.refresh"),
    ]

    def __init__(self, hub: HubAPI, window: str = DEFAULT_WINDOW, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.hub = hub
        self.window = window
        self.clock = clock
        self.report: DeliveryReport | None = None
        self.shown_group: int | None = None
        self.rows: list[Group] = []  # the error groups, and the tracking plan's calls

    def compose(self) -> ComposeResult:
        with Vertical(id="delivery"):
            yield Static(Text("Event Delivery: what Segment would show for the exchanges below", style="bold"))
            with Horizontal(id="window-row"):
                yield Label("Window")
                yield Input(self.window, id="window", placeholder=DEFAULT_WINDOW)
            yield Static(id="totals")
            yield Static(id="timeline")
            yield Static(Text("Errors by status and message: enter lists a group's exchanges", style="bold"))
            groups: DataTable[Text] = DataTable(id="groups", cursor_type="row", zebra_stripes=True)
            groups.add_columns("Count", "Outcome", "Status", "Message")
            yield groups
            yield Static(Text("select an error group", style="dim"), id="group-title")
            exchanges: DataTable[Text] = DataTable(id="group-exchanges", cursor_type="row", zebra_stripes=True)
            exchanges.add_columns("Time", "Type", "Event", "Status", "Latency", "Id")
            yield exchanges
            yield Footer()

    def on_mount(self) -> None:
        self.action_refresh()
        self.query_one("#groups", DataTable).focus()

    def on_input_submitted(self, message: Input.Submitted) -> None:
        message.stop()
        self.window = message.value.strip()
        self.action_refresh()
        self.query_one("#groups", DataTable).focus()

    def action_refresh(self) -> None:
        try:
            query = parse(self.window, now=self.clock)
        except QueryError as err:
            self.query_one("#totals", Static).update(Text(f"query error: {inert(err.message)} at position "
                                                          f"{err.position}", style="bold red"))
            return
        self.query_one("#totals", Static).update(Text("counting…", style="dim"))
        self._count(query)

    @work(thread=True, exclusive=True, group="delivery")
    def _count(self, query: Query) -> None:
        """Read the window's exchanges off the UI thread: a long window holds many."""
        try:
            report = self.hub.delivery(query, self.clock())
        except HubUnavailable as err:
            self.app.call_from_thread(self.query_one("#totals", Static).update,
                                      Text(inert(f"not now: {err}"), style="bold red"))
            return
        self.app.call_from_thread(self._show, report)

    def _show(self, report: DeliveryReport) -> None:
        self.report = report
        self.query_one("#totals", Static).update(totals_text(report))
        self.query_one("#timeline", Static).update(timeline_text(report))
        groups = self.query_one("#groups", DataTable)
        groups.clear()
        self.rows = list(report.groups)
        if report.plan_ids:  # the source calls whose events the plan blocked or cut
            self.rows.append(Group(None, "blocked or omitted by the tracking plan", None, "plan", report.plan_ids))
        for index, group in enumerate(self.rows):
            said = str(group.status) if group.status is not None else inert(group.error or "no answer")
            groups.add_row(Text(f"{len(group.ids):,}"), Text(group.outcome), Text(said),
                           Text(inert(group.message or "")), key=str(index))
        self.shown_group = None
        self.query_one("#group-exchanges", DataTable).clear()

    def on_data_table_row_selected(self, message: DataTable.RowSelected) -> None:
        message.stop()
        if message.data_table.id == "groups" and message.row_key.value is not None:
            self.open_group(int(message.row_key.value))
        elif message.data_table.id == "group-exchanges" and message.row_key.value is not None:
            self.dismiss(message.row_key.value)

    def open_group(self, index: int) -> None:
        """List the exchanges of an error group, newest first."""
        group = self.rows[index]
        self.shown_group = index
        table = self.query_one("#group-exchanges", DataTable)
        table.clear()
        for exchange_id in group.ids[:GROUP_ROWS_SHOWN]:
            try:
                exchange = self.hub.get(exchange_id)
            except HubUnavailable as err:
                self.notify(inert(f"not now: {err}"), severity="warning", markup=False)
                break
            if exchange is None:
                continue
            first = exchange.events[0] if exchange.events else None
            destination = exchange.destination
            status = destination.status if destination is not None else (
                exchange.answer.status if exchange.answer else None)
            seconds = destination.duration if destination is not None else exchange.duration
            table.add_row(Text(time.strftime("%H:%M:%S", time.localtime(exchange.time))),
                          Text(inert(first.type or "") if first else ""),
                          Text(inert(first.event or "") if first else ""),
                          Text("-" if status is None else str(status)), Text(ms(seconds if status else None)),
                          Text(exchange.id), key=exchange.id)
        more = f" (the newest {GROUP_ROWS_SHOWN})" if len(group.ids) > GROUP_ROWS_SHOWN else ""
        self.query_one("#group-title", Static).update(Text(
            f"{len(group.ids):,} exchange{'s' * (len(group.ids) != 1)} "
            f"{'' if group.outcome == 'plan' else 'answered '}{inert(group.label)}{more}: "
            "enter selects one in the list",
            style="bold"))
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)

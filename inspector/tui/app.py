"""The TUI: watch Segment's requests arrive and answer them from the keyboard.

The app owns the receiver (started on its own event loop in on_mount, stopped in
on_unmount) and talks to the core only through the hub. It mediates: widgets get
attributes and calls, and their messages come up to it. Its keys are in `keys`, the
batching of what the hub says in `notices`, the palette in `commands`.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from textual import events, work
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.notifications import Notification, Notify
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import Footer, Input, TextArea

from ..core.exporters import DEFAULT_BASE_URL
from ..core.exporters.curl import curl_command
from ..core.hub import Notice
from ..core.hub_api import HubAPI, HubUnavailable
from ..core.model import Exchange, Summary
from ..core.query import Query
from ..core.text import inert
from ..listeners import Listeners
from ..local_segment.trace import jump_target
from ..replay import replay_exchanges
from .answering import AnsweringApp
from .commands import InspectorCommands
from .keys import (
    APP_BINDINGS,
    checked_keymap as checked_keymap,  # the command line checks [keys] before it starts the app
    help_sections,
)
from .notices import Batches, Tally
from .screens import Dialog
from .screens.confirm import ConfirmScreen
from .screens.delivery import DeliveryScreen
from .screens.export import ExportChoice, ExportScreen, write_choice
from .screens.help import HelpScreen
from .screens.replay import ReplayChoice, ReplayResultScreen, ReplayScreen
from .screens.review import ReviewChoice, ReviewRunScreen, ReviewScreen
from .screens.tester import EventTesterScreen
from .widgets.detail.pane import DetailPane
from .widgets.exchange_columns import LEGEND
from .widgets.exchange_list import WAITING, ExchangeList
from .widgets.header import HeaderState, InspectorHeader, tunnel_note
from .widgets.list_header import ListHeader
from .widgets.search_bar import SearchBar

# How often, at most, the header re-reads the history's size on disk (it lists its files).
DISK_EVERY = 10.0
WIDE = 140


class InspectorApp(AnsweringApp):
    CSS_PATH = "app.tcss"
    TITLE = "segment-inspector"
    COMMANDS = App.COMMANDS | {InspectorCommands}
    # Narrower than this, the list sits above the detail pane instead of beside it.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    BINDINGS = APP_BINDINGS

    def __init__(self, hub: HubAPI, *, receiver: Listeners | None = None, local_url: str = "",
                 keymap: dict[str, str] | None = None, clock: Callable[[], float] = time.time,
                 theme: str | None = None, remember_theme: Callable[[str], None] | None = None) -> None:
        super().__init__()
        self.chosen_theme = theme
        self.remember_theme = remember_theme  # writes the theme the user picks to the config file
        self.hub = hub
        self.receiver = receiver
        self.local_url = local_url
        self.keymap = dict(keymap or {})
        self.clock = clock
        self.filter: Query | None = None
        self.searching = False  # a search of the history is under way
        self.history_trouble: str | None = None
        self.history_disk = 0
        self._weighed = 0.0
        self.tally = Tally()
        self.notes: tuple[str, ...] = ()
        self.replay_url = ""
        self.tester_target: tuple[str, str] | None = None
        self.notices = Batches(self, self._apply_notices)
        self._unsubscribe: Callable[[], None] | None = None
        self._said: Notification | None = None

    def compose(self) -> ComposeResult:
        yield InspectorHeader(id="header")
        yield SearchBar(id="search")
        exchanges = ExchangeList(id="exchanges", clock=self.clock)
        with Horizontal(id="main"):
            with Vertical(id="list-pane"):
                yield ListHeader(exchanges, id="columns")
                yield exchanges
            yield DetailPane(id="detail", short_id=self.hub.short_id)
        yield Footer()

    async def on_mount(self) -> None:
        if self.keymap:
            self.set_keymap(self.keymap)
        if self.chosen_theme in self.available_themes:
            self.theme = self.chosen_theme
        elif self.chosen_theme:
            self.notify(f"no theme {self.chosen_theme!r} (config file): ctrl+p, Change theme, lists them",
                        severity="warning", markup=False)
        self.theme_changed_signal.subscribe(self, self._keep_theme)
        self.screen_change_signal.subscribe(self, self._screen_changed)
        self._unsubscribe = self.hub.subscribe(self.notices.put)
        exchanges = self.query_one(ExchangeList)
        exchanges.marked = self.hub.marks
        exchanges.set_rows(self.hub.rows())
        exchanges.focus()
        if self.receiver is not None:
            try:
                self.local_url = await self.receiver.start()
            except OSError as err:  # as serve does: say why and stop, exit code 3
                self.exit(return_code=3, message=f"segment-inspector: cannot listen on {self.receiver.host}:"
                                                 f"{self.receiver.port}: {err.strerror or err}")
                return
            for note in self.receiver.notes:
                self.notify(inert(note), severity="warning", markup=False, timeout=30)
        if self.local_url:
            self.hub.set_local_url(self.local_url)
        for problem in self.hub.problems:
            self.notify(inert(problem), severity="warning", markup=False, timeout=30)
        self._weigh_history()
        self._show_header()
        gc.freeze()  # the history and the widgets live as long as the app: keep GC passes short

    async def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self.receiver is not None:
            await self.receiver.stop()

    def _keep_theme(self, theme: Theme) -> None:
        if self.remember_theme is None or theme.name == self.chosen_theme:
            return
        self.chosen_theme = theme.name
        try:
            self.remember_theme(theme.name)
        except (OSError, ValueError) as err:
            self.notify(f"the theme is not saved: {err}", severity="warning", markup=False)

    # -- applying what the hub says ---------------------------------------------------

    def _apply_notices(self, notices: list[Notice]) -> None:
        if not self.query(ExchangeList):
            return  # closing: the main screen is gone
        if any(notice.kind == "history" for notice in notices):
            self._history_said()
        if self.hub.attached and any(notice.kind == "urls" for notice in notices):
            self._search(self.filter)  # the inspector attached to restarted, or more was missed than it keeps
        summaries = self.tally.take(notices)
        exchanges = self.query_one(ExchangeList)
        if summaries and self.filter is not None and self.filter.free_text and self.hub.attached:
            self._search(self.filter)  # words in bodies: the server searches them
            summaries = []
        if summaries:
            if self.filter is not None:
                summaries = [s for s in summaries if self._matches(self.filter, s, notices)]
            # The list says when the selected row arrived or was replaced: the detail follows that.
            exchanges.add(summaries)
        exchanges.set_held({exchange.id: deadline for exchange, deadline in self.hub.held()})
        if notices:
            if time.monotonic() - self._weighed >= DISK_EVERY:
                self._weigh_history()
            self._show_header()

    @staticmethod
    def _matches(query: Query, summary: Summary, notices: list[Notice]) -> bool:
        """The filter as the history's search applies it: words are looked for in the body too,
        which an arrival's summary does not carry, its exchange does."""
        if not query.free_text:
            return query.matches(summary)
        exchange = next((n.exchange for n in notices if n.exchange is not None and n.exchange.id == summary.id), None)
        return query.matches(exchange.summary() if exchange is not None else summary)

    def say(self, text: str) -> None:
        """Tell what a key just did in one toast, replaced by the next: pressing answer keys
        in a row leaves one toast, not a pile of them."""
        self.hush()
        self._said = Notification(text, "", "information", self.NOTIFICATION_TIMEOUT, markup=False)
        self.post_message(Notify(self._said))

    def hush(self) -> None:
        """Take the toast `say` left down, if it is still up."""
        if self._said is not None and self._said in self._notifications:
            self._unnotify(self._said)
        self._said = None

    def _screen_changed(self, screen: Screen[Any]) -> None:
        """A screen opens over nothing of ours: the last toast would cover its fields."""
        if screen is not self.screen_stack[0]:
            self.hush()

    def _history_said(self) -> None:
        """Say once that requests are answered 503 (the history cannot keep them), and once
        that it can again; the header keeps the reason while it lasts."""
        trouble = self.hub.history_trouble()
        if trouble == self.history_trouble:
            return
        if trouble is not None:
            self.notify(inert(trouble), severity="error", markup=False, timeout=30)
        else:
            self.notify("the history is writable again: requests are answered and kept", markup=False)
        self.history_trouble = trouble

    def _weigh_history(self) -> None:
        """Read the history's size on disk: at start, then with arrivals, at most every DISK_EVERY s."""
        self.history_disk = self.hub.history_size()
        self._weighed = time.monotonic()

    def _show_header(self) -> None:
        headers = self.screen_stack[0].query(InspectorHeader) if self.screen_stack else None
        if not headers:
            return  # closing (a start that was still listening when the app was told to stop)
        hold = self.hub.holding
        if hold is None:
            hold_text = "off"
        else:
            hold_text = "on" + (f" for {hold.query.text}" if hold.query is not None else "")
            if hold.count is not None:  # H N: the next N are held, then new requests are answered again
                hold_text = f"{hold_text} (next {hold.count})" if hold.count > 0 \
                    else "off (the ones asked for were held)"
        public = self.hub.public_urls[0] if self.hub.public_urls else None
        headers.first().show(HeaderState(  # without a public URL the header says why
            local_url=self.local_url or self.hub.local_url, attached=self.hub.attached, public_url=public,
            tunnel_note=tunnel_note(self.hub.tunnel),
            answer=inert(self.hub.answering()),
            rules=sum(rule.enabled for rule in self.hub.rules), hold=hold_text, received=self.tally.received,
            held=len(self.hub.held()), errors=self.tally.with_errors, history=self.hub.stored(),
            disk=self.history_disk, filter=self.filter.text if self.filter is not None else "",
            searching=self.searching, notes=self.notes + ((self.history_trouble,) if self.history_trouble else ())))

    def on_key(self, event: events.Key) -> None:
        """Keys typed in one burst (`r429`) all go to the main screen's focus before `r`
        opens its dialog; those left over land here and are handed to the dialog."""
        screen = self.screen
        if (event.is_printable and isinstance(screen, Dialog)
                and (screen.focused is None or isinstance(screen.focused, (Input, TextArea)))):
            screen.take_key(event)

    def _exchange(self, summary: Summary | None) -> Exchange | None:
        """The exchange of a row: the one the detail shows if it is that one, else read."""
        if summary is None:
            return None
        shown = self.query_one(DetailPane).exchange
        if shown is not None and shown.id == summary.id:
            return shown
        try:
            return self.hub.get(summary.id)
        except HubUnavailable as err:
            self._unavailable(err)
            return None

    def on_exchange_list_selected(self, message: ExchangeList.Selected) -> None:
        self._load_detail(message.summary)

    @work(thread=True, exclusive=True, group="detail")
    def _load_detail(self, summary: Summary | None) -> None:
        """Off the event loop: an exchange's body may be megabytes on disk, or on another inspector."""
        try:
            exchange = self.hub.get(summary.id) if summary is not None and summary.id else None
        except HubUnavailable as err:
            self.call_from_thread(self._unavailable, err)
            return
        self.call_from_thread(self._show_detail, summary, exchange)

    def _show_detail(self, summary: Summary | None, exchange: Exchange | None) -> None:
        selected = self.query_one(ExchangeList).selected
        if (selected.id if selected else None) == (summary.id if summary else None):  # not moved on meanwhile
            self.query_one(DetailPane).show(exchange)

    # -- search -----------------------------------------------------------------------

    def on_search_bar_changed(self, message: SearchBar.Changed) -> None:
        self.filter = message.query
        self.query_one(ExchangeList).empty_text = (
            f"no request matches {message.query.text}" if message.query is not None else WAITING)
        self.searching = True
        self._search(message.query)
        self._show_header()

    @work(thread=True, exclusive=True, group="search")
    def _search(self, query: Query | None) -> None:
        """Off the event loop: free text reads the history's files."""
        try:
            found = self.hub.rows(query)
        except HubUnavailable as err:
            self.call_from_thread(self._unavailable, err)
            return
        self.call_from_thread(self._searched, query, found)

    def _unavailable(self, err: HubUnavailable) -> None:
        self.searching = False
        self.notify(inert(f"not now: {err}"), severity="warning", markup=False)
        self._show_header()

    def _searched(self, query: Query | None, found: Sequence[Summary]) -> None:
        if query is not self.filter:
            return  # a newer search is under way
        self.query_one(ExchangeList).set_rows(found)
        self.searching = False
        self._show_header()

    def action_search(self) -> None:
        self.query_one("#search-input", Input).focus()

    # -- the rest ---------------------------------------------------------------------

    def action_maximize(self) -> None:
        """Show only the pane with the focus, or both again."""
        screen = self.screen
        if screen.has_class("-list-only") or screen.has_class("-detail-only"):
            screen.remove_class("-list-only", "-detail-only")
            return
        detail = self.query_one(DetailPane)
        focused = self.focused
        in_detail = focused is not None and detail in focused.ancestors_with_self
        screen.add_class("-detail-only" if in_detail else "-list-only")
        if not in_detail:
            self.query_one(ExchangeList).focus()

    def action_next_tab(self, step: int) -> None:
        self.query_one(DetailPane).next_tab(step)

    def action_toggle_raw(self) -> None:
        self.query_one(DetailPane).toggle_raw()

    def action_toggle_order(self) -> None:
        self.query_one(ExchangeList).action_toggle_order()

    def _copy(self, text: str, what: str) -> None:
        self.copy_to_clipboard(text)
        self.say(f"copied {what}")

    def action_copy_body(self) -> None:
        exchange = self._exchange(self.query_one(ExchangeList).selected)
        if exchange is not None:
            self._copy(exchange.body.decode("utf-8", "replace"), "the body")

    def action_copy_curl(self) -> None:
        exchange = self._exchange(self.query_one(ExchangeList).selected)
        if exchange is not None:
            self._copy(curl_command(exchange, self.hub.receiving_url() or DEFAULT_BASE_URL), "a curl command")

    def action_copy_id(self) -> None:
        selected = self.query_one(ExchangeList).selected
        if selected is not None:
            short = self.hub.short_id(selected.id)
            self._copy(short, f"the id {short}")

    def action_copy_url(self) -> None:
        """Copy the URL to give Segment; without a public one the toast says why, which the header may cut."""
        url = self.hub.receiving_url()
        if url:
            self._copy(url, url if self.hub.public_urls else f"{url} (no public URL: {tunnel_note(self.hub.tunnel)})")

    def attach_command(self) -> str:
        """How a teammate's TUI attaches to this inspector; "" without a control API."""
        return self.receiver.attach_command() if self.receiver is not None else ""

    def action_copy_attach(self) -> None:
        command = self.attach_command()
        if command:
            self._copy(command, command)
        else:
            self.say("no control API here (--no-control, its port taken, or this TUI is attached itself)")

    def action_export(self) -> None:
        exchanges = self.query_one(ExchangeList)
        counts = {"selected": int(exchanges.selected is not None), "marked": len(exchanges.marked),
                  "filtered": exchanges.row_count}
        def chosen(choice: ExportChoice | None) -> None:
            if choice is not None:
                self._export(choice)

        self.push_screen(ExportScreen(counts), chosen)

    @work(thread=True, group="export")
    def _export(self, choice: ExportChoice) -> None:
        """Gather, export and write off the event loop: a filtered export can be large."""
        exchanges = self.query_one(ExchangeList)
        if choice.scope == "selected":
            ids = [exchanges.selected.id] if exchanges.selected else []
        elif choice.scope == "marked":
            ids = list(exchanges.marked)
        else:
            ids = [summary.id for summary in self.hub.search(self.filter, newest_first=False)]
        found = [exchange for exchange in map(self.hub.get, ids) if exchange is not None]
        try:
            said, keys = write_choice(choice, found, self.hub.receiving_url() or DEFAULT_BASE_URL)
        except (OSError, ValueError) as err:
            self.call_from_thread(self.notify, f"export failed: {err}", severity="error", markup=False)
            return
        self.call_from_thread(self.notify, said, severity="warning" if keys else "information", markup=False)

    @work(thread=True, group="plan")
    def action_plan_from_list(self) -> None:
        """Infer a tracking plan from what the list shows, keep it in the data directory, and
        check every event that arrives from now on against it."""
        from ..core.plans import Checking, infer, samples_of

        found = (self.hub.get(s.id) for s in self.hub.search(self.filter, newest_first=False))
        inferred = infer(samples_of(exchange for exchange in found if exchange is not None))
        if not inferred.samples:
            self.call_from_thread(self.say, "no track, identify or group event in the list: no plan made")
            return
        path = self.hub.data_dir / "plans" / time.strftime("inferred-%Y%m%d-%H%M%S.json")
        try:
            self.hub.check_with(Checking(inferred.plan))
            path.parent.mkdir(mode=0o700, exist_ok=True)
            path.write_bytes(orjson.dumps(inferred.plan.to_public_api(), option=orjson.OPT_INDENT_2))
        except (HubUnavailable, OSError) as err:
            self.call_from_thread(self.say, f"no plan: {err}")
            return
        rules = len(inferred.plan.rules)
        self.call_from_thread(self.say, f"checking arriving events against {rules} rule{'s' * (rules != 1)} "
                              f"inferred from {inferred.samples} events ({len(inferred.disagreements)} "
                              f"disagreements: plan infer lists them); kept in {path}")

    def action_replay(self) -> None:
        exchange = self._exchange(self.query_one(ExchangeList).selected)
        if exchange is None:
            self.notify("select a request first", severity="warning", markup=False)
            return

        def chosen(choice: ReplayChoice | None) -> None:
            if choice is not None:
                self.replay_url = choice.url
                self._replay(exchange, choice)

        self.push_screen(ReplayScreen(self.replay_url), chosen)

    @work(group="replay")
    async def _replay(self, exchange: Exchange, choice: ReplayChoice) -> None:
        report = await replay_exchanges([exchange], choice.url, api_key=choice.api_key)
        self.push_screen(ReplayResultScreen(exchange, report))

    def action_tester(self) -> None:
        selected = self._exchange(self.query_one(ExchangeList).selected)
        url, key = self.tester_target or (self.local_url, min(self.hub.api_keys, default="segment"))
        self.push_screen(EventTesterScreen(url, key, selected.body if selected is not None else None,
                                           now=self.clock()), self._keep_tester_target)

    def _keep_tester_target(self, target: tuple[str, str] | None) -> None:
        self.tester_target = target

    def action_jump(self) -> None:
        """From a delivery to its source call; from a source call to its first delivery."""
        exchange = self._exchange(self.query_one(ExchangeList).selected)
        target = jump_target(exchange, self.hub.deliveries) if exchange is not None else None
        if target is None or not self.query_one(ExchangeList).select(target):
            self.notify("no linked source call or delivery", severity="warning", markup=False)
    def action_delivery(self) -> None:
        self.push_screen(DeliveryScreen(self.hub, clock=self.clock),
                         lambda chosen: self._select_delivered(chosen) if chosen else None)

    def _select_delivered(self, exchange_id: str) -> None:
        if not self.query_one(ExchangeList).select(exchange_id):
            self.notify(f"{exchange_id} is not in the list: clear the search to see it", markup=False)

    def action_review(self) -> None:
        def chosen(choice: ReviewChoice | None) -> None:
            if choice is not None:
                self.push_screen(ReviewRunScreen(self.hub, choice))

        self.push_screen(ReviewScreen(self.replay_url), chosen)

    async def action_quit(self) -> None:
        """Quit; with requests held, ask first: quitting answers them with the default."""
        held = len(self.hub.held())
        if not held:
            self.exit()
            return
        question = (f"{held} held request{'s' if held != 1 else ''} would be answered "
                    f"{self.hub.answering()} on quitting. Quit?")
        def answered(sure: bool | None) -> None:
            if sure:
                self.exit()

        self.push_screen(ConfirmScreen(question, "Quit"), answered)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(help_sections(self.keymap, self.get_key_display), LEGEND,
                                    attach=self.attach_command()))

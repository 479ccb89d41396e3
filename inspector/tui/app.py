"""The TUI: watch Segment's requests arrive and answer them from the keyboard.

The app owns the receiver (started on its own event loop in on_mount, stopped in
on_unmount) and talks to the core only through the hub. The first hub notice after a
quiet spell wakes the app at once, so a single request shows without delay; notices
that follow within THROTTLE are merged, so a burst costs the screen one update, not
one per request.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from textual import events, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.notifications import Notification, Notify
from textual.theme import Theme
from textual.widgets import Footer, Input, TextArea

from ..core.exporters import DEFAULT_BASE_URL, ExportOptions, export
from ..core.exporters.curl import curl_command
from ..core.exporters.output import write_export
from ..core.hub import Hub, Notice
from ..core.model import Exchange, Summary
from ..core.policy import Forward, Reply, Rule, reason
from ..core.query import Query, parse
from ..core.text import inert
from ..listeners import Listeners
from ..local_segment.trace import jump_target
from ..replay import replay_exchanges
from .commands import InspectorCommands
from .keys import keymap
from .screens import Dialog
from .screens.confirm import ConfirmScreen
from .screens.delivery import DeliveryScreen
from .screens.export import ExportChoice, ExportScreen
from .screens.forward import OFF, ForwardScreen
from .screens.help import HelpScreen
from .screens.hold import HoldChoice, HoldScreen
from .screens.replay import ReplayChoice, ReplayResultScreen, ReplayScreen
from .screens.response import ResponseScreen
from .screens.review import ReviewChoice, ReviewRunScreen, ReviewScreen
from .screens.rules import RulesScreen
from .screens.tester import EventTesterScreen
from .widgets.detail.body import BodyView
from .widgets.detail.findings import FindingsView
from .widgets.detail.pane import DetailPane
from .widgets.exchange_list import LEGEND, WAITING, ExchangeList
from .widgets.header import HeaderState, InspectorHeader
from .widgets.list_header import ListHeader
from .widgets.search_bar import SearchBar

# One key per status Segment documents. Shown in help; remappable by binding id.
ANSWER_KEYS = {"2": 200, "3": 202, "4": 400, "5": 401, "6": 403, "7": 429, "0": 500, "9": 501, "8": 503}
THROTTLE = 0.25
"""After applying notices, the app waits this long before applying the next ones."""
# How often, at most, the header re-reads the history's size on disk (it lists its files).
DISK_EVERY = 10.0
WIDE = 140


def _answer_bindings() -> list[Binding]:
    shown = {200, 500}
    return [Binding(key, f"answer({status})", f"{status}", show=status in shown,
                    id=f"answer.{status}", tooltip=f"answer {status} {reason(status)}")
            for key, status in ANSWER_KEYS.items()]


def quoted(value: str) -> str:
    """A value as the query language reads it, quoted with \\ and \" escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class InspectorApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "segment-inspector"
    COMMANDS = App.COMMANDS | {InspectorCommands}
    # Narrower than this, the list sits above the detail pane instead of beside it.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    BINDINGS = [
        *_answer_bindings(),
        Binding("r", "custom_answer", "Answer…", id="answer.custom"),
        Binding("A", "release_all", "Answer all held", show=False, id="answer.all_held"),
        Binding("h", "toggle_hold", "Hold", id="hold.toggle"),
        Binding("H", "hold_matching", "Hold matching…", show=False, id="hold.matching"),
        Binding("R", "rules", "Rules", show=False, id="rules.open"),
        Binding("f", "forward", "Forward…", show=False, id="forward.set",
                tooltip="forward requests to your endpoint (or mirror them); empty URL stops"),
        Binding("F", "forward_held", "Forward held", show=False, id="forward.held",
                tooltip="answer the selected held request with what your endpoint answers"),
        Binding("x", "rule_from_selected", "Rule from this", show=False, id="rules.from_selected"),
        Binding("slash", "search", "Search", id="search.focus"),
        Binding("c", "copy_body", "Copy body", show=False, id="copy.body"),
        Binding("C", "copy_curl", "Copy curl", show=False, id="copy.curl"),
        Binding("y", "copy_url", "Copy URL", show=False, id="copy.url"),
        Binding("i", "copy_id", "Copy id", show=False, id="copy.id",
                tooltip="copy the selected exchange's id, for segment-inspector show ID"),
        Binding("e", "export", "Export", show=False, id="export.open",
                tooltip="export the selected, marked (m) or filtered exchanges as test fixtures"),
        Binding("p", "replay", "Replay", show=False, id="replay.selected",
                tooltip="send the selected request again to a URL and compare the answers"),
        Binding("t", "tester", "Tester", show=False, id="tester.open",
                tooltip="send one event, as Segment would, to our receiver or any URL"),
        Binding("z", "maximize", "Maximize", id="pane.maximize",
                tooltip="show only the focused pane (list or detail); z again shows both"),
        Binding("right_square_bracket", "next_tab(1)", "Next tab", show=False, id="detail.next_tab",
                tooltip="show the detail pane's next tab (Body, Headers, Auth, Findings, …)"),
        Binding("left_square_bracket", "next_tab(-1)", "Previous tab", show=False,
                id="detail.previous_tab", tooltip="show the detail pane's previous tab"),
        *[Binding(b.key, "toggle_raw", b.description, show=False, id=b.id, tooltip=b.tooltip)
          for b in BodyView.BINDINGS if isinstance(b, Binding)],  # from the list too, with the body view's key and id
        Binding("g", "jump", "Go to source/delivery", show=False, id="pipeline.jump"),
        Binding("D", "delivery", "Delivery", show=False, id="delivery.open",
                tooltip="Event Delivery: delivered, retried, dropped, errors by message, latency"),
        Binding("question_mark,f1", "help", "Help", id="help"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(self, hub: Hub, *, receiver: Listeners | None = None, local_url: str = "",
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
        self.received = 0
        self.with_errors = 0
        self.notes: tuple[str, ...] = ()
        self.replay_url = ""
        self.tester_target: tuple[str, str] | None = None
        self._pending: list[Notice] = []
        self._waking = False  # a wake-up is posted or the throttle runs: notices just queue
        self._unsubscribe: Callable[[], None] | None = None
        self._said: Notification | None = None

    class NoticesPending(Message):
        """The hub said something while the app was quiet: apply it now."""

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
        self._unsubscribe = self.hub.subscribe(self._queue)
        exchanges = self.query_one(ExchangeList)
        exchanges.set_rows(self.hub.rows())
        exchanges.focus()
        if self.receiver is not None:
            try:
                self.local_url = await self.receiver.start()
            except OSError as err:
                self.notes = (f"cannot listen on {self.receiver.host}:{self.receiver.port}: "
                              f"{err.strerror or err}",)
                self.notify(self.notes[0], severity="error", markup=False, timeout=30)
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

    def _queue(self, notice: Notice) -> None:
        """Called by the hub, on this app's event loop. An arrival shows once it is held
        or recorded: waking for it would only start the throttle before those come."""
        if notice.kind == "arrived":
            return
        self._pending.append(notice)
        if not self._waking:
            self._waking = self.post_message(self.NoticesPending())

    def on_inspector_app_notices_pending(self) -> None:
        self._apply_notices()
        self.set_timer(THROTTLE, self._end_throttle)

    def _end_throttle(self) -> None:
        """Apply what came during the throttle, and throttle again; else go quiet."""
        if self._pending:
            self._apply_notices()
            self.set_timer(THROTTLE, self._end_throttle)
        else:
            self._waking = False

    def _apply_notices(self) -> None:
        if not self.query(ExchangeList):
            return  # closing: the main screen is gone
        notices, self._pending = self._pending, []
        changed: dict[str, Summary] = {}
        for notice in notices:
            exchange = notice.exchange
            if notice.kind == "history":
                self._history_said()
            if exchange is None:
                continue
            if notice.kind == "recorded" and notice.summary is not None:
                self.received += 1
                if "error" in notice.summary.severities:
                    self.with_errors += 1
                changed[exchange.id] = notice.summary
            elif notice.kind == "held":
                changed[exchange.id] = exchange.summary()
        exchanges = self.query_one(ExchangeList)
        if changed:
            summaries = list(changed.values())
            if self.filter is not None:
                summaries = [s for s in summaries if self.filter.matches(s)]
            # The list says when the selected row arrived or was replaced: the detail follows that.
            exchanges.add(summaries)
        exchanges.set_held({exchange.id: deadline for exchange, deadline in self.hub.held()})
        if notices:
            if time.monotonic() - self._weighed >= DISK_EVERY:
                self._weigh_history()
            self._show_header()

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

    def push_screen(self, screen, *args, **kwargs):
        """A screen opens over nothing of ours: the last toast would cover its fields."""
        self.hush()
        return super().push_screen(screen, *args, **kwargs)

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
        hold = self.hub.holding
        if hold is None:
            hold_text = "off"
        else:
            hold_text = "on" + (f" for {hold.query.text}" if hold.query is not None else "")
            if hold.count is not None:
                hold_text += f" (next {hold.count})"
        public = self.hub.public_urls[0] if self.hub.public_urls else None
        # Without a public URL the header says why (no tunnel, or the tunnel's own state).
        tunnel = self.hub.tunnel
        why = {"tunnel_note": tunnel.note} if tunnel is not None and tunnel.note else {}
        self.query_one(InspectorHeader).show(HeaderState(
            local_url=self.local_url, public_url=public, **why, answer=inert(self.hub.answering()),
            rules=sum(rule.enabled for rule in self.hub.rules), hold=hold_text, received=self.received,
            held=len(self.hub.held()), errors=self.with_errors, history=self.hub.stored(),
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
        return self.hub.get(summary.id) if summary is not None else None

    def on_exchange_list_selected(self, message: ExchangeList.Selected) -> None:
        self.query_one(DetailPane).show(self._exchange(message.summary))

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
        found = self.hub.rows(query)
        self.call_from_thread(self._searched, query, found)

    def _searched(self, query: Query | None, found: Sequence[Summary]) -> None:
        if query is not self.filter:
            return  # a newer search is under way
        self.query_one(ExchangeList).set_rows(found)
        self.searching = False
        self._show_header()

    def action_search(self) -> None:
        self.query_one("#search-input", Input).focus()

    # -- answering --------------------------------------------------------------------

    def _selected_held(self) -> Exchange | None:
        selected = self.query_one(ExchangeList).selected
        return self.hub.held_exchange(selected.id) if selected is not None else None

    def _answer(self, reply: Reply) -> None:
        held = self._selected_held()
        if held is not None and self.hub.resolve(held.id, reply):
            self.say(f"answered the held request with {reply}")
        else:
            self.hub.set_default(reply)
            self.say(f"new requests are answered {reply}")
        self._show_header()

    def action_answer(self, status: int) -> None:
        self._answer(Reply(status))

    def action_custom_answer(self) -> None:
        held = self._selected_held()
        title = "Answer the held request" if held is not None else "Answer new requests with"
        def chosen(reply: Reply | None) -> None:
            if reply is not None:
                self._answer(reply)

        self.push_screen(ResponseScreen(title, self.hub.default), chosen)

    def action_release_all(self) -> None:
        count = self.hub.release_all(self.hub.default, "hold")
        self.say(f"answered {count} held request{'s' if count != 1 else ''} with {self.hub.default}")

    def action_toggle_hold(self) -> None:
        if self.hub.holding is None:
            self.hub.start_holding()
            self.say("holding new requests: digits answer the selected one, A answers all")
        else:
            self.hub.stop_holding()
            self.say("not holding new requests")
        self._show_header()

    def action_hold_matching(self) -> None:
        def chosen(choice: HoldChoice | None) -> None:
            if choice is not None:
                self.hub.start_holding(choice.query, count=choice.count, timeout=choice.timeout)
                self._show_header()

        self.push_screen(HoldScreen(self.hub.hold_timeout), chosen)

    def action_forward(self) -> None:
        def chosen(forward: Forward | None) -> None:
            if forward is None:
                return
            self.hub.set_forward(None if forward == OFF else forward)
            self.say(f"{forward}" if forward != OFF else "not forwarding")
            self._show_header()

        self.push_screen(ForwardScreen(self.hub.forward), chosen)

    def action_forward_held(self) -> None:
        held = self._selected_held()
        if held is None:
            self.notify("select a held request first (h holds new requests)", severity="warning",
                        markup=False)
        elif self.hub.forward is None:
            self.notify("no endpoint to forward to: press f to set one", severity="warning", markup=False)
        elif self.hub.resolve_forward(held.id):
            self.say(f"forwarded the held request to {self.hub.forward.url}")

    def action_rules(self) -> None:
        self.push_screen(RulesScreen(self.hub), lambda _: self._show_header())

    def action_rule_from_selected(self) -> None:
        selected = self.query_one(ExchangeList).selected
        if selected is None or not selected.types:
            self.notify("select a request with an event first", severity="warning", markup=False)
            return
        terms = [f"type:{quoted(selected.types[0])}"] if selected.types[0] else []
        if selected.names and selected.names[0]:
            terms.append(f"event:{quoted(selected.names[0])}")
        query = parse(" ".join(terms))

        def chosen(reply: Reply | None) -> None:
            if reply is not None:
                self.hub.add_rule(Rule(query, reply))
                self.notify(f"rule added: {query.text} => {reply}", markup=False)
                self._show_header()

        self.push_screen(ResponseScreen(f"Answer requests like this ({query.text}) with", Reply(501)), chosen)

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
        url = self.hub.receiving_url()
        if url:
            self._copy(url, url)

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
            ids = sorted(exchanges.marked)
        else:
            ids = [summary.id for summary in self.hub.search(self.filter, newest_first=False)]
        found = [exchange for exchange in map(self.hub.get, ids) if exchange is not None]
        url = self.hub.receiving_url() or DEFAULT_BASE_URL
        result = export(found, choice.format, ExportOptions(base_url=url, redact=choice.redact))
        try:
            paths = write_export(result, Path(choice.path), force=choice.force)
        except (OSError, ValueError) as err:
            self.call_from_thread(self.notify, f"export failed: {err}", severity="error", markup=False)
            return
        where = paths[0] if len(paths) == 1 else Path(choice.path)
        skipped = f"; {len(result.skipped)} left out" if result.skipped else ""
        self.call_from_thread(self.notify, f"exported {result.count} as {choice.format} to {where}{skipped}",
                              markup=False)

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
        sections = []
        for title, bindings in key_groups():
            rows = []
            for binding in bindings:
                keys = self.keymap.get(binding.id or "", binding.key)
                shown = ", ".join(self.get_key_display(Binding(key, "")) for key in keys.split(","))
                rows.append((shown, binding.tooltip or binding.description or binding.action, binding.id or ""))
            sections.append((title, rows))
        self.push_screen(HelpScreen(sections, LEGEND))


def key_groups() -> list[tuple[str, list[Binding]]]:
    """Every key, by where it works: for the help screen and for checking `[keys]`."""
    def bindings(items) -> list[Binding]:
        return [item for item in items if isinstance(item, Binding)]

    main = [b for b in bindings(InspectorApp.BINDINGS) if b.id != "body.toggle_raw"]
    return [
        ("Main screen (tab / shift+tab move the focus: search, list, detail tabs, the open tab)", main),
        ("Exchange list", bindings(ExchangeList.BINDINGS)),
        ("Search box", bindings(SearchBar.BINDINGS)),
        ("Detail pane (left/right on the tabs; enter on a finding shows it in the body)",
         bindings([*BodyView.BINDINGS, *FindingsView.BINDINGS])),
        ("Rules screen", bindings(RulesScreen.BINDINGS)),
        ("Answer dialog (r)", bindings(ResponseScreen.BINDINGS)),
        ("Event tester", bindings(EventTesterScreen.BINDINGS)),
        ("Dialogs (enter submits, space toggles a checkbox)", bindings(Dialog.BINDINGS)),
        ("Help", bindings(HelpScreen.BINDINGS)),
    ]


def checked_keymap(table: dict) -> dict[str, str]:
    """The config file's `[keys]`, in either TOML form, checked: unknown ids and clashes are errors."""
    groups = [group for _, group in key_groups()]
    return keymap(table, [[binding for group in groups[:4] for binding in group], *groups[4:]])

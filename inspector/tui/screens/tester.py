"""The event tester: pick a call type or a semantic event, edit its JSON, send it, read the answer."""

from __future__ import annotations

import random
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Footer, Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from ...core import LOCAL_URL, values
from ...core.checks import is_tracking_batch, lint
from ...core.generate import examples, restamped
from ...core.intake import events_of, parse_body
from ...core.jsonview import pretty
from ...core.model import Exchange
from ...delivery import attempt, client
from ..widgets.detail import json_visible, visible
from ..widgets.detail.destination import findings_text, response_side

LINT_DELAY = 0.2  # seconds of quiet typing before the event is linted again


def lint_text(source: str) -> Content:
    """What the linter says of the edited event, or where its JSON goes wrong."""
    data, error = parse_body(source.encode("utf-8", "replace"))
    if error is not None:
        return Content(f"not JSON: {visible(error.message)} (ctrl+s still sends it as typed)").stylize(
            "bold $text-error")
    return findings_text("Spec findings", lint(data))


def answer_text(exchange: Exchange) -> Content:
    """The endpoint's answer, as the Destination tab shows a forwarded one."""
    return Content("\n\n").join([response_side(exchange), findings_text("Findings on the answer",
                                                                            exchange.findings)])


def editable(event: Any) -> str:
    """An event as text to edit, indented as the Body tab shows it: no control character raw."""
    return json_visible(pretty(event)[0])


class EventTesterScreen(ModalScreen[tuple[str, str]]):
    """Sends one event as Segment would; dismisses with the URL and key last used."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="tester.close"),
        Binding("ctrl+s", "send", "Send", id="tester.send", priority=True),
        Binding("ctrl+n", "restamp", "New messageId", id="tester.restamp", priority=True,
                tooltip="give the edited event a new messageId and timestamps"),
    ]

    def __init__(self, url: str, api_key: str, selected: bytes | None = None, *,
                 rng: random.Random | None = None, now: float | None = None) -> None:
        super().__init__()
        self.url = url
        self.api_key = api_key
        self.rng = rng or random.Random()
        self.templates: list[tuple[str, dict[str, Any] | str]] = [*examples(self.rng, now)]
        self._linting: Timer | None = None
        if selected is not None:
            data, error = parse_body(selected)
            text = editable(data) if error is None else visible(selected.decode("utf-8", "replace"))
            self.templates.insert(0, ("the selected request", text))

    def compose(self) -> ComposeResult:
        with Vertical(id="tester"):
            yield Static(Content("Event tester: send one event the way Segment does, and read the answer")
                         .stylize("bold"))
            with Horizontal():
                yield OptionList(*[Option(Content(label)) for label, _ in self.templates], id="templates")
                with Vertical(id="editing"):
                    yield TextArea(self._text(0), language="json", id="event", soft_wrap=False,
                                   show_line_numbers=True)
                    yield Static(id="lint")
                    with VerticalScroll(id="answer-box"):
                        yield Static(Content("ctrl+s sends the event above; the answer shows here")
                                     .stylize("$text-muted"), id="answer")
            with Horizontal(id="target"):  # the whole width: a URL is long
                yield Label("To")
                yield Input(self.url, id="url", placeholder=LOCAL_URL)
                yield Label("API key")
                yield Input(self.api_key, id="key")
                yield Button("Send", variant="primary", id="send")
            yield Footer()

    def on_mount(self) -> None:
        self.query_one("#templates", OptionList).highlighted = 0
        self._lint()
        self.query_one("#event", TextArea).focus()

    def _text(self, index: int) -> str:
        event = self.templates[index][1]
        return event if isinstance(event, str) else editable(event)

    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        editor = self.query_one("#event", TextArea)
        editor.load_text(self._text(message.option_index))
        editor.focus()

    def on_text_area_changed(self) -> None:
        if self._linting is not None:
            self._linting.stop()
        self._linting = self.set_timer(LINT_DELAY, self._lint, name="lint")

    def _lint(self) -> None:
        self.query_one("#lint", Static).update(lint_text(self.query_one("#event", TextArea).text))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "send":
            self.action_send()

    def on_input_submitted(self) -> None:
        self.action_send()

    def action_restamp(self) -> None:
        editor = self.query_one("#event", TextArea)
        data, error = parse_body(editor.text.encode("utf-8", "replace"))
        if error is not None:
            self.notify("the event is not JSON: nothing to restamp", severity="warning", markup=False)
            return
        fresh = [restamped(event, self.rng) if isinstance(event, dict) else event for event in events_of(data)]
        whole = fresh if isinstance(data, list) else {**data, "batch": fresh} if is_tracking_batch(data) else fresh[0]
        editor.load_text(editable(whole))

    def action_send(self) -> None:
        answer = self.query_one("#answer", Static)
        try:
            url = values.url(self.query_one("#url", Input).value)
        except ValueError as err:
            answer.update(Content(f"URL: {err}").stylize("bold $text-error"))
            return
        self.url, self.api_key = url, self.query_one("#key", Input).value
        answer.update(Content(f"sending to {visible(url)} …").stylize("$text-muted"))
        self._send(self.query_one("#event", TextArea).text.encode("utf-8", "replace"))

    @work(exclusive=True, group="tester", exit_on_error=False)
    async def _send(self, body: bytes) -> None:
        try:
            async with client() as session:
                exchange = (await attempt(session, self.url, body, api_key=self.api_key)).exchange
        except Exception as err:  # e.g. a URL aiohttp cannot use: say so, keep the app
            self.query_one("#answer", Static).update(
                Content(f"not sent: {visible(str(err) or type(err).__name__)}").stylize("bold $text-error"))
            return
        self.query_one("#answer", Static).update(answer_text(exchange))

    def action_close(self) -> None:
        self.dismiss((self.url, self.api_key))

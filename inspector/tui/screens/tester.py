"""The event tester: pick a call type or a semantic event, edit its JSON, send it, read the answer."""

from __future__ import annotations

import random
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Footer, Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from ...core.checks import lint
from ...core.checks.answers import message_of
from ...core.generate import examples, restamped
from ...core.intake import events_of, parse_body
from ...core.model import OUTCOME_TEXT, Destination, Finding, segment_outcome
from ...core.policy import reason
from ...core.text import inert, inert_json
from ...send import SendOptions, send_once

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
SHOWN_FINDINGS = 6
SHOWN_BODY = 2000
LINT_DELAY = 0.2  # seconds of quiet typing before the event is linted again


def _findings(text: Text, findings: list[Finding]) -> None:
    for found in findings[:SHOWN_FINDINGS]:
        text.append(f"\n{found.severity:<7} {found.code} ", style=SEVERITY_STYLE.get(found.severity, ""))
        text.append(inert(found.message))
        if found.path:
            text.append(f"  {inert(found.path)}", style="dim")
    if len(findings) > SHOWN_FINDINGS:
        text.append(f"\n… and {len(findings) - SHOWN_FINDINGS} more", style="dim")


def lint_text(source: str) -> Text:
    """What the linter says of the edited event, or where its JSON goes wrong."""
    data, error = parse_body(source.encode("utf-8", "replace"))
    if error is not None:
        return Text(f"not JSON: {inert(error.message)} (ctrl+s still sends it as typed)",
                    style="bold red")
    findings = lint(data)
    counts = {severity: sum(f.severity == severity for f in findings) for severity in SEVERITY_STYLE}
    text = Text("Spec: ")
    if not findings:
        text.append("no findings", style="green")
    text.append(", ".join(f"{n} {severity}{'s' if n != 1 else ''}" for severity, n in counts.items() if n))
    _findings(text, findings)
    return text


def answer_text(destination: Destination, findings: list[Finding]) -> Text:
    """The endpoint's answer as Segment would read it, with the judge's findings."""
    text = Text()
    if destination.status is None:
        text.append(f"no answer: {inert(destination.error or 'unknown error')}", style="bold red")
    else:
        text.append(f"{destination.status} {reason(destination.status)}", style="bold")
        text.append(f"  in {destination.duration * 1000:.0f} ms")
    outcome = segment_outcome(destination.status)
    text.append(f"\n{OUTCOME_TEXT[outcome]}",
                style={"delivered": "green", "retried": "yellow", "dropped": "red"}[outcome])
    message = message_of(destination.body) if destination.body else None
    if message:
        text.append("\nmessage: ")
        text.append(inert(message), style="bold")
    _findings(text, [found for found in findings if found.code != "ANS014"])  # the outcome, said above
    for name, value in destination.headers:
        text.append(f"\n{inert(name)}: ", style="dim bold")
        text.append(inert(value), style="dim")
    if destination.status is not None:
        body = destination.body.decode("utf-8", "replace")
        text.append("\n\n" + (inert(body[:SHOWN_BODY]) or "(empty body)"))
        if len(body) > SHOWN_BODY:
            text.append(f"\n… {len(body) - SHOWN_BODY} more characters", style="dim")
    return text


def editable(event: Any) -> str:
    """An event as text to edit: indented JSON with every control character escaped."""
    return inert_json(event, indent=True)


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
        self.templates: list[tuple[str, Any]] = examples(self.rng, now)
        self._linting: Timer | None = None
        if selected is not None:
            data, error = parse_body(selected)
            text = editable(data) if error is None else inert(selected.decode("utf-8", "replace"))
            self.templates.insert(0, ("the selected request", text))

    def compose(self) -> ComposeResult:
        with Vertical(id="tester"):
            yield Static(Text("Event tester: send one event the way Segment does, and read the answer",
                              style="bold"), markup=False)
            with Horizontal():
                yield OptionList(*[Option(Text(label)) for label, _ in self.templates], id="templates")
                with Vertical(id="editing"):
                    yield TextArea(self._text(0), language="json", id="event", soft_wrap=False,
                                   show_line_numbers=True)
                    yield Static(id="lint", markup=False)
                    with Horizontal(id="target"):
                        yield Label("To")
                        yield Input(self.url, id="url", placeholder="http://127.0.0.1:8686/")
                        yield Label("API key")
                        yield Input(self.api_key, id="key")
                        yield Button("Send", variant="primary", id="send")
                    with VerticalScroll(id="answer-box"):
                        yield Static(Text("ctrl+s sends the event above; the answer shows here", style="dim"),
                                     id="answer", markup=False)
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
        editor.load_text(editable(fresh if isinstance(data, list) else fresh[0]))

    def action_send(self) -> None:
        url = self.query_one("#url", Input).value.strip()
        answer = self.query_one("#answer", Static)
        if not url.startswith(("http://", "https://")):
            answer.update(Text("the URL starts with http:// or https://", style="bold red"))
            return
        self.url, self.api_key = url, self.query_one("#key", Input).value
        answer.update(Text(f"sending to {inert(url)} …", style="dim"))
        self._send(self.query_one("#event", TextArea).text.encode("utf-8", "replace"))

    @work(exclusive=True, group="tester", exit_on_error=False)
    async def _send(self, body: bytes) -> None:
        try:
            destination, findings = await send_once(body, SendOptions(self.url, api_key=self.api_key))
        except Exception as err:  # e.g. a URL aiohttp cannot use: say so, keep the app
            self.query_one("#answer", Static).update(
                Text(f"not sent: {inert(str(err) or type(err).__name__)}", style="bold red"))
            return
        self.query_one("#answer", Static).update(answer_text(destination, findings))

    def action_close(self) -> None:
        self.dismiss((self.url, self.api_key))

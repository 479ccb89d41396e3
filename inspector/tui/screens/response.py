"""Choose any response: a status, an optional message, delay, extra headers and body."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static, TextArea

from ...core import values
from ...core.intake import parse_body
from ...core.policy import PRESETS, Reply, parse_headers, parse_reply, reason
from . import Dialog


class ResponseScreen(Dialog[Reply]):
    """Returns the Reply the user built, or None when cancelled.

    The body is edited as JSON (highlighted as in the event tester); anything else is
    sent only with a Content-Type header saying what it is.
    """

    COMPACT_BELOW = 44  # the body and headers editors make this form tall

    BINDINGS = [Binding("ctrl+s", "answer", "Answer", id="response.answer", priority=True)]

    def __init__(self, title: str, reply: Reply | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.initial = reply or Reply()

    def compose(self) -> ComposeResult:
        presets = "\n".join(f"{status} {reason(status)}" for status in PRESETS)
        initial = self.initial
        with Vertical(id="dialog"):
            yield Static(Text(self.title_text, style="bold"), markup=False)
            yield Label("Status (100-599)")
            yield Input(str(initial.status), id="status", restrict=r"\d{0,3}", tooltip=presets)
            yield Static(Text("Segment documents " + " ".join(map(str, PRESETS)), style="dim"),
                         markup=False)
            yield Label("Message (optional; 4xx/5xx default to the reason phrase)")
            yield Input(initial.message or "", id="message")
            yield Label("Delay in seconds (optional)")
            yield Input(f"{initial.delay:g}" if initial.delay else "", id="delay", restrict=r"[0-9.]*")
            yield Label("Extra headers, one 'Name: value' a line (e.g. Retry-After: 30)")
            yield TextArea("\n".join(f"{name}: {value}" for name, value in initial.headers),
                           id="headers", soft_wrap=False)
            yield Label("Body (optional JSON; empty: {\"message\": …}; ctrl+s answers)")
            yield TextArea(initial.content or "", language="json", id="body", soft_wrap=False)
            yield Static(id="problem", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Answer", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def action_answer(self) -> None:
        self.submit()

    def submit(self) -> None:
        status = self.query_one("#status", Input).value.strip()
        message = self.query_one("#message", Input).value
        delay_text = self.query_one("#delay", Input).value.strip()
        content = self.query_one("#body", TextArea).text
        try:
            delay = values.duration(delay_text, positive=False) if delay_text else 0.0
            reply = parse_reply(status + (f":{message}" if message else ""), delay)
            headers = parse_headers(self.query_one("#headers", TextArea).text)
            if content.strip() and not any(name.lower() == "content-type" for name, _ in headers):
                error = parse_body(content.encode())[1]
                if error is not None:
                    raise ValueError(f"the body is not JSON ({error.message}); "
                                     "add a Content-Type header to send it as it is")
        except ValueError as err:
            self.query_one("#problem", Static).update(Text(str(err), style="bold red"))
            return
        self.dismiss(Reply(reply.status, reply.message, reply.delay,
                           content if content.strip() else None, headers))

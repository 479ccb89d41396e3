"""The request from Segment and the response from your endpoint, side by side (one
above the other when the pane is narrow).

Shown when the exchange was forwarded (`--forward`, `--mirror`, `f`, or `F` on a held
request), with the findings on the endpoint's answer (the ANS codes) below. Every
piece is Content built from plain strings: nothing a request or an answer carries is
read as markup, and control characters are shown escaped.
"""

from __future__ import annotations

import http

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Static

from ....core.model import OUTCOME_TEXT, Exchange, Finding
from . import SEVERITY_STYLE, visible
from .response import OUTCOME_STYLE, STATUS_STYLE, _body

NOT_FORWARDED = ("Not forwarded. Press f to forward requests to your endpoint (or --forward URL); "
                 "on a held request, F forwards that one.")


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _headers(pairs: list[tuple[str, str]]) -> list[Content]:
    return [Content.assemble((visible(name), "bold"), ": ", visible(value)) for name, value in pairs]


def request_side(exchange: Exchange) -> Content:
    target = exchange.path + ("?" + exchange.query if exchange.query else "")
    lines = [Content("Request from Segment").stylize("bold underline"),
             Content.assemble((exchange.method, "bold"), " ", visible(target)), *_headers(exchange.headers),
             Content(""), _body(exchange.body)]
    return Content("\n").join(lines)


def response_side(exchange: Exchange) -> Content:
    destination = exchange.destination
    assert destination is not None
    lines = [Content("Response from destination").stylize("bold underline"),
             Content(visible(destination.url)).stylize("italic")]
    took = f"{destination.duration * 1000:,.1f} ms"
    if destination.status is None:
        lines.append(Content.assemble(("no answer", "bold $text-error"), f" after {took}: ",
                                      visible(destination.error or "")))
    else:
        lines.append(Content.assemble((str(destination.status), STATUS_STYLE[destination.outcome]), " ",
                                      _reason(destination.status), f"  in {took}"))
        lines += _headers(destination.headers)
        lines += [Content(""), _body(destination.body)]
    lines += [Content(""), Content(f" {OUTCOME_TEXT[destination.outcome]} ")
              .stylize(OUTCOME_STYLE[destination.outcome])]
    answer = exchange.answer
    if answer is not None and not exchange.kind and answer.chosen_by not in ("forward", "hold: forward"):
        lines.append(Content(f"mirror: Segment got our answer, {answer.status}, not this one")
                     .stylize("italic"))
    return Content("\n").join(lines)


def findings_text(title: str, found: list[Finding]) -> Content:
    lines = [Content(f"{title} ({len(found)})").stylize("bold")]
    for f in found:
        lines.append(Content.assemble((f"{f.severity:<9}", SEVERITY_STYLE.get(f.severity, "bold")),
                                      (visible(f.code), "bold"), "  ", visible(f.message)))
    return Content("\n").join(lines)


class DestinationView(Vertical):
    """Two columns, request and response, and the ANS findings under them."""

    DEFAULT_CSS = """
    DestinationView {
        height: auto;
        & > Horizontal { height: auto; }
        & > Horizontal.-stacked { layout: vertical; }
        & #destination-request, & #destination-response { width: 1fr; height: auto; padding: 0 1; }
        & #destination-findings, & #destination-none { height: auto; padding: 1 1 0 1; }
    }
    """

    STACK_BELOW = 100
    """Narrower than this, the response sits under the request: side by side, JSON would
    wrap in the middle of its values."""

    def on_resize(self) -> None:
        self.query_one("#destination-sides").set_class(self.size.width < self.STACK_BELOW, "-stacked")

    def compose(self) -> ComposeResult:
        yield Static(Content(NOT_FORWARDED), id="destination-none")
        with Horizontal(id="destination-sides"):
            yield Static(Content(""), id="destination-request")
            yield Static(Content(""), id="destination-response")
        yield Static(Content(""), id="destination-findings")

    def show(self, exchange: Exchange | None) -> None:
        forwarded = exchange is not None and exchange.destination is not None
        none = self.query_one("#destination-none", Static)
        none.display = not forwarded
        none.update(Content(NOT_FORWARDED if exchange is not None else "No exchange selected."))
        self.query_one("#destination-sides").display = forwarded
        self.query_one("#destination-findings").display = forwarded
        if exchange is None or exchange.destination is None:
            return
        self.query_one("#destination-request", Static).update(request_side(exchange))
        self.query_one("#destination-response", Static).update(response_side(exchange))
        self.query_one("#destination-findings", Static).update(
            findings_text("Findings on the answer", [f for f in exchange.findings if f.code.startswith("ANS")]))

"""What we answered and what Segment will do about it.

The status decides whether Segment counts the event, retries it for hours or drops it,
which is the point of answering by hand; so the outcome is the line that stands out.
"""

from __future__ import annotations

import http

from textual.content import Content
from textual.highlight import highlight

from ....core.intake import parse_body
from ....core.jsonview import pretty
from ....core.model import OUTCOME_TEXT, Exchange
from . import DescribedView, json_visible, visible

LABEL_WIDTH = 12
LONGEST_BODY = 20_000
"""Characters of our response body shown."""

STATUS_STYLE = {
    "delivered": "bold $text-success",
    "retried": "bold $text-warning",
    "dropped": "bold $text-error",
}

OUTCOME_STYLE = {
    "delivered": "bold $text-success on $success-muted",
    "retried": "bold $text-warning on $warning-muted",
    "dropped": "bold $text-error on $error-muted",
}


def _row(label: str, value: Content | str) -> Content:
    return Content.assemble((f"{label:<{LABEL_WIDTH}}", "bold"), value)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _body(body: bytes) -> Content:
    if not body:
        return Content("  (empty)").stylize("italic $text-muted")
    data, error = parse_body(body)
    if error is None:
        text = json_visible(pretty(data)[0])
        if len(text) <= LONGEST_BODY:
            return highlight(text, language="json")
    text = body.decode("utf-8", "replace")
    cut = text[:LONGEST_BODY]
    lines = [Content(visible(line)) for line in cut.split("\n")]
    if len(text) > LONGEST_BODY:
        lines.append(Content(f"… {len(text) - LONGEST_BODY:,} more characters").stylize("italic"))
    return Content("\n").join(lines)


def describe(exchange: Exchange | None) -> Content:
    """The whole response tab as one Content built from plain strings."""
    if exchange is None:
        return Content("No exchange selected.")
    lines: list[Content] = []
    answer = exchange.answer
    if answer is None:
        waiting = "held: waiting for you to choose the answer" if exchange.held else "not answered yet"
        lines.append(_row("Status", Content(waiting).stylize("bold $text-warning")))
    else:
        lines.append(_row("Status", Content.assemble((str(answer.status), STATUS_STYLE[answer.outcome]), " ",
                                                     _reason(answer.status))))
        chosen = Content.assemble((visible(answer.chosen_by), "bold"))
        if answer.detail:
            chosen = Content.assemble(chosen, ": ", visible(answer.detail))
        lines.append(_row("Chosen by", chosen))
        lines.append(_row("Delay", f"{answer.delay:g} s" if answer.delay else "none"))
        lines.append(_row("Duration", f"{exchange.duration * 1000:,.1f} ms"))
    redelivery = exchange.redelivery
    if redelivery is None:
        lines.append(_row("Redelivery", "no: first time this messageId arrived"))
    else:
        lines.append(_row("Redelivery", Content.assemble(
            (f"{_ordinal(redelivery.n)} redelivery", "bold $text-warning"),
            f" of {visible(redelivery.first)}, {redelivery.since:,.1f} s after the first")))
    lines.append(Content(""))

    lines.append(Content("What Segment does next").stylize("bold"))
    if answer is None:
        lines.append(Content("  nothing yet: Segment waits for the answer, and retries if it times out")
                     .stylize("italic"))
    else:
        outcome_text = OUTCOME_TEXT.get(answer.outcome, answer.outcome)
        lines.append(Content(f" {outcome_text} ").stylize(OUTCOME_STYLE.get(answer.outcome, "bold")))
        lines.append(Content(""))
        lines.append(Content("Body we sent").stylize("bold"))
        lines.append(_body(answer.body))
    return Content("\n").join(lines)


class ResponseView(DescribedView):
    """The status, body, reason and timing of our answer, and Segment's next step."""

    describe = staticmethod(describe)

"""What Segment did with a source call's events, or which source call a delivery carries.

A Tracking API call (an SDK's batch) lists each event's fate: delivered with status and
time, retried N times, dropped by dedupe or integrations, failed with the endpoint's
message, with the ids of its deliveries; `g` jumps between a call and its deliveries.
"""

from __future__ import annotations

from textual.content import Content

from ....core.model import Exchange
from ....local_segment.trace import trace
from . import DescribedView, visible

STATE_STYLE = {
    "delivered": "bold $text-success",
    "retrying": "bold $text-warning",
    "delivering": "bold $text-warning",
    "failed": "bold $text-error",
    "dropped": "bold $text-error",
    "invalid": "bold $text-error",
    "blocked": "bold $text-error",
}


def describe(exchange: Exchange | None, deliveries: list[Exchange]) -> Content:
    """The tab as one Content from plain strings: nothing from the request is read as markup."""
    if exchange is None:
        return Content("No exchange selected.")
    if exchange.link is not None:
        link = exchange.link
        return Content.assemble(
            ("Delivery ", "bold"), visible(f"of event {link.message_id}, attempt {link.attempt} of at most "
                                           f"{link.attempts}\nfrom source call {link.source}  (g: go to it)"))
    if exchange.kind != "source":
        return Content("Not a Tracking API call: Segment's SDKs post to /v1/batch, /v1/track, ...").stylize(
            "italic $text-muted")
    lines = [Content(f"{len(exchange.pipeline)} event(s) of this call  (g: go to its first delivery)").stylize("bold")]
    for item in trace(exchange, deliveries):
        lines.append(Content.assemble((f"{item.state:<13}", STATE_STYLE.get(item.state, "bold $text-muted")),
                                      visible(item.message_id)))
        lines.append(Content("  " + visible(item.text)))
        lines += [Content(f"  delivery {delivery}").stylize("$text-muted") for delivery in item.deliveries]
    return Content("\n").join(lines)


class PipelineView(DescribedView):
    """Each event's fate on a source call; the source call of a delivery."""

    def show(self, exchange: Exchange | None) -> None:
        hub = getattr(self.app, "hub", None)
        source = exchange if exchange is not None and exchange.kind == "source" else None
        self.update(describe(exchange, hub.deliveries(source.id) if source is not None and hub is not None else []))

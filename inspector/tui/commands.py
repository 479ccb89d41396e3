"""The command palette: every action of the app, titled `area: verb`."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ..core.policy import PRESETS, reason

COMMANDS: list[tuple[str, str, str]] = [
    *[(f"answer: {status} {reason(status)}", f"answer({status})",
       f"answer new requests (or the selected held one) with {status}") for status in PRESETS],
    ("answer: any status, message or delay…", "custom_answer", "choose any status, a message and a delay"),
    ("answer: all held requests", "release_all", "answer every held request with the default answer"),
    ("hold: on/off", "toggle_hold", "hold every new request until you answer it"),
    ("hold: only matching requests…", "hold_matching", "hold the next requests that match a query"),
    ("rules: list, toggle, remove", "rules", "open the response rules"),
    ("rules: answer requests like the selected one…", "rule_from_selected",
     "add a rule matching the selected request's type and event"),
    ("search: focus the search bar", "search", "search the whole history with the query language"),
    ("list: newest first / last", "toggle_order", "flip the order of the exchange list"),
    ("copy: body", "copy_body", "copy the selected request's body"),
    ("copy: as curl", "copy_curl", "copy a curl command that sends the selected request again"),
    ("copy: receiving URL", "copy_url", "copy the URL to paste into Segment"),
    ("copy: attach command", "copy_attach", "copy the command that attaches a teammate's TUI to this inspector"),
    ("export: selected, marked or filtered…", "export", "write json, jsonl, pytest, curl or har fixtures"),
    ("replay: the selected request to a URL…", "replay", "send it again and compare the answers"),
    ("send: event tester…", "tester", "send one event as Segment would and read the answer"),
    ("review: run against URL…", "review", "check an endpoint against everything Segment's partner review asks"),
    ("view: event delivery", "delivery", "delivered, retried and dropped, errors by message, latency"),
    ("plan: infer from the list and check with it", "plan_from_list",
     "a tracking plan from the events the list shows; every event that arrives is then checked against it"),
    ("help: keys", "help", "every key, and its id for remapping"),
]


class InspectorCommands(Provider):
    """Offers COMMANDS in the palette, each running the app action of the same line."""

    async def discover(self) -> Hits:
        for title, action, help_text in COMMANDS:
            yield DiscoveryHit(title, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, action, help_text in COMMANDS:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self.app.run_action, action), help=help_text)

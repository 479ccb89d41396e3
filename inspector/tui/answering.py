"""How the TUI answers: the keys and dialogs that choose what requests get (the default,
a held request, holds, forwarding, rules), each one hub call."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import App

from ..core.hub_api import HubAPI
from ..core.model import Exchange
from ..core.policy import Forward, Reply, Rule
from .screens.forward import OFF, ForwardScreen
from .screens.hold import HoldChoice, HoldScreen
from .screens.response import ResponseScreen
from .screens.rule import like
from .screens.rules import RulesScreen
from .widgets.exchange_list import ExchangeList


class AnsweringApp(App[None]):
    """The answering half of InspectorApp: it gives `hub`, `say` and `_show_header`."""

    hub: HubAPI

    if TYPE_CHECKING:  # InspectorApp's
        def say(self, text: str) -> None: ...
        def _show_header(self) -> None: ...

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
        query = like(selected) if selected is not None else None
        if query is None:
            self.notify("select a request with an event first", severity="warning", markup=False)
            return

        def chosen(reply: Reply | None) -> None:
            if reply is not None:
                self.hub.add_rule(Rule(query, reply))
                self.notify(f"rule added: {query.text} => {reply}", markup=False)
                self._show_header()

        self.push_screen(ResponseScreen(f"Answer requests like this ({query.text}) with", Reply(501)), chosen)


"""The response rules: listed in the order they apply; typed, edited, toggled, moved and
removed from the keyboard (a removal is undone with u)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, ListItem, ListView, Static

from ...core.hub_api import HubAPI
from ...core.policy import Rule
from ...core.text import inert
from .rule import RuleScreen


class RulesScreen(ModalScreen[None]):
    """Changes the hub's rules; the first enabled rule that matches answers."""

    BINDINGS = [
        Binding("escape,q", "close", "Close", id="rules.close"),
        Binding("a", "add", "Add", id="rules.add", tooltip="type a new rule: QUERY => STATUS[:message]"),
        Binding("e", "edit", "Edit", id="rules.edit", tooltip="edit the selected rule (enter too)"),
        Binding("space", "toggle_rule", "Enable/disable", id="rules.toggle"),
        Binding("delete,d", "remove", "Remove", id="rules.remove"),
        Binding("u", "undo", "Undo remove", id="rules.undo", tooltip="put the last removed rule back"),
        Binding("K", "move(-1)", "Move up", id="rules.up"),
        Binding("J", "move(1)", "Move down", id="rules.down"),
    ]

    def __init__(self, hub: HubAPI) -> None:
        super().__init__()
        self.hub = hub
        self.removed: list[tuple[int, Rule]] = []  # for u, the last removed last

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text("Rules: the first enabled rule that matches a request answers it", style="bold"),
                         markup=False)
            yield ListView(id="rules")
            yield Static(Text("a add · e or enter edit · space enable/disable · d remove · u undo · "
                              "K/J move · esc close · x on the main screen adds a rule from the "
                              "selected request", style="dim"), markup=False)

    def on_mount(self) -> None:
        self._refill()

    def _refill(self, index: int | None = None) -> None:
        view = self.query_one(ListView)
        view.clear()
        rules = self.hub.rules
        if not rules:
            view.append(ListItem(Label(Text("No rules yet.", style="dim"), markup=False)))
        for number, rule in enumerate(rules, 1):
            line = Text(f"{number:>2}. ")
            line.append("on  " if rule.enabled else "off ", style="bold green" if rule.enabled else "dim")
            line.append(inert(str(rule)), style="" if rule.enabled else "dim")
            view.append(ListItem(Label(line, markup=False)))
        if rules:
            view.index = max(0, min(index or 0, len(rules) - 1))

    def _selected(self) -> int | None:
        index = self.query_one(ListView).index
        return index if index is not None and index < len(self.hub.rules) else None

    def action_toggle_rule(self) -> None:
        index = self._selected()
        if index is not None:
            self.hub.toggle_rule(index)
            self._refill(index)

    def action_add(self) -> None:
        def added(rule: Rule | None) -> None:
            if rule is not None:
                self.hub.add_rule(rule)
                self._refill(len(self.hub.rules) - 1)

        self.app.push_screen(RuleScreen("A new rule, after the others"), added)

    def action_edit(self) -> None:
        index = self._selected()
        if index is None:
            self.action_add()
            return
        rule = self.hub.rules[index]
        reply = rule.reply
        text = f"{rule.query.text} => {reply.status}" + (f":{reply.message}" if reply.message is not None else "")

        def edited(new: Rule | None) -> None:
            if new is not None:
                if (new.reply.status, new.reply.message) == (reply.status, reply.message):
                    new.reply = reply  # its delay, headers and body, which the text does not show
                new.enabled = rule.enabled
                self.hub.replace_rule(index, new)
                self._refill(index)

        self.app.push_screen(RuleScreen(f"Rule {index + 1}", text), edited)

    def on_list_view_selected(self) -> None:
        self.action_edit()

    def action_remove(self) -> None:
        index = self._selected()
        if index is not None:
            self.removed.append((index, self.hub.remove_rule(index)))
            self._refill(index)
            self.notify(f"rule {index + 1} removed: u puts it back", markup=False)

    def action_undo(self) -> None:
        if self.removed:
            index, rule = self.removed.pop()
            index = min(index, len(self.hub.rules))
            self.hub.add_rule(rule, at=index)
            self._refill(index)

    def action_move(self, step: int) -> None:
        index = self._selected()
        if index is not None and 0 <= index + step < len(self.hub.rules):
            self._refill(self.hub.move_rule(index, step))

    def action_close(self) -> None:
        self.dismiss(None)

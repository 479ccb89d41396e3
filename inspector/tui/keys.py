"""Every key of the TUI by where it works, and the config file's `[keys]` table checked against them.

The main screen's keys are the app's (`APP_BINDINGS`); each widget and dialog keeps its
own. `key_groups` gathers them for the help screen and for checking `[keys]`: binding ids
to keys, checked before the TUI starts.

TOML gives `answer.500 = "f5"` (a dotted key) as a nested table and `"answer.500" = "f5"`
as a flat one; both mean the binding id `answer.500`. An id no binding has, or a key
that two bindings would share, is an error naming them: a silent takeover of `q` or a
typo that does nothing are worse than not starting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from textual.binding import Binding, BindingType

from ..core.policy import reason
from .screens import Dialog
from .screens.help import HelpScreen, Row
from .screens.response import ResponseScreen
from .screens.rules import RulesScreen
from .screens.tester import EventTesterScreen
from .widgets.detail.body import BodyView
from .widgets.detail.findings import FindingsView
from .widgets.exchange_list import ExchangeList
from .widgets.search_bar import SearchBar

# One key per status Segment documents. Shown in help; remappable by binding id.
ANSWER_KEYS = {"2": 200, "3": 202, "4": 400, "5": 401, "6": 403, "7": 429, "0": 500, "9": 501, "8": 503}


class KeymapError(ValueError):
    """The `[keys]` table cannot be used as it is."""


def flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """`{"answer": {"500": "f5"}}` and `{"answer.500": "f5"}` alike as `{"answer.500": "f5"}`."""
    flat: dict[str, str] = {}
    for name, value in table.items():
        binding_id = f"{prefix}{name}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{binding_id}."))
        elif isinstance(value, str) and value.strip():
            flat[binding_id] = value
        else:
            raise KeymapError(f"[keys] {binding_id} must be a key such as \"f5\" (or \"f5,ctrl+5\"), "
                              f"not {value!r}")
    return flat


def keymap(table: Mapping[str, Any], groups: Iterable[Iterable[Binding]]) -> dict[str, str]:
    """The keymap for `App.set_keymap`; each group holds the bindings active together (one screen)."""
    flat = flatten(table)
    groups = [list(group) for group in groups]
    known = {binding.id for group in groups for binding in group if binding.id}
    unknown = sorted(set(flat) - known)
    if unknown:
        raise KeymapError(f"[keys] has no binding {', '.join(unknown)}; press ? in the TUI for the ids")
    for group in groups:
        owners: dict[str, str] = {}
        for binding in group:
            if not binding.id:
                continue
            for key in flat.get(binding.id, binding.key).split(","):
                other = owners.setdefault(key.strip(), binding.id)
                if other != binding.id:
                    raise KeymapError(f"[keys] binds {key.strip()!r} to both {other} and {binding.id}; "
                                      f"give one of them another key")
    return flat


def _bindings(items: Iterable[BindingType]) -> list[Binding]:
    return [item for item in items if isinstance(item, Binding)]


def _answer_bindings() -> list[Binding]:
    shown = {200, 500}
    return [Binding(key, f"answer({status})", f"{status}", show=status in shown,
                    id=f"answer.{status}", tooltip=f"answer {status} {reason(status)}")
            for key, status in ANSWER_KEYS.items()]


APP_BINDINGS: list[BindingType] = [
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
    # From the list too, with the body view's key and id.
    *[Binding(b.key, "toggle_raw", b.description, show=False, id=b.id, tooltip=b.tooltip)
      for b in _bindings(BodyView.BINDINGS)],
    Binding("g", "jump", "Go to source/delivery", show=False, id="pipeline.jump"),
    Binding("D", "delivery", "Delivery", show=False, id="delivery.open",
            tooltip="Event Delivery: delivered, retried, dropped, errors by message, latency"),
    Binding("question_mark,f1", "help", "Help", id="help"),
    Binding("q", "quit", "Quit", id="quit"),
]
"""The main screen's keys, bound on the app."""


def key_groups() -> list[tuple[str, list[Binding]]]:
    """Every key, by where it works: for the help screen and for checking `[keys]`."""
    main = [b for b in _bindings(APP_BINDINGS) if b.id != "body.toggle_raw"]
    return [
        ("Main screen (tab / shift+tab move the focus: search, list, detail tabs, the open tab)", main),
        ("Exchange list", _bindings(ExchangeList.BINDINGS)),
        ("Search box", _bindings(SearchBar.BINDINGS)),
        ("Detail pane (left/right on the tabs; enter on a finding shows it in the body)",
         _bindings([*BodyView.BINDINGS, *FindingsView.BINDINGS])),
        ("Rules screen", _bindings(RulesScreen.BINDINGS)),
        ("Answer dialog (r)", _bindings(ResponseScreen.BINDINGS)),
        ("Event tester", _bindings(EventTesterScreen.BINDINGS)),
        ("Dialogs (enter submits, space toggles a checkbox)", _bindings(Dialog.BINDINGS)),
        ("Help", _bindings(HelpScreen.BINDINGS)),
    ]


def checked_keymap(table: Mapping[str, Any]) -> dict[str, str]:
    """The config file's `[keys]`, in either TOML form, checked: unknown ids and clashes are errors."""
    groups = [group for _, group in key_groups()]
    # The main screen's, the list's, the search box's and the detail pane's keys work at once.
    return keymap(table, [[binding for group in groups[:4] for binding in group], *groups[4:]])


def help_sections(keymap: Mapping[str, str], display: Callable[[Binding], str]) -> list[tuple[str, list[Row]]]:
    """The help screen's sections: each key as the user has mapped it, shown by `display`."""
    sections = []
    for title, bindings in key_groups():
        rows = []
        for binding in bindings:
            keys = keymap.get(binding.id or "", binding.key)
            shown = ", ".join(display(Binding(key, "")) for key in keys.split(","))
            rows.append((shown, binding.tooltip or binding.description or binding.action, binding.id or ""))
        sections.append((title, rows))
    return sections

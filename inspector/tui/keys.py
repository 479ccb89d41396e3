"""The config file's `[keys]` table: binding ids to keys, checked before the TUI starts.

TOML gives `answer.500 = "f5"` (a dotted key) as a nested table and `"answer.500" = "f5"`
as a flat one; both mean the binding id `answer.500`. An id no binding has, or a key
that two bindings would share, is an error naming them: a silent takeover of `q` or a
typo that does nothing are worse than not starting.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from textual.binding import Binding


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

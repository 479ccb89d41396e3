"""What Protocols' Schema Configuration lets through to a destination (segment.md §8).

Per source, as chosen by flags: block unplanned track events; omit a track's unplanned
properties, an identify's or group's unplanned traits; on a violation of the plan, allow the
event, block it, or omit the fields at fault. Blocked events are not delivered; omitted fields
are removed before the envelope, and the event's fate says which.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from ..core.plans import Checking
from ..core.plans.checking import path_of

VIOLATIONS = ("PLAN002", "PLAN003", "PLAN004", "PLAN006", "PLAN007")


@dataclass(frozen=True, slots=True)
class Protocols:
    """The Schema Configuration settings, each off by default as in Segment."""

    block_unplanned_events: bool = False
    omit_unplanned_properties: bool = False
    omit_unplanned_traits: bool = False
    on_violation: str = "allow"  # "allow", "block" or "omit"

    @property
    def acting(self) -> bool:
        return self.block_unplanned_events or self.omit_unplanned_properties or self.omit_unplanned_traits \
            or self.on_violation != "allow"

    def apply(self, checking: Checking, event: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
        """The event as the destination gets it (None: blocked), and what was done, in words."""
        verdict = checking.verdict(event)
        kind = event.get("type")
        if verdict.unplanned_event and self.block_unplanned_events:
            return None, f"{event.get('event')!r} is not in the tracking plan (--block-unplanned-events)"
        violated = [f for f in verdict.findings if f.code in VIOLATIONS]
        if violated and self.on_violation == "block":
            first = violated[0]
            return None, f"it violates the tracking plan (--on-violation block): {first.code} {first.path}"
        remove: list[tuple[Any, ...]] = []
        if violated and self.on_violation == "omit":
            remove += [path for path in verdict.faulty if len(path) >= 2]  # a field, never a whole part
        part = "properties" if kind == "track" else "traits" if kind in ("identify", "group") else None
        omitting = self.omit_unplanned_properties if part == "properties" else self.omit_unplanned_traits
        if part is not None and omitting:
            remove += [path for path in verdict.unplanned if path[0] == part]
        if not remove:
            return event, ""
        kept, removed = _without(event, remove)
        if not removed:
            return event, ""
        return kept, f"omitted by the tracking plan: {', '.join(removed)}"


def _without(event: dict[str, Any], paths: list[tuple[Any, ...]]) -> tuple[dict[str, Any], list[str]]:
    """A copy of the event without the fields at these paths, and the paths removed; an array's
    item is never removed, so that the array keeps its order."""
    out = copy.deepcopy(event)
    removed: list[str] = []
    for path in paths:
        holder: Any = out
        for step in path[:-1]:
            try:
                holder = holder[step]
            except (KeyError, IndexError, TypeError):
                holder = None
                break
        last = path[-1]
        if isinstance(holder, dict) and last in holder:
            del holder[last]
            removed.append(path_of(path))
    return out, removed


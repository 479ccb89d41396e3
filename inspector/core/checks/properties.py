"""Reserved traits, reserved properties and semantic events' properties: types and casing.

Each event type keeps its typed fields in one place: identify and group in `traits`,
track, page and screen in `properties`; a track named after a semantic event (Order
Completed, Video Playback Started, ...) expects that event's properties too.

Segment's own code finds `first_name` when it looks for `firstName` (obj-case), but
many destinations look up the exact key, so a trait in another casing is lost to them,
and one sent in two casings leaves them guessing which is current.
"""

from __future__ import annotations

from typing import Any

from . import Lint, check, event_check, member, shown
from .spec import EVENTS, LINKS, PROPERTIES, TRAITS, normal, semantic_event
from .types import check_fields

_ONE = {"traits": "trait", "properties": "property"}

_IDENTIFY = '{"type": "identify", "userId": "u1", "messageId": "m1", '

check("SPEC030", "warning", "A reserved trait or Spec property is sent in another casing",
      bad=_IDENTIFY + '"traits": {"created_at": "2026-01-01T00:00:00Z"}}',
      good=_IDENTIFY + '"traits": {"createdAt": "2026-01-01T00:00:00Z"}}', link=LINKS["identify"])
check("SPEC031", "warning", "The same trait or property is sent in two casings",
      bad=_IDENTIFY + '"traits": {"firstName": "Ada", "first_name": "Ada"}}',
      good=_IDENTIFY + '"traits": {"firstName": "Ada"}}', link=LINKS["identify"])


def _by_normal(fields: dict[str, Any]) -> dict[str, str]:
    return {normal(key): key for key in fields}


_NORMAL = {kind: _by_normal(fields) for kind, fields in {**PROPERTIES, **TRAITS}.items()}
_EVENT_FIELDS = {name: {**PROPERTIES["track"], **event.properties} for name, event in EVENTS.items()}
_EVENT_NORMAL = {name: _by_normal(fields) for name, fields in _EVENT_FIELDS.items()}


def reserved_fields(event: dict[str, Any]) -> tuple[str, dict[str, Any] | None, dict[str, str] | None]:
    """Where an event keeps its typed fields, their Spec types, and their names by normal form."""
    kind = event.get("type")
    if kind in ("identify", "group"):
        return "traits", TRAITS[kind], _NORMAL[kind]
    if kind == "track":
        semantic = semantic_event(event.get("event"))
        if semantic is not None:
            return "properties", _EVENT_FIELDS[semantic.name], _EVENT_NORMAL[semantic.name]
        return "properties", PROPERTIES["track"], _NORMAL["track"]
    if kind in ("page", "screen"):
        return "properties", PROPERTIES[kind], _NORMAL[kind]
    return "", None, None


@event_check
def properties(lint: Lint) -> None:
    where, fields, by_normal = reserved_fields(lint.event)
    values = lint.event.get(where) if where else None
    if not isinstance(values, dict) or fields is None or by_normal is None:
        return
    path = f"$.{where}"
    check_fields(lint, values, fields, path)
    seen: dict[str, str] = {}
    for key in values:
        if not isinstance(key, str):
            continue
        norm = normal(key)
        if norm in seen:
            lint.add("SPEC031", f"{shown(seen[norm])} and {shown(key)} are the same {_ONE[where]} in "
                     "two casings; destinations may read either", member(path, key))
            continue
        seen[norm] = key
        canonical = by_normal.get(norm)
        if canonical is not None and canonical != key and canonical not in values:
            lint.add("SPEC030", f"{shown(key)} is the reserved {_ONE[where]} `{canonical}` in another "
                     f"casing; destinations that look for `{canonical}` miss it", member(path, key))

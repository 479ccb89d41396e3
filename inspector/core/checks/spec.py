"""The Segment Spec as data: `spec.json` loaded once, with the look-up tables the checks use.

The file holds what `../shared/reference/segment.md` says of the Spec: reserved traits
and properties with their types, every semantic event of each industry spec, and the
v1 and vendor-native names people send instead.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

_DATA = json.loads(resources.files(__package__).joinpath("spec.json").read_text(encoding="utf-8"))

TYPES: tuple[str, ...] = tuple(_DATA["types"])
PRODUCT: dict[str, Any] = _DATA["product"]
OBJECTS: dict[str, dict[str, Any]] = _DATA["objects"]
TRAITS: dict[str, dict[str, Any]] = _DATA["traits"]
PROPERTIES: dict[str, dict[str, Any]] = _DATA["properties"]

SPEC_LINK = "https://segment.com/docs/connections/spec/"
LINKS = {
    "common": SPEC_LINK + "common/",
    "identify": SPEC_LINK + "identify/",
    "track": SPEC_LINK + "track/",
    "page": SPEC_LINK + "page/",
    "screen": SPEC_LINK + "screen/",
    "group": SPEC_LINK + "group/",
    "alias": SPEC_LINK + "alias/",
    "delete": "https://segment.com/docs/partners/spec/",
}

# Separators Segment's own event matching ignores (analytics-events, obj-case).
_DROP = str.maketrans("", "", " _-.")


def normal(name: str) -> str:
    """A name as Segment's matching sees it: lower case, no spaces, underscores or dashes."""
    return _remembered_normal(name) if len(name) <= 64 else name.lower().translate(_DROP)


@functools.lru_cache(maxsize=4096)
def _remembered_normal(name: str) -> str:
    """Short names only: the same few property and trait names come with every event."""
    return name.lower().translate(_DROP)


@dataclass(frozen=True, slots=True)
class SemanticEvent:
    name: str
    spec: str
    title: str
    link: str
    properties: dict[str, Any]


EVENTS: dict[str, SemanticEvent] = {}
for spec_id, spec in _DATA["specs"].items():
    for event_name, shape in spec["events"].items():
        properties = dict(shape.get("properties", {}))
        if shape.get("product"):
            properties = {**PRODUCT, **properties}
        EVENTS[event_name] = SemanticEvent(event_name, spec_id, spec["title"], spec["link"], properties)


def _reversed(name: str) -> str:
    """`Order Completed` as `Completed Order`: the action first, as v1 named events."""
    words = name.split()
    return " ".join([words[-1], *words[:-1]])


# normalized name -> (spec event name, how it went wrong)
NEAR: dict[str, tuple[str, str]] = {}
for event_name in EVENTS:
    NEAR.setdefault(normal(_reversed(event_name)), (event_name, "order"))
for old, new in _DATA["v1_names"].items():
    NEAR[normal(old)] = (new, "v1")
for event_name in EVENTS:
    NEAR[normal(event_name)] = (event_name, "case")
VENDOR: dict[str, str] = dict(_DATA["vendor_names"])
for vendor, target in _DATA["vendor_names"].items():
    NEAR.setdefault(normal(vendor), (target, "vendor"))


def semantic_event(name: object) -> SemanticEvent | None:
    """The semantic event a track name is, or nearly is (`order_completed`, `Purchase`)."""
    if not isinstance(name, str):
        return None
    event = EVENTS.get(name)
    if event is None:
        target = VENDOR.get(name) or NEAR.get(normal(name), (None, ""))[0]
        event = EVENTS.get(target) if target else None
    return event

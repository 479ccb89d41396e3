"""The envelope every event shares: its type, the ids it must carry, and field types."""

from __future__ import annotations

from . import Lint, check, event_check
from .spec import LINKS, TYPES
from .types import check_value, described, is_number

_ID = '"userId": "u1", "messageId": "m1"'
_TRACK = '{"type": "track", "event": "Signed Up", '

check("SPEC002", "error", "The event has no type",
      bad='{"event": "Signed Up", ' + _ID + "}", good=_TRACK + _ID + "}", link=LINKS["common"])
check("SPEC003", "error", "The type is not one of identify, track, page, screen, group, alias, delete",
      bad='{"type": "Track", "event": "Signed Up", ' + _ID + "}", good=_TRACK + _ID + "}",
      link=LINKS["common"])
check("SPEC004", "error", "A track has no event name",
      bad='{"type": "track", ' + _ID + "}", good=_TRACK + _ID + "}", link=LINKS["track"])
check("SPEC005", "error", "A group has no groupId",
      bad='{"type": "group", ' + _ID + "}", good='{"type": "group", "groupId": "g1", ' + _ID + "}",
      link=LINKS["group"])
check("SPEC006", "error", "An alias lacks previousId or userId",
      bad='{"type": "alias", ' + _ID + "}", good='{"type": "alias", "previousId": "a1", ' + _ID + "}",
      link=LINKS["alias"])
check("SPEC007", "error", "A delete has no userId",
      bad='{"type": "delete", "messageId": "m1"}', good='{"type": "delete", ' + _ID + "}",
      link=LINKS["delete"])
check("SPEC008", "error", "Neither userId nor anonymousId is set",
      bad=_TRACK + '"userId": null, "messageId": "m1"}',
      good=_TRACK + '"userId": null, "anonymousId": "a1", "messageId": "m1"}', link=LINKS["common"])
check("SPEC009", "warning", "An id is a number or an empty string; Segment's libraries send non-empty strings",
      bad=_TRACK + '"userId": 42, "messageId": "m1"}', good=_TRACK + '"userId": "42", "messageId": "m1"}',
      link=LINKS["common"])
check("SPEC010", "error", "An id is an object, array or boolean",
      bad=_TRACK + '"userId": {"id": 42}, "messageId": "m1"}', good=_TRACK + _ID + "}",
      link=LINKS["common"])
check("SPEC011", "warning", "The event has no messageId, which Segment always sets",
      bad=_TRACK + '"userId": "u1"}', good=_TRACK + _ID + "}", link=LINKS["common"])
check("SPEC012", "error", "The messageId is not a string of at most 100 characters",
      bad=_TRACK + '"userId": "u1", "messageId": 7}', good=_TRACK + _ID + "}", link=LINKS["common"])
check("SPEC015", "error", "context, integrations, traits or properties is not an object",
      bad=_TRACK + _ID + ', "properties": ["plan", "Pro"]}',
      good=_TRACK + _ID + ', "properties": {"plan": "Pro"}}', link=LINKS["common"])

_NEEDS = {"track": ("event",), "group": ("groupId",), "alias": ("previousId", "userId"),
          "delete": ("userId",)}
_NEEDS_CODE = {"track": "SPEC004", "group": "SPEC005", "alias": "SPEC006", "delete": "SPEC007"}
_IDS = ("userId", "anonymousId", "groupId", "previousId")
_OBJECTS = ("context", "integrations", "traits", "properties")
_LOWER = {kind.lower(): kind for kind in TYPES}


def _a(kind: str) -> str:
    """`an identify`, `a track`: the call type with its article."""
    return f"an {kind}" if kind[:1] in "aeiou" else f"a {kind}"


def _present(value: object) -> bool:
    return value is not None and value != ""


@event_check
def envelope(lint: Lint) -> None:
    event = lint.event
    kind = event.get("type")
    if kind is None:
        lint.add("SPEC002", "the event has no `type`; Segment sends one of " + ", ".join(TYPES))
    elif kind not in TYPES:
        hint = f"; write {_LOWER[kind.lower()]!r}" if isinstance(kind, str) and kind.lower() in _LOWER else ""
        lint.add("SPEC003", f"type {described(kind)} is not one of {', '.join(TYPES)}{hint}", "$.type")
    if isinstance(kind, str):  # not another JSON value, which may not even be hashable
        for field in _NEEDS.get(kind, ()):
            if not _present(event.get(field)):
                message = (f"{_a(kind)} needs `{field}`" if kind != "track"
                           else "a track needs `event`, the name of what happened")
                lint.add(_NEEDS_CODE[kind], message, f"$.{field}")
    if kind in ("identify", "track", "page", "screen", "group") and not (
            _present(event.get("userId")) or _present(event.get("anonymousId"))):
        lint.add("SPEC008", f"{_a(kind)} needs a userId or an anonymousId", "$")
    for field in _IDS:
        value = event.get(field)
        if value is None or (isinstance(value, str) and value):
            continue
        if is_number(value):
            lint.add("SPEC009", f"`{field}` is the number {value!r}; send it as a string", f"$.{field}")
        elif value == "":
            if field in ("userId", "anonymousId"):
                lint.add("SPEC009", f"`{field}` is an empty string; leave it out or send null", f"$.{field}")
        else:
            lint.add("SPEC010", f"`{field}` should be a non-empty string, not {described(value)}", f"$.{field}")
    message_id = event.get("messageId")
    if message_id is None:
        lint.add("SPEC011", "no `messageId`: Segment sets one on every event, and destinations "
                 "dedupe on it", "$")
    elif not isinstance(message_id, str) or len(message_id) > 100:
        what = f"{len(message_id)} characters long" if isinstance(message_id, str) else described(message_id)
        lint.add("SPEC012", f"`messageId` must be a string of at most 100 characters; it is {what}",
                 "$.messageId")
    for field in _OBJECTS:
        value = event.get(field)
        if value is None or isinstance(value, dict):
            continue
        if value == [] and kind == "delete" and field in ("context", "integrations"):
            continue  # Segment's own delete examples send [] here
        lint.add("SPEC015", f"`{field}` should be an object, not {described(value)}", f"$.{field}")
    name = event.get("event")
    if kind == "track" and name is not None and not isinstance(name, str):
        lint.add("SPEC004", f"`event` should be a string naming what happened, not {described(name)}",
                 "$.event")
    for field in ("name", "category"):
        check_value(lint, event.get(field), "string", f"$.{field}", f"`{field}`")

"""Whether a value has the type the Spec gives it.

The Spec's types are words in `spec.json` ("number", "date", "products", ...). A value
of another type is a warning, never an error: no destination rejects an event because
one property has the wrong type. It may misread it, though: SPEC020 is a value it
cannot sum or iterate (`revenue: "19.99"`), SPEC021 one it usually converts
(`order_id: 5012`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import Lint, check, member, shown
from .spec import LINKS, OBJECTS, PRODUCT

_EXAMPLE = '{"type": "track", "event": "Order Completed", "userId": "u1", "messageId": "m1", '

_SEMANTIC = "https://segment.com/docs/connections/spec/semantic/"

check("SPEC020", "warning", "A value the Spec types as a number, boolean, object or array has another type",
      bad=_EXAMPLE + '"properties": {"revenue": "19.99"}}',
      good=_EXAMPLE + '"properties": {"revenue": 19.99}}', link=LINKS["track"])
check("SPEC021", "warning", "A value the Spec types as a string (or a whole number) has another type",
      bad=_EXAMPLE + '"properties": {"order_id": 5012}}',
      good=_EXAMPLE + '"properties": {"order_id": "5012"}}', link=_SEMANTIC)
check("SPEC022", "warning", "A date is not an ISO-8601 string",
      bad='{"type": "identify", "userId": "u1", "messageId": "m1", "traits": {"birthday": "10-12-1988"}}',
      good='{"type": "identify", "userId": "u1", "messageId": "m1", "traits": {"birthday": "1988-10-12"}}',
      link=LINKS["identify"])
check("SPEC023", "warning", "A currency code is not in upper case",
      bad=_EXAMPLE + '"properties": {"revenue": 19.99, "currency": "usd"}}',
      good=_EXAMPLE + '"properties": {"revenue": 19.99, "currency": "USD"}}', link=LINKS["track"])
check("SPEC024", "warning", "A currency is not an ISO 4217 code",
      bad=_EXAMPLE + '"properties": {"revenue": 19.99, "currency": "dollars"}}',
      good=_EXAMPLE + '"properties": {"revenue": 19.99, "currency": "USD"}}', link=LINKS["track"])
check("SPEC025", "warning", "A value is not one of those the Spec lists",
      bad='{"type": "track", "event": "Video Ad Started", "userId": "u1", "messageId": "m1", '
          '"properties": {"type": "pre roll"}}',
      good='{"type": "track", "event": "Video Ad Started", "userId": "u1", "messageId": "m1", '
           '"properties": {"type": "pre-roll"}}', link="https://segment.com/docs/connections/spec/video/")

_JSON_NAMES = {str: "a string", bool: "a boolean", int: "a number", float: "a number",
               dict: "an object", list: "an array"}


def described(value: Any) -> str:
    """`the string "19.99"`, `the number 5012`, `an object`: what was sent, shortly."""
    if isinstance(value, str):
        return f"the string {shown(value, 40)}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"[:60]
    return _JSON_NAMES.get(type(value), type(value).__name__)


def iso_datetime(value: str) -> datetime | None:
    """The datetime of an ISO-8601 string (`2026-11-26T10:00:00.000Z`, `1988-10-12`), or None."""
    if len(value) < 10 or value[4:5] != "-" or value[7:8] != "-":
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_value(lint: Lint, value: Any, kind: Any, path: str, name: str) -> None:
    """Add the finding, if any, for `value` at `path`, which the Spec types as `kind`."""
    if value is None or kind == "any":
        return
    if isinstance(kind, list):
        for option in kind:
            trial = Lint(lint.event, lint.now, lint.index)
            check_value(trial, value, option, path, name)
            if not trial.findings:
                return
        check_value(lint, value, kind[0], path, name)
        return
    if isinstance(kind, dict):
        _check_container(lint, value, kind, path, name)
        return
    if kind == "string":
        if not isinstance(value, str):
            code = "SPEC020" if isinstance(value, (dict, list)) else "SPEC021"
            lint.add(code, f"{name} should be a string, not {described(value)}", path)
    elif kind == "number":
        if not is_number(value):
            hint = f"; send {value.strip()} without quotes" if isinstance(value, str) and _numeric(value) else ""
            lint.add("SPEC020", f"{name} should be a number, not {described(value)}{hint}", path)
    elif kind == "integer":
        if not is_number(value):
            lint.add("SPEC020", f"{name} should be a whole number, not {described(value)}", path)
        elif isinstance(value, float) and not value.is_integer():
            lint.add("SPEC021", f"{name} should be a whole number, not {value!r}", path)
    elif kind == "boolean":
        if not isinstance(value, bool):
            lint.add("SPEC020", f"{name} should be true or false, not {described(value)}", path)
    elif kind in ("object", "array", "strings"):
        wanted = dict if kind == "object" else list
        if not isinstance(value, wanted):
            lint.add("SPEC020", f"{name} should be {_JSON_NAMES[wanted]}, not {described(value)}", path)
        elif kind == "strings":
            for index, item in enumerate(value):
                if item is not None and not isinstance(item, str):
                    lint.add("SPEC021", f"{name} should hold strings, not {described(item)}", f"{path}[{index}]")
    elif kind == "date":
        if not isinstance(value, str) or iso_datetime(value) is None:
            lint.add("SPEC022", f"{name} should be an ISO-8601 date such as 1988-10-12 or "
                     f"2026-11-26T10:00:00Z, not {described(value)}", path)
    elif kind == "currency":
        if not isinstance(value, str) or len(value) != 3 or not value.isascii() or not value.isalpha():
            lint.add("SPEC024", f"{name} should be a three-letter ISO 4217 code such as USD, "
                     f"not {described(value)}", path)
        elif not value.isupper():
            lint.add("SPEC023", f"{name} {shown(value)} should be upper case: {value.upper()!r}", path)
    elif kind == "products":
        _check_items(lint, value, PRODUCT, path, name)
    elif kind in OBJECTS:
        _check_container(lint, value, {"object": OBJECTS[kind]}, path, name)


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_container(lint: Lint, value: Any, kind: dict[str, Any], path: str, name: str) -> None:
    if "enum" in kind:
        if value not in kind["enum"]:
            allowed = ", ".join(kind["enum"])
            lint.add("SPEC025", f"{name} should be one of {allowed}, not {described(value)}", path)
    elif "object" in kind:
        if not isinstance(value, dict):
            lint.add("SPEC020", f"{name} should be an object, not {described(value)}", path)
            return
        check_fields(lint, value, kind["object"], path)
    elif "array" in kind:
        _check_items(lint, value, kind["array"], path, name)


def _check_items(lint: Lint, value: Any, fields: dict[str, Any], path: str, name: str) -> None:
    if not isinstance(value, list):
        lint.add("SPEC020", f"{name} should be an array of objects, not {described(value)}", path)
        return
    for index, item in enumerate(value):
        where = f"{path}[{index}]"
        if not isinstance(item, dict):
            if item is not None:
                lint.add("SPEC020", f"{name} should hold objects, not {described(item)}", where)
            continue
        check_fields(lint, item, fields, where)


def check_fields(lint: Lint, values: dict[str, Any], fields: dict[str, Any], path: str) -> None:
    """Check each field of `values` that the Spec types in `fields`."""
    for key, value in values.items():
        kind = fields.get(key)
        if kind is not None and value is not None and kind != "any":  # else nothing to check
            check_value(lint, value, kind, member(path, key), f"`{key}`")

"""Fields: each builds a match from a field token (`type:track`, `status>=400`, `since:10m`)."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import UTC, datetime
from operator import attrgetter

from inspector.core import values
from inspector.core.model import SEVERITIES, Summary, segment_outcome

from .nodes import Match
from .tokens import QueryError, Token

Clock = Callable[[], float]  # the moment relative times count back from, read once per query
Build = Callable[[Clock, str, Token], Match]

ROW_NEEDLES = ("user", "anon", "message", "id")


def _equals(value: str) -> Callable[[str], object]:
    """A test of a lower-cased string: equal to `value`, where `*` is any run of characters."""
    wanted = value.lower()
    if "*" not in wanted:
        return wanted.__eq__
    return re.compile(".*".join(map(re.escape, wanted.split("*"))), re.DOTALL).fullmatch


def _list_field(attribute: str) -> Build:
    """A field with one entry per event or finding: it matches when any entry does."""
    def build(now: Clock, name: str, token: Token) -> Match:
        test, get = _equals(token.text), attrgetter(attribute)

        def match(summary: Summary) -> bool:
            for item in get(summary):
                if test(item.lower()):
                    return True
            return False

        return match

    return build


def _text_field(attribute: str) -> Build:
    """A field of the request itself; absent (None) never matches."""
    def build(now: Clock, name: str, token: Token) -> Match:
        test, get = _equals(token.text), attrgetter(attribute)

        def match(summary: Summary) -> bool:
            value = get(summary)
            return value is not None and bool(test(value.lower()))

        return match

    return build


def _severity(now: Clock, name: str, token: Token) -> Match:
    if "*" not in token.text and token.text.lower() not in SEVERITIES:
        raise QueryError(f"unknown severity '{token.text}'; severities are {', '.join(SEVERITIES)}",
                         token.value_pos)
    return _list_field("severities")(now, name, token)


_COMPARE = {":": operator.eq, "=": operator.eq, "!=": operator.ne, ">": operator.gt,
            ">=": operator.ge, "<": operator.lt, "<=": operator.le}
_NUMBER = re.compile(r"[0-9]{1,9}")
_STATUS_CLASS = re.compile(r"([1-5])xx", re.IGNORECASE)
NUMBER_FIELDS = ("status", "redelivery")


def _number(token: Token, what: str) -> int:
    if not _NUMBER.fullmatch(token.text):
        raise QueryError(f"expected {what}, not '{token.text}'", token.value_pos)
    return int(token.text)


def _status(now: Clock, name: str, token: Token) -> Match:
    status_class = _STATUS_CLASS.fullmatch(token.text)
    if status_class and token.op in (":", "=", "!="):
        low = int(status_class[1]) * 100
        inside = token.op != "!="
        return lambda s: s.status is not None and (low <= s.status < low + 100) == inside
    what = "a status like 200 or a class like 4xx" if token.op in (":", "=", "!=") else "a number"
    wanted = _number(token, what)
    compare = _COMPARE[token.op]
    return lambda s: s.status is not None and compare(s.status, wanted)


def _redelivery(now: Clock, name: str, token: Token) -> Match:
    wanted = _number(token, "a number")
    compare = _COMPARE[token.op]
    return lambda s: compare(s.redelivery, wanted)


def instant(now: Clock, token: Token) -> float:
    """Epoch seconds for `10m` (ago) or an ISO-8601 date or time, UTC unless it says."""
    try:  # the unit is needed: a bare number could be a year
        return now() - values.duration(token.text, unit=None, positive=False)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(token.text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    except (ValueError, OverflowError):
        raise QueryError(f"expected a duration like 10m, 2h, 3d or a time like "
                         f"2026-11-26T10:00:00Z, not '{token.text}'", token.value_pos) from None


def _since(now: Clock, name: str, token: Token) -> Match:
    start = instant(now, token)
    return lambda s: s.time >= start


def _until(now: Clock, name: str, token: Token) -> Match:
    end = instant(now, token)
    return lambda s: s.time < end


def _outcome(outcome: str) -> Match:
    return lambda s: s.status is not None and segment_outcome(s.status) == outcome


HAS: dict[str, Match] = {
    "findings": lambda s: bool(s.codes),
    "errors": lambda s: "error" in s.severities,
    "warnings": lambda s: "warning" in s.severities,
    "key": lambda s: bool(s.key),
    "body": lambda s: s.body,
}

IS: dict[str, Match] = {
    "redelivery": lambda s: s.redelivery > 0,
    "held": lambda s: s.held,
    "batch": lambda s: len(s.types) > 1,
    "delivered": _outcome("delivered"),
    "retried": _outcome("retried"),
    "dropped": _outcome("dropped"),
}


def _named(table: dict[str, Match]) -> Build:
    def build(now: Clock, name: str, token: Token) -> Match:
        match = table.get(token.text.lower())
        if match is None:
            raise QueryError(f"unknown '{name}:{token.text}'; {name}: takes {', '.join(table)}",
                             token.value_pos)
        return match

    return build


FIELDS: dict[str, Build] = {
    "type": _list_field("types"),
    "event": _list_field("names"),
    "user": _list_field("users"),
    "anon": _list_field("anons"),
    "message": _list_field("messages"),
    "status": _status,
    "path": _text_field("path"),
    "key": _text_field("key"),
    "finding": _list_field("codes"),
    "severity": _severity,
    "method": _text_field("method"),
    "id": _text_field("id"),
    "kind": _text_field("kind"),
    "redelivery": _redelivery,
    "since": _since,
    "until": _until,
    "has": _named(HAS),
    "is": _named(IS),
}



# The Summary field each query field reads, where the names differ.
READS = {"type": "types", "event": "names", "user": "users", "anon": "anons", "message": "messages",
          "finding": "codes", "severity": "severities", "since": "time", "until": "time",
          "has": "facet", "is": "facet"}

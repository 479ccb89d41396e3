"""A tracking plan inferred from kept events, and what the traffic disagrees on.

genson merges the samples into one schema per rule: one rule per track event name (its
`properties`), one for identify traits, one for group traits. What genson decides: each
type seen (`integer` until a float is seen, then `number`; several types as a list), the
properties present in every sample `required`, array items merged, nested objects alike.
Strings get `format: date-time` or `email` only when every sample is one, by the same
validator that checks the plan, so the events a plan is inferred from always conform to it.
A plan cannot say that the traffic disagrees with itself, so the report does: a property
seen with several types (how often, an exchange for each), a property sometimes missing,
names that differ only in case or separators (`orderId`, `order_id`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import jsonschema_rs
from genson import SchemaBuilder
from genson.schema.strategies import String

from ..checks.spec import normal
from ..intake import events_of, parse_body
from ..model import Exchange
from .checking import BY_CALL, path_of
from .plan import DRAFT_07, Plan, Rule, compile_schema

FORMATS = {name: jsonschema_rs.validator_for({"type": "string", "format": name}, validate_formats=True)
           for name in ("date-time", "email")}
LOOKS_LIKE: dict[str, Callable[[str], bool]] = {
    "date-time": lambda text: text[:1].isdigit() and "T" in text, "email": lambda text: "@" in text}
CALLS = ("track", "identify", "page", "screen", "group", "alias")
RULES = {call: BY_CALL[call] for call in ("track", "identify", "group")}  # the rules inferred


class FormattedString(String):
    """genson's string, with the format every sample has (date-time, email), if one."""

    def __init__(self, node_class: Any) -> None:
        super().__init__(node_class)
        self._formats: set[str] | None = None

    def add_object(self, obj: Any) -> None:
        super().add_object(obj)
        fits = {name for name, looks in LOOKS_LIKE.items() if looks(obj) and FORMATS[name].is_valid(obj)}
        self._formats = fits if self._formats is None else self._formats & fits

    def add_schema(self, schema: dict[str, Any]) -> None:
        super().add_schema(schema)
        fits = {schema["format"]} if schema.get("format") in FORMATS else set()
        self._formats = fits if self._formats is None else self._formats & fits

    def to_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = super().to_schema()
        if self._formats:
            schema["format"] = sorted(self._formats)[0]
        return schema


class Builder(SchemaBuilder):
    EXTRA_STRATEGIES = (FormattedString,)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "string")


@dataclass(slots=True)
class Disagreement:
    """Something the traffic does not agree on, under one rule."""

    kind: str  # "types", "missing", "names"
    rule: str
    path: str
    text: str
    ids: list[str] = field(default_factory=list)  # an exchange for each side

    def to_doc(self) -> dict[str, Any]:
        return {"kind": self.kind, "rule": self.rule, "path": self.path, "text": self.text, "ids": self.ids}


@dataclass(slots=True)
class _Seen:
    """One rule's samples: their count, each object's count, each property's types."""

    samples: int = 0
    objects: dict[tuple[str, ...], int] = field(default_factory=dict)  # path -> samples where it was an object
    # path -> type -> [count, the first exchange with it]
    types: dict[tuple[str, ...], dict[str, list[Any]]] = field(default_factory=dict)

    def add(self, value: Any, exchange_id: str, path: tuple[str, ...] = ()) -> None:
        if not isinstance(value, dict):
            return
        self.objects[path] = self.objects.get(path, 0) + 1
        for key, item in value.items():
            where = (*path, key)
            kind = "number" if json_type(item) == "integer" else json_type(item)  # JSON has one number
            entry = self.types.setdefault(where, {}).setdefault(kind, [0, exchange_id])
            entry[0] += 1
            self.add(item, exchange_id, where)


@dataclass(slots=True)
class Inferred:
    plan: Plan
    samples: int
    counts: dict[str, int]  # rule name -> samples
    disagreements: list[Disagreement]

    def to_doc(self) -> dict[str, Any]:
        return {"samples": self.samples, "rules": self.counts,
                "disagreements": [item.to_doc() for item in self.disagreements]}


def samples_of(exchanges: Iterable[Exchange]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(exchange id, event) for every event object the exchanges carry, each messageId once:
    a call an SDK sent and the delivery that carried it on are one event."""
    seen: set[str] = set()
    for exchange in exchanges:
        if exchange.kind == "review" or not exchange.body:
            continue
        data, error = parse_body(exchange.content)
        if error is not None:
            continue
        path_call = exchange.path.rsplit("/", 1)[-1]
        typed = next((call for call in CALLS if path_call in (call, call[0])), None) \
            if exchange.kind == "source" and "type" not in (data if isinstance(data, dict) else {}) else None
        for event in events_of(data):
            if not isinstance(event, dict):
                continue
            if typed is not None and "type" not in event:
                event = {**event, "type": typed}
            message_id = event.get("messageId")
            if isinstance(message_id, str) and message_id:
                if message_id in seen:
                    continue
                seen.add(message_id)
            yield exchange.id, event


def _rule_of(event: dict[str, Any]) -> tuple[str, str | None, str] | None:
    kind = event.get("type")
    if kind not in RULES:
        return None
    rule_type, part = RULES[kind]
    name = event.get("event") if kind == "track" else None
    if kind == "track" and (not isinstance(name, str) or not name):
        return None
    return rule_type, name, part


def infer(samples: Iterable[tuple[str, dict[str, Any]]]) -> Inferred:
    """The plan the samples make, and what they disagree on."""
    builders: dict[tuple[str, str | None], tuple[Builder, str]] = {}
    seen: dict[tuple[str, str | None], _Seen] = {}
    with_part: dict[tuple[str, str | None], int] = {}
    total = 0
    for exchange_id, event in samples:
        found = _rule_of(event)
        if found is None:
            continue
        rule_type, name, part = found
        key = (rule_type, name)
        builder, _ = builders.setdefault(key, (Builder(schema_uri=None), part))
        record = seen.setdefault(key, _Seen())
        record.samples += 1
        total += 1
        value = event.get(part)
        if part in event:
            with_part[key] = with_part.get(key, 0) + 1
            builder.add_object(value)
            record.add(value, exchange_id)
    rules: list[Rule] = []
    disagreements: list[Disagreement] = []
    counts: dict[str, int] = {}
    for (rule_type, name), (builder, part) in sorted(builders.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        inner = builder.to_schema() if with_part.get((rule_type, name)) else {}
        inner.pop("$schema", None)
        schema: dict[str, Any] = {"$schema": DRAFT_07, "type": "object", "properties": {part: inner}}
        if with_part.get((rule_type, name), 0) == seen[(rule_type, name)].samples:
            schema["required"] = [part]
        rule = Rule(rule_type, name, 1, schema, compile_schema(schema))
        rules.append(rule)
        counts[rule.name] = seen[(rule_type, name)].samples
        disagreements += _disagreements(rule.name, part, seen[(rule_type, name)])
    disagreements += _near_events([rule.key for rule in rules if rule.key is not None])
    return Inferred(Plan(rules, "inferred"), total, counts, disagreements)


def _disagreements(rule: str, part: str, seen: _Seen) -> list[Disagreement]:
    found: list[Disagreement] = []
    for path, kinds in seen.types.items():
        shown = path_of((part, *path))
        ordered = sorted(kinds.items(), key=lambda item: -item[1][0])
        if len(kinds) > 1:
            found.append(Disagreement("types", rule, shown, "seen as " + ", ".join(
                f"{kind} {count}×" for kind, (count, _) in ordered), [first for _, (_, first) in ordered]))
        of = seen.objects.get(path[:-1], 0)
        present = sum(count for count, _ in kinds.values())
        if 0 < present < of:
            found.append(Disagreement("missing", rule, shown, f"missing from {of - present} of {of} samples",
                                      [ordered[0][1][1]]))
    names: dict[tuple[tuple[str, ...], str], set[str]] = {}
    for path in seen.types:
        names.setdefault((path[:-1], normal(path[-1])), set()).add(path[-1])
    for (parent, _), spelled in names.items():
        if len(spelled) > 1:
            found.append(Disagreement("names", rule, path_of((part, *parent)),
                                      "names that differ only in case or separators: " + ", ".join(sorted(spelled))))
    return found


def _near_events(names: list[str]) -> list[Disagreement]:
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(normal(name), []).append(name)
    return [Disagreement("names", "TRACK", "$.event", "event names that differ only in case or separators: "
                         + ", ".join(sorted(group))) for group in groups.values() if len(group) > 1]

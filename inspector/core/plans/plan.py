"""A tracking plan: rules read from Segment's Public API form or a plain map, each compiled once.

A rule is a JSON Schema (draft-04, -06 or -07) for the whole payload of one kind of event:
`TRACK` keyed by the event name, `IDENTIFY`/`GROUP` (traits), `PAGE`/`SCREEN`, and `COMMON`
for every event. A plan is checked whole before it is used: not JSON, a schema that is not
valid, a `$ref` out of the document (never fetched) or a pattern with a look-around or a
back-reference (Segment forbids them; a backtracking engine could hang on them) is a
`PlanError` naming the file and the rule, and nothing of the plan is loaded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson

RULE_TYPES = ("COMMON", "TRACK", "IDENTIFY", "GROUP", "PAGE", "SCREEN")
DRAFT_07 = "http://json-schema.org/draft-07/schema#"
DRAFTS = {
    "http://json-schema.org/draft-04/schema": jsonschema_rs.Draft4Validator,
    "http://json-schema.org/draft-06/schema": jsonschema_rs.Draft6Validator,
    "http://json-schema.org/draft-07/schema": jsonschema_rs.Draft7Validator,
}
# (?=  (?!  (?<=  (?<!  and \1 or \k<name>: look-arounds and back-references
UNSAFE_PATTERN = re.compile(r"\(\?<?[=!]|\\[1-9]|\\k<")


class PlanError(ValueError):
    """Why a plan cannot be used: the file, the rule and what is wrong with it."""


@dataclass(slots=True)
class Rule:
    """One rule: which events it is for, its version, and its schema compiled."""

    type: str
    key: str | None
    version: int
    schema: dict[str, Any]
    validator: Any = field(repr=False, compare=False)
    extra: dict[str, Any] = field(default_factory=dict)  # createdAt, updatedAt, ... kept for the way out

    @property
    def name(self) -> str:
        """The rule as the user reads it: `TRACK "Order Completed" v2`."""
        key = f" {self.key!r}" if self.key is not None else ""
        return f"{self.type}{key} v{self.version}"

    def to_doc(self) -> dict[str, Any]:
        return {"type": self.type, "key": self.key, "version": self.version, "jsonSchema": self.schema,
                **self.extra}


def _walk(schema: Any, path: str = "#") -> Iterator[tuple[str, str, Any]]:
    """Every keyword of a schema document with where it is: (path, keyword, value)."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            yield path, key, value
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            yield from _walk(value, f"{path}/{index}")


def _refused(schema: dict[str, Any]) -> str | None:
    """What in a schema is refused before compiling it, or None."""
    for path, key, value in _walk(schema):
        if key == "$ref" and isinstance(value, str) and not value.startswith("#"):
            return (f"$ref {value[:200]!r} at {path} points outside the plan: references to other "
                    "documents or URLs are never fetched; put the definition under definitions")
        patterns = [value] if key == "pattern" and isinstance(value, str) else \
            list(value) if key == "patternProperties" and isinstance(value, dict) else []
        for pattern in patterns:
            if UNSAFE_PATTERN.search(pattern):
                return (f"pattern {pattern[:200]!r} at {path} has a look-around or a back-reference: "
                        "Segment's plans do not allow them (use not, or an enum)")
    return None


def compile_schema(schema: Any) -> Any:
    """A validator for a schema, ValueError saying why it is not one we use."""
    if not isinstance(schema, dict):
        raise ValueError("jsonSchema is not a JSON object")
    refused = _refused(schema)
    if refused is not None:
        raise ValueError(refused)
    declared = schema.get("$schema", DRAFT_07)
    draft = DRAFTS.get(str(declared).split("#")[0].rstrip("/")) if isinstance(declared, str) else None
    if draft is None:
        raise ValueError(f"$schema {str(declared)[:100]!r} is not draft-04, -06 or -07")
    try:
        return draft(schema, validate_formats=True, offline=True, pattern_options=jsonschema_rs.RegexOptions())
    except jsonschema_rs.ValidationError as err:
        raise ValueError(f"not a valid JSON Schema: {err.message}"
                         + (f" at {'/'.join(map(str, err.instance_path))}" if err.instance_path else "")) from None
    except Exception as err:  # a referencing error, a pattern the engine refuses
        raise ValueError(f"not a valid JSON Schema: {str(err).splitlines()[0]}") from None


@dataclass(slots=True)
class Plan:
    """The rules of a tracking plan, found by type, name and version."""

    rules: list[Rule]
    source: str = ""
    _index: dict[tuple[str, str | None], dict[int, Rule]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for rule in self.rules:
            versions = self._index.setdefault((rule.type, rule.key), {})
            if rule.version in versions:
                raise PlanError(f"{self.source}: {rule.name} is in the plan twice")
            versions[rule.version] = rule

    def versions(self, type_: str, key: str | None = None) -> dict[int, Rule]:
        """A rule's versions, by number; empty when the plan has none of it."""
        return self._index.get((type_, key), {})

    @property
    def events(self) -> list[str]:
        """The planned track events' names."""
        return sorted({rule.key for rule in self.rules if rule.type == "TRACK" and rule.key is not None})

    def to_public_api(self) -> dict[str, Any]:
        """The plan as Segment's Public API lists a plan's rules, to upload to Protocols."""
        return {"rules": [rule.to_doc() for rule in self.rules]}


def _rule(item: Any, where: str) -> Rule:
    if not isinstance(item, dict):
        raise PlanError(f"{where}: a rule is a JSON object with type, key, version and jsonSchema")
    kind = item.get("type")
    if kind not in RULE_TYPES:
        raise PlanError(f"{where}: type {str(kind)[:60]!r} is not one of {', '.join(RULE_TYPES)}")
    key = item.get("key")
    if kind == "TRACK" and (not isinstance(key, str) or not key):
        raise PlanError(f"{where}: a TRACK rule's key is the event name, a non-empty string")
    if kind != "TRACK" and key not in (None, ""):
        raise PlanError(f"{where}: a {kind} rule has no key (it is for every {kind.lower()} event)")
    version = item.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise PlanError(f"{where}: version {str(version)[:20]!r} is not a positive integer")
    schema = item.get("jsonSchema")
    try:
        validator = compile_schema(schema)
    except ValueError as err:
        raise PlanError(f"{where}: {err}") from None
    assert isinstance(schema, dict)
    extra = {k: v for k, v in item.items() if k not in ("type", "key", "version", "jsonSchema")}
    return Rule(kind, key if kind == "TRACK" else None, version, schema, validator, extra)


def parse_plan(data: bytes, source: str = "the plan") -> Plan:
    """A plan from its JSON: `{"rules": [...]}` as the Public API gives it, or a map of track
    event name to the JSON Schema of its whole payload. PlanError for anything else."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as err:
        raise PlanError(f"{source}: not JSON ({err})") from None
    if isinstance(document, dict) and isinstance(document.get("data"), dict):
        document = document["data"]  # the Public API's answer wraps the rules in "data"
    if isinstance(document, dict) and isinstance(document.get("rules"), list):
        items = document["rules"]
        rules = [_rule(item, f"{source}: rule {index} ({_label(item)})") for index, item in enumerate(items)]
    elif isinstance(document, dict) and "rules" not in document:
        rules = [_rule({"type": "TRACK", "key": name, "version": 1, "jsonSchema": schema},
                       f"{source}: event {name!r}") for name, schema in document.items()]
    else:
        raise PlanError(f"{source}: a plan is {{\"rules\": [...]}} (Segment's Public API) or a map of "
                        "event name to JSON Schema")
    if not rules:
        raise PlanError(f"{source}: the plan has no rules")
    return Plan(rules, source)


def _label(item: Any) -> str:
    if not isinstance(item, dict):
        return "not an object"
    key = item.get("key")
    return f"{str(item.get('type'))[:20]}" + (f" {str(key)[:60]!r}" if key else "")


def load_plan(path: str | Path) -> Plan:
    """The plan in a file; PlanError when it cannot be read or used."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise PlanError(f"{path}: {err.strerror or err}") from None
    return parse_plan(data, str(path))

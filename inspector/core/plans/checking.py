"""Events checked against a tracking plan, as Protocols checks them: findings like the Spec's.

Each event meets the `COMMON` rule, then its own: a track's rule by its name and
`context.protocols.event_version` (version 1, or the lowest, when it names none), an
identify's, group's, page's or screen's rule when the plan has one. A schema's errors become
PLAN002..PLAN004 and PLAN006 with the path of the field at fault and the rule that failed;
properties or traits the rule does not list are PLAN005 (a warning), or PLAN006 when unplanned
properties are not allowed. The compiled validator answers first: an event that conforms costs
one call. Nothing here changes an event: `verdict` says what Schema Configuration would do.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from ..checks import Lint, is_tracking_batch, member, shown
from ..checks.plans import (
    FORBIDDEN_PROPERTY,
    MISSING,
    NO_VERSION,
    NOT_ALLOWED,
    UNPLANNED_EVENT,
    UNPLANNED_PROPERTY,
    WRONG_TYPE,
)
from ..checks.spec import normal
from ..model import Finding
from .plan import Plan, Rule, compile_schema

# What of an event each rule's unplanned fields are looked for in, by rule type
PARTS = {"TRACK": "properties", "PAGE": "properties", "SCREEN": "properties", "IDENTIFY": "traits",
         "GROUP": "traits"}
BY_CALL = {kind.lower(): (kind, part) for kind, part in PARTS.items()}  # "track": ("TRACK", "properties")
ERROR_CODES = {"Required": MISSING, "Type": WRONG_TYPE, "AdditionalProperties": FORBIDDEN_PROPERTY,
               "UnevaluatedProperties": FORBIDDEN_PROPERTY}
MAX_ERRORS = 20  # an event's schema errors shown; a hostile event could have thousands


def path_of(parts: Any) -> str:
    """A JSON path from a validator's instance path: `$.properties.items[0].sku`."""
    path = "$"
    for part in parts:
        path = f"{path}[{part}]" if isinstance(part, int) else member(path, str(part))
    return path


def declared(schema: Any) -> dict[str, Any] | None:
    """The properties a schema lists for an object (None: it says nothing about them)."""
    if not isinstance(schema, dict):
        return None
    listed = schema.get("properties")
    return listed if isinstance(listed, dict) else None


@dataclass(slots=True)
class Verdict:
    """What a plan says of one event: its rule, its findings, and the fields at fault."""

    rule: Rule | None
    findings: list[Finding] = field(default_factory=list)
    unplanned_event: bool = False
    unplanned: list[tuple[str | int, ...]] = field(default_factory=list)  # keys of unplanned properties/traits
    faulty: list[tuple[Any, ...]] = field(default_factory=list)  # instance paths of schema errors


def closed(schema: Any) -> bool:
    """Make every object the schema lists properties for refuse any other (in place), as the
    unplanned-property walk reads it; False when a level says more than its properties
    (`patternProperties`, a schema for others), which only that walk can tell apart."""
    if not isinstance(schema, dict):
        return True
    listed = schema.get("properties")
    if isinstance(listed, dict):
        if "patternProperties" in schema or schema.get("additionalProperties", False) is not False:
            return False
        schema["additionalProperties"] = False
        if not all(closed(item) for item in listed.values()):
            return False
    items = schema.get("items")
    return closed(items) if isinstance(items, dict) else True


def strict_validator(rule: Rule) -> Any:
    """A validator that passes an event only if it conforms and has no unplanned field: one
    call for the common case; None when the rule cannot be closed that way."""
    if rule.type == "COMMON":
        return None
    part = PARTS[rule.type]
    schema = copy.deepcopy(rule.schema)
    inner = (declared(schema) or {}).get(part)
    if not isinstance(inner, dict) or not closed(inner):
        return None
    try:
        return compile_schema(schema)
    except ValueError:
        return None


@dataclass(slots=True)
class Checking:
    """A plan, and whether unplanned properties are only a warning (Protocols' default)."""

    plan: Plan
    unplanned_properties: bool = True
    _strict: dict[int, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._strict = {id(rule): strict_validator(rule) for rule in self.plan.rules}

    def rule_for(self, event: dict[str, Any], lint: Lint) -> Rule | None:
        kind = event.get("type")
        wanted = BY_CALL.get(kind) if isinstance(kind, str) else None
        if wanted is None:
            return None
        key = event.get("event") if kind == "track" else None
        if kind == "track" and not isinstance(key, str):
            return None  # no name: the Spec linter says so
        versions = self.plan.versions(wanted[0], key)
        if not versions:
            if kind == "track":
                lint.add(UNPLANNED_EVENT, self._unplanned_text(str(key)), "$.event")
            return None
        context = event.get("context")
        protocols = context.get("protocols") if isinstance(context, dict) else None
        asked = protocols.get("event_version") if isinstance(protocols, dict) else None
        if isinstance(asked, int) and not isinstance(asked, bool):
            rule = versions.get(asked)
            if rule is None:
                lint.add(NO_VERSION, f"context.protocols.event_version is {asked}; the plan has "
                         f"{', '.join(f'v{n}' for n in sorted(versions))} of {wanted[0]}"
                         + (f" {shown(str(key))}" if key is not None else ""),
                         "$.context.protocols.event_version")
            return rule
        return versions.get(1) or versions[min(versions)]

    def _unplanned_text(self, name: str) -> str:
        near = [planned for planned in self.plan.events if normal(planned) == normal(name)]
        hint = f"; the plan has {shown(near[0])}, which differs only in case or separators" if near else ""
        return f"{shown(name)} is not in the tracking plan ({len(self.plan.events)} events){hint}"

    def verdict(self, event: Any, index: int | None = None) -> Verdict:
        """The plan's findings on one event, and what they are about."""
        if not isinstance(event, dict):
            return Verdict(None)  # the Spec linter's SPEC001
        lint = Lint(event, None, index)
        verdict = Verdict(None)
        for common in self.plan.versions("COMMON").values():
            self._schema(common, event, lint, verdict)
        verdict.rule = rule = self.rule_for(event, lint)
        verdict.unplanned_event = any(f.code == UNPLANNED_EVENT for f in lint.findings)
        strict = self._strict.get(id(rule)) if rule is not None else None
        if rule is not None and not (strict is not None and strict.is_valid(event)):
            self._schema(rule, event, lint, verdict)
            part = BY_CALL[event["type"]][1]
            self._unplanned(rule, event.get(part), (part,), lint, verdict)
        verdict.findings = lint.findings
        return verdict

    def _schema(self, rule: Rule, event: dict[str, Any], lint: Lint, verdict: Verdict) -> None:
        if rule.validator.is_valid(event):
            return
        for count, error in enumerate(rule.validator.iter_errors(event)):
            if count == MAX_ERRORS:
                lint.add(NOT_ALLOWED, f"and more: only the first {MAX_ERRORS} violations of {rule.name} are shown")
                break
            kind = type(error.kind).__name__
            code = ERROR_CODES.get(kind, NOT_ALLOWED)
            parts = tuple(error.instance_path)
            if kind == "Required":
                parts = (*parts, str(error.kind.property))
            elif code == FORBIDDEN_PROPERTY:
                unexpected = list(getattr(error.kind, "unexpected", []) or [])
                for name in unexpected:
                    verdict.faulty.append((*parts, str(name)))
                lint.add(code, f"{rule.name} allows no other properties: {', '.join(map(shown, unexpected))}",
                         path_of(parts))
                continue
            verdict.faulty.append(parts)
            lint.add(code, f"{rule.name}: {shown(error.message, 200, quote=False)}", path_of(parts))

    def _unplanned(self, rule: Rule, value: Any, where: tuple[str, ...], lint: Lint, verdict: Verdict) -> None:
        """Properties (traits) the rule does not list, nested objects included."""
        schema: Any = rule.schema
        for key in where:
            schema = (declared(schema) or {}).get(key)
        self._unlisted(rule, schema, value, where, lint, verdict)

    def _unlisted(self, rule: Rule, schema: Any, value: Any, where: tuple[str | int, ...], lint: Lint,
                  verdict: Verdict) -> None:
        if isinstance(value, list) and isinstance(schema, dict) and isinstance(schema.get("items"), dict):
            for index, item in enumerate(value):
                self._unlisted(rule, schema["items"], item, (*where, index), lint, verdict)
            return
        listed = declared(schema)
        if listed is None or not isinstance(value, dict):
            return
        if isinstance(schema, dict) and schema.get("additionalProperties") is False:
            return  # the schema itself refuses them: PLAN006 from its errors
        for key, item in value.items():
            if key in listed:
                self._unlisted(rule, listed[key], item, (*where, key), lint, verdict)
                continue
            verdict.unplanned.append((*where, key))
            code = UNPLANNED_PROPERTY if self.unplanned_properties else FORBIDDEN_PROPERTY
            lint.add(code, f"{shown(key)} is not in {rule.name}", path_of((*where, key)))

    def event(self, event: Any, index: int | None = None) -> list[Finding]:
        return self.verdict(event, index).findings

    def body(self, body: Any) -> list[Finding]:
        """Every plan finding for a body, as `lint` shapes a body: one event, each element of an
        array, each event of a Tracking-API batch with paths into it (`$.batch[2].properties`)."""
        if isinstance(body, list):
            return [f for index, event in enumerate(body) for f in self.event(event, index)]
        if is_tracking_batch(body):
            return self.batch(body["batch"])
        return self.event(body)

    def batch(self, events: list[Any]) -> list[Finding]:
        return [Finding(f.code, f.severity, f.message, f"$.batch[{index}]{f.path[1:]}", None)
                for index, event in enumerate(events) for f in self.event(event)]


"""The registry of checks, and the Segment Spec linter that runs them on every event.

Each code is declared once with its severity, a title, and a bad and a good example, so
a code always has the same severity, docs/checks.md can be tested against the codes
that exist, and each example is itself a test. The event checks live one module per
concern (envelope, clock, properties, names, delete); the Spec's event names,
properties and types live in `spec.json`, not in code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..model import SEVERITIES, Finding


@dataclass(frozen=True, slots=True)
class Check:
    """One documented check: what it means and what a bad and a good example look like."""

    code: str
    severity: str
    title: str
    doc_bad: str
    doc_good: str
    link: str = ""


CHECKS: dict[str, Check] = {}


def check(code: str, severity: str, title: str, *, bad: str, good: str, link: str = "") -> Check:
    """Register a code at import time; a second, different definition is a bug, so it raises."""
    if severity not in SEVERITIES:
        raise ValueError(f"{code}: severity {severity!r} is not one of {SEVERITIES}")
    new = Check(code, severity, title, bad, good, link)
    old = CHECKS.get(code)
    if old is not None and old != new:
        raise ValueError(f"{code} is already registered with a different definition")
    CHECKS[code] = new
    return new


def finding(code: str, message: str, path: str = "", event: int | None = None) -> Finding:
    """A Finding whose severity comes from the registry; an unregistered code raises KeyError."""
    return Finding(code, CHECKS[code].severity, message, path, event)


def shown(text: str, limit: int = 60, *, quote: bool = True) -> str:
    """Untrusted text made safe for a one-line message: escaped, cut short, quoted unless asked not to.

    Text that is empty, padded or not printable is always quoted so the reader can see it.
    """
    cut = text[:limit] + "…" if len(text) > limit else text
    if quote or not cut or cut != cut.strip() or not cut.isprintable():
        return repr(cut)
    return cut


def member(path: str, key: str) -> str:
    """The JSON path of `key` inside `path`: `$.traits.email`, `$["odd key"]`."""
    if key.isidentifier():
        return f"{path}.{key}"
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'{path}["{escaped}"]'


class Lint:
    """The findings of one event, and what the checks need to know while making them."""

    __slots__ = ("event", "now", "index", "findings")

    def __init__(self, event: dict[str, Any], now: float | None, index: int | None) -> None:
        self.event = event
        self.now = now
        self.index = index
        self.findings: list[Finding] = []

    def add(self, code: str, message: str, path: str = "$") -> None:
        self.findings.append(Finding(code, CHECKS[code].severity, message, path, self.index))


EventCheck = Callable[[Lint], None]
EVENT_CHECKS: list[EventCheck] = []


def event_check(function: EventCheck) -> EventCheck:
    """Run `function` on every event that is a JSON object."""
    EVENT_CHECKS.append(function)
    return function


check("SPEC001", "error", "An event is not a JSON object",
      bad='["track", "Signed Up"]',
      good='[{"type": "track", "event": "Signed Up", "userId": "u1", "messageId": "m1"}]')


def lint_event(event: Any, *, now: float | None = None, index: int | None = None) -> list[Finding]:
    """Every Spec finding for one event; `now` is when it arrived, for the clock checks."""
    if not isinstance(event, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
            type(event), "a number")
        return [finding("SPEC001", f"the event is {kind}, not a JSON object", "$", index)]
    lint = Lint(event, now, index)
    for function in EVENT_CHECKS:
        function(lint)
    return lint.findings


def lint(body: Any, *, now: float | None = None) -> list[Finding]:
    """Every Spec finding for a body: one event, or each event of a batch array."""
    if isinstance(body, list):
        findings: list[Finding] = []
        for index, event in enumerate(body):
            findings += lint_event(event, now=now, index=index)
        return findings
    return lint_event(body, now=now)


from . import answers, clock, delete, envelope, names, properties, request  # noqa: E402,F401  (they register)

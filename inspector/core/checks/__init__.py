"""The registry of checks, and the Segment Spec linter that runs them on every event.

Each code is declared once with its severity, a title, a bad and a good example and the
page of Segment's docs it comes from, so a code always has the same severity and link,
docs/checks.md can be tested against the codes that exist, and each example is itself
a test. Severity follows the consequence: an *error* is a request Segment or a
destination cannot process, a *warning* off-Spec data a destination may misread, an
*info* a difference from Segment's own delivery. The event checks live one module per
concern (envelope, clock, properties, names, delete); the Spec's event names,
properties and types live in `spec.json`, not in code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..model import SEVERITIES, Event, Finding, Severity
from .spec import LINKS


@dataclass(frozen=True, slots=True)
class Code:
    """A finding's code as documented: its severity, what it means, a bad and a good example."""

    code: str
    severity: Severity
    title: str
    doc_bad: str
    doc_good: str
    link: str = ""


CHECKS: dict[str, Code] = {}


def check(code: str, severity: Severity, title: str, *, bad: str, good: str, link: str = "") -> Code:
    """Register a code at import time; a second, different definition is a bug, so it raises."""
    if severity not in SEVERITIES:
        raise ValueError(f"{code}: severity {severity!r} is not one of {SEVERITIES}")
    new = Code(code, severity, title, bad, good, link)
    old = CHECKS.get(code)
    if old is not None and old != new:
        raise ValueError(f"{code} is already registered with a different definition")
    CHECKS[code] = new
    return new


# What Segment sends a partner and how it reads the answer: the page of every request,
# header, auth and answer check that names no page of its own.
DIRECT_DESTINATION = "https://segment.com/docs/partners/direct-destination/"


def url_for(code: str) -> str:
    """The page of Segment's docs a code comes from; empty for a code not registered (old history)."""
    registered = CHECKS.get(code)
    if registered is None:
        return ""
    return registered.link or DIRECT_DESTINATION


def with_urls(doc: dict[str, Any]) -> dict[str, Any]:
    """An exchange's or event's document whose findings carry their `url`, for `--json` output."""
    findings = doc.get("findings")
    if not findings:
        return doc
    return {**doc, "findings": [{**item, "url": url_for(item.get("code", ""))} for item in findings]}


def lint_doc(where: str, event: Any, findings: list[Finding]) -> dict[str, Any]:
    """One linted event as `lint --json` prints it (and the MCP server's `lint_event` gives it)."""
    from ..history.format import event_doc, finding_doc

    return with_urls({"source": where, **event_doc(Event.of(event)), "findings": [finding_doc(f) for f in findings]})


def finding_lines(item: Finding, indent: str = "  ") -> list[str]:
    """A finding for a terminal: severity, code, event, path and message; under it, its page's URL."""
    event = f"  event {item.event}" if item.event is not None else ""
    where = f"  {item.path}" if item.path else ""
    lines = [f"{indent}{item.severity:<7} {item.code}{event}{where}  {item.message}"]
    url = url_for(item.code)
    return [*lines, f"{indent}{'':<8}{url}"] if url else lines


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

    __slots__ = ("event", "findings", "index", "now")

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
      good='[{"type": "track", "event": "Signed Up", "userId": "u1", "messageId": "m1"}]',
      link=LINKS["common"])


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


check("SPEC060", "info", "A Tracking-API batch ({\"batch\": [...]}), not a partner delivery",
      bad='{"batch": [{"type": "track", "event": "Signed Up", "userId": "u1", "messageId": "m1"}]}',
      good='{"type": "track", "event": "Signed Up", "userId": "u1", "messageId": "m1"}',
      link="https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/")


def is_tracking_batch(body: Any) -> bool:
    """`{"batch": [...]}`: what Segment's libraries send to the Tracking API, not to a partner."""
    return isinstance(body, dict) and "type" not in body and isinstance(body.get("batch"), list)


def lint_batch(events: list[Any], now: float | None = None) -> list[Finding]:
    """Each event of a Tracking-API batch on its own, with paths into the body (`$.batch[2].event`)."""
    findings: list[Finding] = []
    for index, event in enumerate(events):
        base = f"$.batch[{index}]"
        findings += [Finding(f.code, f.severity, f.message, base + f.path[1:], None)
                     for f in lint_event(event, now=now)]
    return findings


def _tracking_batch(events: list[Any], now: float | None) -> list[Finding]:
    """SPEC060, then each element's findings."""
    count = f"{len(events)} event{'s' if len(events) != 1 else ''}"
    return [finding("SPEC060", f"a Tracking-API batch of {count}, as Segment's libraries send "
                    "to api.segment.io/v1/batch; Segment delivers one event per request to a "
                    "partner endpoint, so each event is linted on its own", "$.batch"), *lint_batch(events, now)]


def lint(body: Any, *, now: float | None = None) -> list[Finding]:
    """Every Spec finding for a body: one event, each event of a batch array, or of a
    Tracking-API batch `{"batch": [...]}`."""
    if isinstance(body, list):
        findings: list[Finding] = []
        for index, event in enumerate(body):
            findings += lint_event(event, now=now, index=index)
        return findings
    if is_tracking_batch(body):
        return _tracking_batch(body["batch"], now)
    return lint_event(body, now=now)


from . import answers, clock, delete, envelope, names, plans, properties, request, wire  # noqa: E402,F401  (they register)

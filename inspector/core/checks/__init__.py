"""The registry of finding codes: each code is declared once, with its severity and examples.

Keeping severities here rather than at each call site means a code always has the same
severity, and docs/checks.md can be tested against the codes that really exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import SEVERITIES, Finding


@dataclass(frozen=True, slots=True)
class Check:
    """One documented check: what it means and what a bad and a good request look like."""

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

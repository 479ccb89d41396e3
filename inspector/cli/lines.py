"""One line per exchange, as `serve` prints them live and `history` lists them."""

from __future__ import annotations

import functools
import time

from ..core import naming
from ..core.model import Summary, segment_outcome
from ..core.text import inert


@functools.lru_cache(maxsize=4)
def _second(second: int) -> str:
    return time.strftime("%H:%M:%S", time.localtime(second))


def _clock(epoch: float) -> str:
    return f"{_second(int(epoch))}.{int(epoch * 1000) % 1000:03d}"


def _findings_text(severities: tuple[str, ...]) -> str:
    if not severities:
        return "no findings"
    parts = []
    for severity in ("error", "warning", "info"):
        count = severities.count(severity)
        if count:
            parts.append(f"{count} {severity}{'s' if count > 1 and severity != 'info' else ''}")
    return ", ".join(parts)


def line_of(summary: Summary) -> str:
    """One readable line: time, status, type, event, user, findings, id."""
    if summary.status is None:
        status = "..."
    elif summary.kind == "source":  # an SDK's call: Segment's API accepted or refused it, nothing was delivered
        status = f"{summary.status} {'accepted' if summary.status < 300 else 'refused'}"
    else:
        status = f"{summary.status} {segment_outcome(summary.status)}"
    kind, name, user = naming.kind(summary) or "-", naming.title(summary), naming.person(summary)
    marks = f"  redelivery {summary.redelivery}" if summary.redelivery else ""
    marks += "  held" if summary.held else ""
    text = (f"{_clock(summary.time)}  {status:<13} {kind:<9} {name[:40]:<40} {user[:24]:<24} "
            f"{_findings_text(summary.severities)}{marks}  {summary.id}")
    return inert(text)

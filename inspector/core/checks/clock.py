"""Timestamps: ISO-8601 with a timezone, and a clock that makes sense against arrival."""

from __future__ import annotations

from datetime import datetime

from . import Lint, check, event_check
from .spec import LINKS
from .types import described, iso_datetime

_BASE = '{"type": "track", "event": "Signed Up", "userId": "u1", "messageId": "m1", '

check("SPEC013", "error", "A timestamp is not an ISO-8601 string",
      bad=_BASE + '"timestamp": "11/26/2026 10:00"}', good=_BASE + '"timestamp": "2026-01-01T00:00:00Z"}',
      link=LINKS["common"])
check("SPEC014", "warning", "A timestamp has no timezone",
      bad=_BASE + '"timestamp": "2026-01-01T00:00:00"}', good=_BASE + '"timestamp": "2026-01-01T00:00:00Z"}',
      link=LINKS["common"])
check("SPEC016", "warning", "The timestamp is in the future",
      bad=_BASE + '"timestamp": "2026-01-01T09:00:00Z"}', good=_BASE + '"timestamp": "2026-01-01T00:00:00Z"}',
      link=LINKS["common"])
check("SPEC017", "info", "sentAt is before timestamp: the sending device's clock is behind",
      bad=_BASE + '"timestamp": "2026-01-01T00:00:30Z", "sentAt": "2026-01-01T00:00:00Z"}',
      good=_BASE + '"timestamp": "2026-01-01T00:00:00Z", "sentAt": "2026-01-01T00:00:30Z"}',
      link=LINKS["common"])
check("SPEC018", "info", "The event happened more than a day before it arrived: a replay or an offline queue",
      bad=_BASE + '"timestamp": "2025-06-01T00:00:00Z"}', good=_BASE + '"timestamp": "2026-01-01T00:00:00Z"}',
      link="https://segment.com/docs/partners/faqs/")

_FIELDS = ("timestamp", "sentAt", "receivedAt", "originalTimestamp")
FUTURE_SLACK = 5 * 60.0  # device clocks drift; minutes ahead is noise, hours is a bug
SENT_SLACK = 1.0
OLD = 24 * 3600.0


@event_check
def clock(lint: Lint) -> None:
    event = lint.event
    times: dict[str, datetime] = {}
    for field in _FIELDS:
        value = event.get(field)
        if value is None:
            continue
        if field == "originalTimestamp" and event.get("type") == "delete":
            continue  # Segment's delete examples carry Go's time.String() here
        parsed = iso_datetime(value) if isinstance(value, str) else None
        if parsed is None:
            lint.add("SPEC013", f"`{field}` should be ISO-8601 such as 2026-11-26T10:00:00.000Z, "
                     f"not {described(value)}", f"$.{field}")
        elif parsed.tzinfo is None:
            lint.add("SPEC014", f"`{field}` has no timezone; Segment sends UTC with a Z", f"$.{field}")
        else:
            times[field] = parsed
    timestamp = times.get("timestamp")
    sent = times.get("sentAt")
    if timestamp and sent and (timestamp - sent).total_seconds() > SENT_SLACK:
        lint.add("SPEC017", f"`sentAt` is {_span((timestamp - sent).total_seconds())} before `timestamp`: "
                 "the sending device's clock is behind; order events by `timestamp`, not `sentAt`",
                 "$.sentAt")
    if timestamp is None or lint.now is None:
        return
    ahead = timestamp.timestamp() - lint.now
    if ahead > FUTURE_SLACK:
        lint.add("SPEC016", f"`timestamp` is {_span(ahead)} after the event arrived", "$.timestamp")
    elif -ahead > OLD:
        lint.add("SPEC018", f"`timestamp` is {_span(-ahead)} before the event arrived", "$.timestamp")


def _span(seconds: float) -> str:
    for size, unit in ((86400, "days"), (3600, "hours"), (60, "minutes")):
        if seconds >= 2 * size:
            return f"{seconds / size:.0f} {unit}"
    whole = round(seconds)
    return f"{whole} second{'s' if whole != 1 else ''}"

"""What Segment does to each event of a source call before a destination receives it.

For each event in order: a `messageId` seen within the dedupe window (at least 24 h,
segment.md §3.6) is dropped; an event whose `integrations` turn the destination off is
not delivered (common.md: `All` is the fallback, destinations not set to false receive
data); with a tracking plan, Protocols' Schema Configuration may block it or omit fields
(`protocols`); the rest get Segment's envelope (common.md timestamps: `receivedAt`,
`originalTimestamp`, and `timestamp` corrected for the client's clock skew) and are
delivered one by one. Nothing here speaks HTTP.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..core.checks import shown
from ..core.model import Fate
from .calls import CALLS, Call
from .protocols import Protocols

if TYPE_CHECKING:
    from ..core.plans import Checking

DEDUPE_WINDOW = 24 * 3600.0  # Segment's guaranteed minimum
API_VERSION = 2  # the Tracking API's version, as Segment writes it on each event
MOBILE_LIBRARIES = ("ios", "android", "swift", "kotlin", "react-native", "flutter", "xamarin")
ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

def iso(epoch: float) -> str:
    """Segment's timestamp format: UTC with milliseconds and a Z."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 time with a timezone (none means UTC), or None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _merged(outer: Any, inner: Any) -> Any:
    """The batch's object under the event's own: the event's keys win."""
    if isinstance(outer, dict) and isinstance(inner, dict):
        return {**outer, **inner}
    return inner if inner is not None else outer


def channel(context: Any) -> str:
    """Where the call came from, by the library that sent it: what Segment writes as `channel`."""
    library = context.get("library") if isinstance(context, Mapping) else None
    name = str(library.get("name", "")).lower() if isinstance(library, Mapping) else ""
    if "analytics.js" in name or "analytics-next" in name or "ajs" in name:
        return "browser"
    if any(word in name for word in MOBILE_LIBRARIES):
        return "mobile"
    return "server"


def project_id(write_key: str | None) -> str:
    """A stable source id for a write key, in the shape of Segment's (`projectId`)."""
    digest = hashlib.sha256((write_key or "").encode()).digest()
    return "".join(ID_ALPHABET[byte % len(ID_ALPHABET)] for byte in digest[:10])


def envelope(event: dict[str, Any], call: Call, received: float, client_ip: str | None = None) -> dict[str, Any]:
    """The event as Segment delivers it (common.md, partners/spec.md): batch fields applied,
    times set, writeKey gone, and what Segment adds on the way: `channel`, `version` (of the
    API that took it), `projectId` (the source), and for a browser or mobile call the client's
    `context.ip` when it sent none.

    `timestamp = receivedAt - (sentAt - originalTimestamp)` corrects a client clock that is
    off; without sentAt the client's timestamp is kept; without a timestamp, receivedAt.
    """
    out = {key: value for key, value in event.items() if key != "writeKey"}
    if call.call is not None:
        out["type"] = call.call
    for key, outer in (("context", call.context), ("integrations", call.integrations)):
        value = _merged(outer, out.get(key))
        if value is not None:
            out[key] = value
    if call.sent_at is not None:
        out["sentAt"] = call.sent_at
    if not out.get("messageId"):
        out["messageId"] = f"api-{uuid.uuid4()}"
    out["receivedAt"] = iso(received)
    sent = parse_time(out.get("sentAt"))
    if "timestamp" in out and out["timestamp"] is not None:
        out["originalTimestamp"] = original = out["timestamp"]
        happened = parse_time(original)
        if happened is None:
            out["timestamp"] = out["receivedAt"]
        elif sent is not None:
            out["timestamp"] = iso(received - (sent - happened).total_seconds())
    else:
        out["timestamp"] = out["receivedAt"]
    context = out.get("context")
    out.setdefault("channel", channel(context))
    out.setdefault("version", API_VERSION)
    out.setdefault("projectId", project_id(call.write_key))
    if client_ip and out["channel"] != "server":
        if isinstance(context, dict):
            out["context"] = {**context} if "ip" in context else {**context, "ip": client_ip}
        elif context is None:
            out["context"] = {"ip": client_ip}
    return out


def filtered(integrations: Any, destination: str) -> str | None:
    """Why `integrations` keeps the event from `destination`, or None: `All` is the fallback,
    the destination's own entry wins, and anything but false means on."""
    if not isinstance(integrations, Mapping):
        return None
    own = integrations.get(destination)
    if own is False:
        return f'integrations turn "{destination}" off'
    if own is None and integrations.get("All") is False:
        return f'integrations set "All": false and do not turn "{destination}" on'
    return None


def invalid(event: dict[str, Any], call: str | None) -> str | None:
    """Why Segment answers 200 and then drops the event (http-api docs, segment.md §3.5), or None."""
    kind = call or event.get("type")
    if kind not in CALLS:
        sent = f"type {shown(str(kind), 40)}" if "type" in event else "no type"
        return f"{sent}, not one of {', '.join(CALLS)}: Segment accepts the call, then drops the event"
    if not event.get("userId") and not event.get("anonymousId"):
        return "neither userId nor anonymousId: Segment accepts the call, then drops the event"
    if kind == "track" and not event.get("event"):
        return "a track without an event name: Segment accepts the call, then drops it"
    return None


class Dedupe:
    """messageIds accepted per source, each forgotten `window` seconds after it was first seen."""

    def __init__(self, window: float = DEDUPE_WINDOW) -> None:
        self.window = window
        self._seen: dict[tuple[str, str], float] = {}  # insertion order is arrival order

    def repeated(self, source: str, message_id: str, now: float) -> float | None:
        """When this messageId was first accepted within the window, or None (and it is now)."""
        cutoff = now - self.window
        while self._seen:
            oldest = next(iter(self._seen))
            if self._seen[oldest] >= cutoff:
                break
            del self._seen[oldest]
        key = (source, message_id)
        first = self._seen.get(key)
        if first is None:
            self._seen[key] = now
        return first


def process(call: Call, received: float, dedupe: Dedupe, destination: str,
            client_ip: str | None = None, checking: Checking | None = None,
            protocols: Protocols | None = None) -> tuple[list[Fate], list[dict[str, Any]]]:
    """Dedupe, integrations, the tracking plan's Schema Configuration and envelope, for each
    event in order: each event's fate, and the events to deliver."""
    fates: list[Fate] = []
    deliver: list[dict[str, Any]] = []
    source = call.write_key or ""
    for event in call.events:
        message_id = event.get("messageId")
        message_id = message_id if isinstance(message_id, str) else ""
        reason = invalid(event, call.call)
        if reason is not None:
            fates.append(Fate(message_id, "invalid", reason))
            continue
        first = dedupe.repeated(source, message_id, received) if message_id else None
        if first is not None:
            fates.append(Fate(message_id, "deduplicated",
                                      f"messageId already accepted {received - first:.1f} s before"))
            continue
        reason = filtered(_merged(call.integrations, event.get("integrations")), destination)
        if reason is not None:
            fates.append(Fate(message_id, "filtered", reason))
            continue
        detail = ""
        if checking is not None and protocols is not None and protocols.acting:
            kept, detail = protocols.apply(checking, dict(event, type=call.call) if call.call else event)
            if kept is None:
                fates.append(Fate(message_id, "blocked", detail))
                continue
            event = kept
        delivered = envelope(event, call, received, client_ip)
        fates.append(Fate(delivered["messageId"], "delivering", detail))
        deliver.append(delivered)
    return fates, deliver

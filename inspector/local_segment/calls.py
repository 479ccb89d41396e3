"""What Segment's Tracking API accepts from a source: its paths, its limits, its write keys.

The SDKs POST `{"batch": [...], "sentAt", "context", "integrations", "writeKey"?}` to
`/v1/batch` (or `/v1/import`), or one event to `/v1/<call>` (segment.md §3.5);
analytics.js uses `/v1/t`, `/v1/p`, ... and `/v1/b`. Segment answers 200 unless the body
is not JSON or over its limits (32 KB an event, 500 KB a batch, 2500 events a batch),
which get 400. Nothing here speaks HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from ..core.checks import lint_batch, lint_event
from ..core.model import Finding

if TYPE_CHECKING:
    from ..core.plans import Checking

CALLS = ("track", "identify", "page", "screen", "group", "alias")
# analytics.js posts one event to `<apiHost>/<first letter of its type>`, a batch to `<apiHost>/b`.
SHORT = {call[0]: call for call in CALLS}
BATCH_PATHS = ("/v1/batch", "/v1/import", "/v1/b")
PATHS = BATCH_PATHS + tuple(f"/v1/{call}" for call in (*CALLS, *SHORT))

MAX_EVENT = 32 * 1024  # bytes of one event (http-api docs; analytics-python's MAX_MSG_SIZE)
MAX_BATCH = 500 * 1024  # bytes of one batch request
MAX_BATCH_EVENTS = 2500
SUCCESS = b'{"success":true}'


class Refused(Exception):
    """The Tracking API answers this status with `{"message": ...}` and keeps nothing of the call."""

    def __init__(self, status: int, message: str, retry_after: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after  # for a 429: when to send the call again, in seconds


@dataclass(slots=True)
class Call:
    """One source call: its events as sent, the batch-level fields, the write key."""

    events: list[Any]
    write_key: str | None = None
    sent_at: Any = None
    context: Any = None
    integrations: Any = None
    call: str | None = None  # the call type a single-event path names

    def typed(self) -> list[Any]:
        """The events as sent, with the type a single-event path gives them."""
        return [dict(event, type=self.call) for event in self.events] if self.call else self.events


def read_call(path: str, data: Any, size: int, auth_key: str | None) -> Call:
    """The call a Tracking API body makes, or Refused with Segment's 400."""
    if not isinstance(data, dict):
        raise Refused(400, "the body must be a JSON object")
    if path in BATCH_PATHS:
        batch = data.get("batch")
        if not isinstance(batch, list):
            raise Refused(400, 'a batch needs "batch": an array of events')
        if size > MAX_BATCH:
            raise Refused(400, f"the batch is {size} bytes, over Segment's limit of 500 KB")
        if len(batch) > MAX_BATCH_EVENTS:
            raise Refused(400, f"the batch holds {len(batch)} events, over Segment's limit of {MAX_BATCH_EVENTS}")
        for index, event in enumerate(batch):
            if not isinstance(event, dict):
                raise Refused(400, f"event {index} of the batch is not a JSON object")
            event_size = len(orjson.dumps(event))
            if event_size > MAX_EVENT:
                raise Refused(400, f"event {index} of the batch is {event_size} bytes, over Segment's limit "
                              "of 32 KB an event")
        events, call = batch, None
    else:
        if size > MAX_EVENT:
            raise Refused(400, f"the event is {size} bytes, over Segment's limit of 32 KB")
        name = path.rsplit("/", 1)[-1]
        events, call = [data], SHORT.get(name, name)
    body_key = data.get("writeKey")
    write_key = auth_key or (body_key if isinstance(body_key, str) and body_key else None)
    return Call(events, write_key, data.get("sentAt"), data.get("context"), data.get("integrations"), call)


def check_write_key(write_key: str | None, accepted: frozenset[str]) -> None:
    """With write keys given, a call carrying none of them gets Segment's 401."""
    if accepted and write_key not in accepted:
        raise Refused(401, "no write key: send Basic base64('<writeKey>:') or \"writeKey\" in the body"
                      if not write_key else f"unknown write key {write_key[:40]!r}")


def lint_call(call: Call, now: float, checking: Checking | None = None) -> list[Finding]:
    """The Spec linter, and the tracking plan if there is one, on each event of the call, as
    events (not as a partner body); a batch's findings have paths into the body
    (`$.batch[2].event`), as the partner side's batch lint gives."""
    if call.call is not None:
        event = call.typed()[0]
        return lint_event(event, now=now) + (checking.event(event) if checking is not None else [])
    return lint_batch(call.events, now=now) + (checking.batch(call.events) if checking is not None else [])

"""How the inspector plays Segment between a source and a destination."""

from __future__ import annotations

from dataclasses import dataclass, field

from .pipeline import DEDUPE_WINDOW
from .protocols import Protocols

# Segment retried "nine times over the course of four hours" (segment.md §3.4, older wording).
RETRIES = 9
CONCURRENCY = 64  # deliveries in flight
DESTINATION = "Segment Inspector"  # the destination's name in `integrations`, by default
# What waits for delivery at most; past it the Tracking API answers 429 with Retry-After.
QUEUED_EVENTS = 10_000
QUEUED_BYTES = 16 * 1024 * 1024


@dataclass(slots=True)
class TrackingOptions:
    """How the inspector plays Segment between a source and a destination."""

    write_keys: frozenset[str] = frozenset()  # empty: any key
    dedupe_window: float = DEDUPE_WINDOW
    destination: str = DESTINATION  # the name `integrations` turns on and off
    deliver_to: str | None = None  # None: this receiver's own partner side
    api_key: str = "segment"
    settings: str | None = None  # X-Segment-Settings, already base64
    time_scale: float = 1.0
    shared_secret: str | None = None  # sign each delivery's X-Signature as the Webhooks destination does
    retries: int = RETRIES
    concurrency: int = CONCURRENCY
    queued_events: int = QUEUED_EVENTS
    queued_bytes: int = QUEUED_BYTES
    protocols: Protocols = field(default_factory=Protocols)  # what a tracking plan lets through


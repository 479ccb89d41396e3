"""How the inspector plays Segment between a source and a destination."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..core import values
from ..delivery import settings_header
from .pipeline import DEDUPE_WINDOW

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


def options_from(setting: Callable[..., Any]) -> TrackingOptions:
    """TrackingOptions from `setting(name, default)` (flags, then the config file); ValueError
    names the flag that is wrong."""
    deliver_to = setting("deliver-to")
    if deliver_to is not None and not str(deliver_to).lower().startswith(("http://", "https://")):
        raise ValueError(f"--deliver-to: {str(deliver_to)[:80]!r} is not an http:// or https:// URL")
    try:
        window = values.duration(setting("dedupe-window", DEDUPE_WINDOW))
    except ValueError as err:
        raise ValueError(f"--dedupe-window: {err}") from None
    scale = float(setting("time-scale", 1.0))
    if scale <= 0:
        raise ValueError("--time-scale: must be more than 0")
    settings = setting("settings")
    try:
        header = None if settings is None else settings_header(settings)
    except ValueError as err:
        raise ValueError(f"--settings: {err}") from None
    api_keys = setting("api-key", []) or []
    return TrackingOptions(
        write_keys=frozenset(setting("write-key", []) or []), dedupe_window=window,
        destination=setting("destination-name") or DESTINATION, deliver_to=deliver_to,
        api_key=setting("deliver-api-key") or (api_keys[0] if api_keys else "segment"), settings=header,
        time_scale=scale, shared_secret=setting("shared-secret"))

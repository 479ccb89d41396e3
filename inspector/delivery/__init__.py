"""Talking to an endpoint the way Segment does: its request, its retries, one error wording.

Forwarding, replay, `send` and the TUI's event tester all send through here; the core
never imports aiohttp, so this package lives beside it.
"""

from .request import (
    MAX_ANSWER,
    SEGMENT_TIMEOUT,
    Attempt,
    attempt,
    client,
    encode_settings,
    request,
    segment_headers,
    settings_header,
    why,
)
from .retries import Retrying, backoff, deliver

__all__ = ["MAX_ANSWER", "SEGMENT_TIMEOUT", "Attempt", "Retrying", "attempt", "backoff", "client", "deliver",
           "encode_settings", "request", "segment_headers", "settings_header", "why"]

"""The Webhooks destination's signature: `X-Signature`, hex HMAC-SHA1 with the shared secret.

Webhooks (Actions) signs `JSON.stringify(body)`, which is the body as sent; a batched
array body is signed over `JSON.stringify(body[0])`, its first event alone (segment.md
§3.7, actions-webhook docs and its `extendRequest`). Node's JSON.stringify is compact, keeps
key order and writes non-ASCII as is: Python's `json.dumps(..., separators=(",", ":"),
ensure_ascii=False)` gives the same text, number formatting aside.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from .checks import finding, shown
from .checks.request import SIGNATURE_MISSING as MISSING, SIGNATURE_WRONG as WRONG
from .model import Finding, first_header

HEADER = "X-Signature"
PATH = "header:X-Signature"



def signed_bytes(body: bytes, data: Any) -> bytes:
    """What Webhooks signs: the body, or for an array body its first event as JSON.stringify writes it."""
    if isinstance(data, list) and data:
        return json.dumps(data[0], separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return body


def sign(body: bytes, data: Any, secret: str) -> str:
    """The X-Signature value Segment sends for this body."""
    return hmac.new(secret.encode("utf-8"), signed_bytes(body, data), hashlib.sha1).hexdigest()


def verdict(headers: list[tuple[str, str]], body: bytes, data: Any, secret: str) -> Finding | None:
    """None when X-Signature is right; else the finding that says what is off."""
    sent = first_header(headers, HEADER)
    what = "the first event of the array, as JSON.stringify writes it" if isinstance(data, list) else "the body"
    if sent is None or not sent.strip():
        return finding(MISSING, f"no {HEADER} header: with a shared secret, Segment signs {what} "
                       "with HMAC-SHA1", PATH)
    expected = sign(body, data, secret)
    if not hmac.compare_digest(sent.strip().lower(), expected):
        return finding(WRONG, f"{HEADER} {shown(sent, 48)} is not the HMAC-SHA1 of {what} with the shared "
                       f"secret (expected {expected})", PATH)
    return None

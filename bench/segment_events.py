"""Realistic Segment payloads and headers shared by the benchmarks in bench/.

A partner destination receives one event per POST, about 1.1 KB for an analytics.js
track call, with the fixed set of headers Segment sends.
"""

from __future__ import annotations

import base64
import random
import time
import uuid
from typing import Any

import orjson

SEGMENT_HEADERS: dict[str, str] = {
    "Accept": "*/*",
    "Authorization": "Basic " + base64.b64encode(b"segment:").decode(),
    "Cache-Control": "no-cache",
    "Connection": "Keep-Alive",
    "Content-Type": "application/json",
    "User-Agent": "Segment.io/1.0",
}

EVENT_NAMES = (
    "Order Completed", "Product Viewed", "Product Added", "Checkout Started", "Cart Viewed",
    "Signed Up", "Signed In", "Product List Viewed", "Products Searched", "Coupon Applied",
    "Payment Info Entered", "Checkout Step Completed", "Product Removed", "Promotion Clicked",
    "Wishlist Product Added", "Order Refunded", "Video Playback Started", "Email Opened",
    "Subscription Started", "Trial Ended",
)

_PAGES = ("/", "/pricing", "/checkout/confirm", "/products/sku-1182", "/cart", "/docs/getting-started",
          "/blog/release-notes", "/account/settings", "/search", "/signup")


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch * 1000) % 1000:03d}Z"


def track_event(*, message_id: str, user_id: str, event: str = "Order Completed",
                kind: str = "track", now: float | None = None, rng: random.Random | None = None,
                note: str | None = None) -> dict[str, Any]:
    """One analytics.js event as Segment delivers it to a partner endpoint (~1.1 KB as JSON)."""
    rng = rng or random.Random(0)
    now = time.time() if now is None else now
    page = rng.choice(_PAGES)
    price = round(rng.uniform(3, 300), 2)
    qty = rng.randint(1, 4)
    data: dict[str, Any] = {
        "anonymousId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "channel": "client",
        "context": {
            "ip": f"203.0.113.{rng.randint(1, 254)}",
            "library": {"name": "analytics.js", "version": "next-1.53.0"},
            "campaign": {"name": "spring_sale", "source": "newsletter", "medium": "email"},
            "locale": "en-US",
            "page": {"path": page, "referrer": "https://www.google.com/", "search": "",
                     "title": "Example Store", "url": f"https://shop.example.com{page}"},
            "userAgent": ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
                          "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"),
            "screen": {"width": 1440, "height": 900, "density": 2},
            "timezone": "Europe/London",
        },
        "integrations": {},
        "messageId": message_id,
        "originalTimestamp": _iso(now - 0.4),
        "receivedAt": _iso(now - 0.05),
        "sentAt": _iso(now - 0.1),
        "timestamp": _iso(now - 0.35),
        "type": kind,
        "userId": user_id,
        "version": 2,
    }
    if kind == "track":
        data["event"] = event
        data["properties"] = {
            "order_id": f"ord_{rng.getrandbits(40):010x}", "currency": "USD",
            "revenue": round(price * qty, 2), "coupon": rng.choice(["", "SPRING10", "WELCOME"]),
            "products": [{"product_id": f"p-{rng.randint(1000, 9999)}", "sku": f"SKU-{rng.randint(100, 999)}",
                          "name": "Monogram canvas tote", "category": "Bags", "price": price,
                          "quantity": qty}],
        }
    elif kind == "page":
        data["name"] = "Product Page"
        data["properties"] = {"path": page, "title": "Example Store", "url": f"https://shop.example.com{page}",
                              "referrer": "https://www.google.com/", "search": "", "category": "Shop",
                              "keywords": ["tote", "canvas", "bags"], "section": "catalog"}
    else:  # identify
        data["traits"] = {"email": f"{user_id}@example.com", "name": "Ada Lovelace", "plan": "premium",
                          "createdAt": "2024-02-11T09:30:00.000Z", "company": {"name": "Example Inc",
                          "employees": 120}, "address": {"city": "London", "country": "UK"}}
    if note is not None:
        data.setdefault("properties", {})["note"] = note
    return data


def body_bytes(data: dict[str, Any]) -> bytes:
    return orjson.dumps(data)


def wrk_template(run_tag: str) -> tuple[str, str, str]:
    """A track body cut around its messageId and userId: (before, between, after).

    The benchmark's load generator fills in a fixed-width counter for each request, so
    every request carries its own messageId, as Segment's do, at a constant size.
    """
    mid_marker, uid_marker = "@@MESSAGEID@@", "@@USERID@@"
    data = track_event(message_id=mid_marker, user_id=uid_marker, rng=random.Random(7))
    text = orjson.dumps(data).decode()
    before, rest = text.split(mid_marker)
    between, after = rest.split(uid_marker)
    return before + f"ajs-next-{run_tag}-", between + "user-", after


if __name__ == "__main__":
    sample = track_event(message_id="ajs-next-" + uuid.uuid4().hex, user_id="user-12345")
    print(len(body_bytes(sample)), "bytes")
    print(body_bytes(sample).decode())

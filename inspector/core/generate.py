"""Segment-like traffic made up from the Spec data, for `segment-inspector send`.

`corpus(rng)` builds one event per semantic event of every industry spec in
`checks/spec.json` (E-commerce v2, Mobile, Video, Email, Live Chat, A/B Testing,
B2B SaaS, Copilot, Engage), with type-correct properties, plus identify, page, screen,
group, alias and delete calls, for logged-in and anonymous users, with the `context`
shapes of browser, mobile and server sources (segment.md §1.2) and the envelope
Segment delivers (§1.1: messageId, timestamps, receivedAt, channel, version,
integrations, projectId). A few events carry the shape variations segment.md §7
documents in real traffic (a lower-case currency, snake_case reserved traits, a
`Signed up` name, `version: "1.1"`, `userId: null`): they lint with warnings, never
errors.

`stream(...)` cycles a corpus with a fresh messageId and fresh timestamps for every
event, one at a time, so a million-event run never holds more than the corpus.
Everything is pure and driven by the `random.Random` passed in.
"""

from __future__ import annotations

import functools
import random
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from .checks.spec import EVENTS, OBJECTS, PRODUCT, PROPERTIES, TRAITS

SOURCES = ("browser", "mobile", "server")
PROJECT_ID = "P0OJ3CTID1"
_FIRST = ("Ada", "Grace", "Alan", "Katherine", "Linus", "Barbara", "Dennis", "Radia")
_LAST = ("Lovelace", "Hopper", "Turing", "Johnson", "Torvalds", "Liskov", "Ritchie", "Perlman")
_PRODUCTS = ("Monopoly: 3rd Edition", "Uno Card Game", "Go Board", "Chess Set", "Rubik's Cube")
_WORDS = ("spring", "sale", "blue", "summer", "launch", "organic", "premium", "trial", "weekly")


def message_id(rng: random.Random) -> str:
    """A messageId the way analytics.js makes them: `ajs-next-` and a uuid v4's hex."""
    return "ajs-next-" + uuid.UUID(int=rng.getrandbits(128), version=4).hex


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _string(name: str, rng: random.Random) -> str:
    """A realistic string for a property, guessed from its name."""
    lower = name.lower()
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    if "email" in lower:
        return f"{first.lower()}.{last.lower()}@example.com"
    if "url" in lower or lower == "website" or lower == "avatar":
        return f"https://example.com/{rng.choice(_WORDS)}/{rng.randrange(1000)}"
    if lower in ("currency",):
        return rng.choice(("USD", "EUR", "GBP"))
    if lower.endswith(("id", "_id")) or lower == "sku":
        return f"{lower[:3]}-{rng.randrange(10**6):06d}"
    if lower in ("name", "product_name") or lower.endswith("name"):
        return rng.choice(_PRODUCTS) if "product" in lower or lower == "name" else f"{first} {last}"
    if lower == "gender":
        return rng.choice(("female", "male", "other"))
    if lower == "phone":
        return f"+1-555-01{rng.randrange(100):02d}"
    return f"{rng.choice(_WORDS)} {rng.choice(_WORDS)}"


def value(kind: Any, name: str, rng: random.Random, now: datetime) -> Any:
    """A value of the Spec type `kind` (a word of spec.json, a list of them, or a shape)."""
    if isinstance(kind, list):
        return value(kind[0], name, rng, now)
    if isinstance(kind, dict):
        if "enum" in kind:
            return rng.choice(kind["enum"])
        if "array" in kind:
            return [value({"object": kind["array"]}, name, rng, now) for _ in range(2)]
        if "object" in kind:
            return {key: value(sub, key, rng, now) for key, sub in kind["object"].items()}
        return {}
    match kind:
        case "number":
            return round(rng.uniform(1, 200), 2)
        case "integer":
            return rng.randrange(1, 600)
        case "boolean":
            return rng.random() < 0.5
        case "date":
            return _iso(now - timedelta(days=rng.randrange(1, 900)))
        case "currency":
            return rng.choice(("USD", "EUR", "GBP"))
        case "strings":
            return [_string(name, rng) for _ in range(2)]
        case "products":
            return [product(rng, now, position=index + 1) for index in range(rng.randrange(1, 4))]
        case "object":
            return {"source": rng.choice(_WORDS)}
        case "address" | "company":
            return {key: value(sub, key, rng, now) for key, sub in OBJECTS[kind].items()}
    return _string(name, rng)


def product(rng: random.Random, now: datetime, position: int = 1) -> dict[str, Any]:
    item = {key: value(kind, key, rng, now) for key, kind in PRODUCT.items()}
    item["name"] = rng.choice(_PRODUCTS)
    item["position"] = position
    item["quantity"] = rng.randrange(1, 4)
    return item


def context(source: str, rng: random.Random) -> dict[str, Any]:
    """The `context` a browser, mobile or server library sends (common.md auto-collection)."""
    ip = f"203.0.113.{rng.randrange(1, 255)}"
    if source == "browser":
        return {
            "library": {"name": "analytics.js", "version": "next-1.70.0"},
            "ip": ip, "locale": "en-US", "timezone": "Europe/Amsterdam",
            "page": {"path": "/pricing", "referrer": "https://www.google.com/", "search": "",
                     "title": "Pricing", "url": "https://example.com/pricing"},
            "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
                         "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
            "userAgentData": {"brands": [{"brand": "Chromium", "version": "124"}],
                              "mobile": False, "platform": "macOS"},
            "campaign": {"name": "spring sale", "source": "newsletter", "medium": "email",
                         "term": "boards", "content": "hero"},
        }
    if source == "mobile":
        return {
            "library": {"name": "analytics-ios", "version": "4.1.8"},
            "app": {"name": "Example", "version": "3.2.1", "build": "321", "namespace": "com.example.app"},
            "device": {"id": _uuid(rng), "advertisingId": _uuid(rng), "adTrackingEnabled": True,
                       "manufacturer": "Apple", "model": "iPhone16,2", "name": "iPhone", "type": "ios"},
            "os": {"name": "iOS", "version": "17.4"},
            "network": {"carrier": "T-Mobile", "cellular": True, "wifi": False, "bluetooth": False},
            "screen": {"width": 430, "height": 932, "density": 3},
            "ip": ip, "locale": "en-US", "timezone": "America/New_York",
            "traits": {"email": f"{rng.choice(_FIRST).lower()}@example.com"},
        }
    return {"library": {"name": "analytics-python", "version": "2.3.2"}}


def _envelope(kind: str, source: str, logged_in: bool, rng: random.Random) -> dict[str, Any]:
    user = f"user-{rng.randrange(10**6):06d}"
    event: dict[str, Any] = {"type": kind, "messageId": message_id(rng)}
    if logged_in or source == "server":
        event["userId"] = user
    if source != "server":
        event["anonymousId"] = _uuid(rng)
    event["context"] = context(source, rng)
    event["integrations"] = {"All": True, "Salesforce": False} if rng.random() < 0.5 else {}
    event["channel"] = "client" if source == "browser" and rng.random() < 0.2 else source
    event["version"] = 2
    event["projectId"] = PROJECT_ID
    if source == "browser" and rng.random() < 0.5:
        event["_metadata"] = {"bundled": ["Segment.io"], "unbundled": []}
        event["writeKey"] = "wk" + "".join(rng.choice("abcdefghijk0123456789") for _ in range(30))
    return event


@functools.lru_cache(maxsize=64)
def _second(second: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


def _iso_ms(ms: int) -> str:
    """`2026-11-26T10:00:00.123Z` for milliseconds since the epoch; cheap enough for 1M events."""
    return f"{_second(ms // 1000)}.{ms % 1000:03d}Z"


def stamp(event: dict[str, Any], rng: random.Random, at: float | None = None) -> dict[str, Any]:
    """Set consistent timestamps: timestamp = receivedAt - (sentAt - originalTimestamp)."""
    received = int((time.time() if at is None else at) * 1000) - 5
    delay = rng.randrange(20, 2000)  # milliseconds from the call to the send
    skew = rng.randrange(-500, 500)  # the device's clock is off
    sent = received - rng.randrange(25, 300) + skew
    original = sent - delay
    event["originalTimestamp"] = _iso_ms(original)
    event["sentAt"] = _iso_ms(sent)
    event["receivedAt"] = _iso_ms(received)
    event["timestamp"] = _iso_ms(received - delay)
    return event


def _properties(shape: dict[str, Any], rng: random.Random, now: datetime) -> dict[str, Any]:
    return {key: value(kind, key, rng, now) for key, kind in shape.items()}


def corpus(rng: random.Random, now: float | None = None) -> list[dict[str, Any]]:
    """Every call type, every semantic event, each source shape; logged-in and anonymous users."""
    moment = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    events: list[dict[str, Any]] = []

    def make(kind: str, index: int, **fields: Any) -> dict[str, Any]:
        source = SOURCES[index % len(SOURCES)]
        logged_in = index % 4 != 3  # one in four is an anonymous visitor
        event = _envelope(kind, source, logged_in, rng)
        event.update(fields)
        events.append(stamp(event, rng, now))
        return event

    for index, (name, semantic) in enumerate(EVENTS.items()):
        properties = _properties(semantic.properties, rng, moment)
        event = make("track", index, event=name, properties=properties)
        if semantic.spec == "b2b_saas":
            event["context"]["groupId"] = f"grp-{rng.randrange(10**5):05d}"
        if semantic.spec == "engage":
            key = "high_value_users"
            properties["audience_key"] = key
            properties[key] = name == "Audience Entered"
            event["context"]["personas"] = {"computation_class": "audience", "computation_id": "aud_1",
                                            "computation_key": key, "namespace": "spa_1", "space_id": "spa_1"}
    for index, _source in enumerate(SOURCES):
        traits = _properties(TRAITS["identify"], rng, moment)
        make("identify", index, userId=f"user-{rng.randrange(10**6):06d}", traits=traits)
        make("page", index, name="Pricing", category="Docs",
             properties=_properties(PROPERTIES["page"], rng, moment))
        make("screen", index, name="Home", properties=_properties(PROPERTIES["screen"], rng, moment))
        make("group", index, groupId=f"grp-{rng.randrange(10**5):05d}",
             traits=_properties(TRAITS["group"], rng, moment))
        make("alias", index, userId=f"user-{rng.randrange(10**6):06d}", previousId=_uuid(rng))
    # An anonymous identify: traits only, before the visitor signs up.
    make("identify", 3, traits={"email": "visitor@example.com", "plan": "free"})
    # Deletion requests arrive from Segment's servers (partners/spec.md "Delete").
    delete = make("delete", 2, userId=f"user-{rng.randrange(10**6):06d}")
    delete["messageId"] = "delete-" + _uuid(rng)
    delete.pop("anonymousId", None)
    # Variations real customers send (segment.md §7); warnings at most.
    make("track", 0, event="Order Completed", version="1.1",
         properties={"order_id": "50314b8e", "revenue": 19.99, "currency": "usd"})
    make("identify", 1, userId=f"user-{rng.randrange(10**6):06d}",
         traits={"first_name": "Ada", "last_name": "Lovelace", "created_at": _iso(moment)})
    make("track", 0, event="Signed up", properties={"type": "organic"})
    make("page", 3, userId=None, name="Home", properties={"title": "Home", "url": "https://example.com/"})
    return events


def examples(rng: random.Random, now: float | None = None) -> list[tuple[str, dict[str, Any]]]:
    """The event tester's starting points: each call type, then each semantic event (a track).

    Taken from `corpus` (the first event of each kind), so what the tester offers is what
    `send` sends: complete events that lint without errors.
    """
    calls: dict[str, dict[str, Any]] = {}
    semantic: dict[str, dict[str, Any]] = {}
    for event in corpus(rng, now):
        kind, name = event["type"], event.get("event")
        if kind != "track":
            calls.setdefault(kind, event)
        elif name in EVENTS:
            semantic.setdefault(f"{name} · {EVENTS[name].title}", event)
    first = next(iter(semantic.values()))
    calls["track"] = {**first, "event": "Report Downloaded", "properties": {"format": "pdf", "pages": 12}}
    order = ("identify", "track", "page", "screen", "group", "alias", "delete")
    return [(kind, calls[kind]) for kind in order] + list(semantic.items())


def restamped(event: dict[str, Any], rng: random.Random, at: float | None = None) -> dict[str, Any]:
    """A copy of `event` with a new messageId and timestamps, as another send of its kind."""
    again = dict(event)  # only top-level keys change: the nested objects can be shared
    again["messageId"] = ("delete-" + _uuid(rng)) if event.get("type") == "delete" else message_id(rng)
    if "sentAt" in event:
        stamp(again, rng, at)
    return again


def stream(events: Sequence[dict[str, Any]], rng: random.Random, *, count: int | None = None,
           deadline: float | None = None,
           refill: Callable[[], Sequence[dict[str, Any]]] | None = None) -> Iterator[dict[str, Any]]:
    """`events` in order, then pass after pass: made anew by `refill` (templates filled
    again), or else copies with new messageIds and timestamps.

    Stops after `count` events, or at `deadline` (time.monotonic()), or after one pass
    when neither is given.
    """
    batch, first_pass, sent = events, True, 0
    while batch:
        for event in batch:
            if count is not None and sent >= count:
                return
            if deadline is not None and time.monotonic() >= deadline:
                return
            yield event if first_pass or refill is not None else restamped(event, rng)
            sent += 1
        if count is None and deadline is None:
            return
        first_pass = False
        if refill is not None:
            batch = refill()

"""A fixed morning of Segment deliveries, for snapshot tests and the README's screenshots.

A picture of the TUI is only worth comparing, or showing, if it is the same every time:
so every exchange here has a fixed id, a fixed arrival time and findings linted against
that time, and the app gets a clock that does not move on its own. The requests look
like what a partner endpoint really receives through an ngrok tunnel (Segment's own
headers, bodies shaped like analytics.js, analytics-swift and server deliveries), except
where a scene is about a problem: a vendor event name, a hand-written broken body, a
run of Segment's direct-endpoint-tester with the wrong API key.

Times are shown in local time: set TZ=UTC before rendering (see `use_utc`).
"""

from __future__ import annotations

import base64
import os
import random
import time
from calendar import timegm
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static, TabbedContent, TextArea

from inspector.core.history import History
from inspector.core.hub import Hub, TunnelState
from inspector.core.intake import parse_body, received
from inspector.core.model import Answer, Exchange
from inspector.core.policy import Policy, Reply, parse_rule
from inspector.tui.app import InspectorApp
from inspector.tui.screens.response import ResponseScreen
from inspector.tui.screens.tester import EventTesterScreen, lint_text
from inspector.tui.widgets.detail.pane import FINDINGS_TAB, HEADERS_TAB, RESPONSE_TAB
from inspector.tui.widgets.exchange_list import ExchangeList
from inspector.tui.widgets.header import InspectorHeader

from ..waiting import pilot_until

LOCAL_URL = "http://127.0.0.1:8686/"
PUBLIC_URL = "https://7c1e-203-0-113-42.ngrok-free.app"
HOST = PUBLIC_URL.removeprefix("https://")
SEGMENT_EGRESS = "192.0.2.61"

API_KEY = "nf_live_8Jq2xT5vLc"
TEST_KEY = "nf_test_8Jq2xT5vLc"  # the sandbox key, pasted where the live one belongs

START = float(timegm((2026, 11, 26, 10, 0, 0)))  # 2026-11-26T10:00:00Z
HOLD_TIMEOUT = 30.0
HELD_AT = START + 52.0
SHOWN_AT = HELD_AT + 7.0  # the clock while a held request counts down: 23 s left

RULES = (
    "event:Purchase => 400:use Order Completed",
    "type:screen => 501:screen calls are not supported yet",
)

CALLED_BEFORE = 1.31  # seconds between the call in the browser and its arrival here

BROWSER_UA = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
              "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
SHOP = "https://shop.northfold.example"


def exchange_id(n: int) -> str:
    """The fixed id of the n-th exchange of the scene (26 characters, like a ULID)."""
    return f"01JDEMO{n:019d}"


def iso(at: float) -> str:
    """An ISO-8601 UTC time with milliseconds, the way Segment writes them."""
    whole = int(at)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{round((at - whole) * 1000):03d}Z"


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


class SceneClock:
    """A clock that only moves when told: the app's countdowns read it."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# -- what arrives -----------------------------------------------------------------------


def segment_headers(body: bytes) -> list[tuple[str, str]]:
    """Segment's headers for a partner endpoint, as they arrive through an ngrok tunnel."""
    return [
        ("Host", HOST),
        ("User-Agent", "Segment.io/1.0"),
        ("Content-Length", str(len(body))),
        ("Accept", "*/*"),
        ("Authorization", basic(API_KEY)),
        ("Cache-Control", "no-cache"),
        ("Connection", "Keep-Alive"),
        ("Content-Type", "application/json"),
        ("X-Forwarded-For", SEGMENT_EGRESS),
        ("X-Forwarded-Host", HOST),
        ("X-Forwarded-Proto", "https"),
    ]


def python_script_headers(body: bytes) -> list[tuple[str, str]]:
    """What `requests.post(url, data=body, auth=(key, ""), headers=...)` sends."""
    return [
        ("Host", HOST),
        ("User-Agent", "python-requests/2.32.3"),
        ("Accept-Encoding", "gzip, deflate"),
        ("Accept", "*/*"),
        ("Connection", "keep-alive"),
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Authorization", basic(API_KEY)),
        ("X-Forwarded-For", "198.51.100.77"),
        ("X-Forwarded-Host", HOST),
        ("X-Forwarded-Proto", "https"),
    ]


def endpoint_tester_headers(body: bytes) -> list[tuple[str, str]]:
    """What Segment's direct-endpoint-tester (Go's net/http, SetBasicAuth) sends."""
    return [
        ("Host", HOST),
        ("User-Agent", "Go-http-client/1.1"),
        ("Content-Length", str(len(body))),
        ("Authorization", basic(TEST_KEY)),
        ("Content-Type", "application/json"),
        ("Accept-Encoding", "gzip"),
        ("X-Forwarded-For", "198.51.100.77"),
        ("X-Forwarded-Host", HOST),
        ("X-Forwarded-Proto", "https"),
    ]


def _browser_context(path: str, title: str, referrer: str = "") -> dict[str, Any]:
    return {
        "ip": "203.0.113.42",
        "library": {"name": "analytics.js", "version": "npm:next-1.72.0"},
        "locale": "en-US",
        "page": {"path": path, "referrer": referrer, "search": "", "title": title, "url": SHOP + path},
        "timezone": "Europe/Berlin",
        "userAgent": BROWSER_UA,
    }


def _ajs(at: float, uuid: str) -> str:
    """An analytics.js messageId: the call's time in milliseconds and a UUID."""
    return f"ajs-next-{round((at - CALLED_BEFORE) * 1000)}-{uuid}"


def _delivered(event: dict[str, Any], at: float, *, channel: str = "client") -> dict[str, Any]:
    """An event as Segment delivers it: the caller's fields, then what Segment adds."""
    return {
        **event,
        "integrations": {},
        "originalTimestamp": iso(at - CALLED_BEFORE),
        "sentAt": iso(at - 1.12),
        "receivedAt": iso(at - 0.87),
        "timestamp": iso(at - 1.06),
        "channel": channel,
        "projectId": "wF3kq9ZpLx",
        "version": 2,
    }


USER = "usr_7f3a9c"
ANON = "4b6e1d2a-93f0-4c55-8a7e-2f1c9d0b6e38"

PRODUCTS = [
    {"product_id": "p_88213", "sku": "SOCK-TR2-M", "name": "Trail Runner Socks (2-pack)",
     "brand": "Northfold", "category": "Apparel", "variant": "Moss, M", "price": 14.99,
     "quantity": 2, "position": 1, "url": f"{SHOP}/p/trail-runner-socks"},
    {"product_id": "p_10457", "sku": "BTL-750-SG", "name": "Insulated Bottle 750 ml",
     "brand": "Northfold", "category": "Gear", "variant": "Slate", "price": 24,
     "quantity": 1, "position": 2, "url": f"{SHOP}/p/insulated-bottle"},
]


def signed_up(at: float) -> dict[str, Any]:
    return _delivered({
        "type": "track", "event": "Signed up", "userId": USER, "anonymousId": ANON,
        "messageId": _ajs(at, "0c6f2d8e-1a4b-4f3e-9b57-6d2e8a1c4f90"),
        "properties": {"type": "organic", "first_name": "Maya", "last_name": "Okafor",
                       "email": "maya.okafor@example.com"},
        "context": _browser_context("/signup", "Create your account - Northfold"),
    }, at)


def identify(at: float) -> dict[str, Any]:
    return _delivered({
        "type": "identify", "userId": USER, "anonymousId": ANON,
        "messageId": _ajs(at, "7e2b9c4a-5d13-4a8f-b0e6-3c9f1e7d2a55"),
        "traits": {"email": "maya.okafor@example.com", "first_name": "Maya", "lastName": "Okafor",
                   "plan": "team", "createdAt": "2026-11-26T09:59:58.904Z",
                   "company": {"name": "Okafor Design Studio", "employee_count": 12}},
        "context": _browser_context("/signup/welcome", "Welcome - Northfold", f"{SHOP}/signup"),
    }, at)


def page(at: float) -> dict[str, Any]:
    return _delivered({
        "type": "page", "name": "Pricing", "category": None, "userId": USER, "anonymousId": ANON,
        "messageId": _ajs(at, "a91c3e7f-2b6d-4e08-8f41-5d7a0c9b3e12"),
        "properties": {"name": "Pricing", "path": "/pricing", "referrer": f"{SHOP}/signup/welcome",
                       "search": "", "title": "Pricing - Northfold", "url": f"{SHOP}/pricing"},
        "context": _browser_context("/pricing", "Pricing - Northfold", f"{SHOP}/signup/welcome"),
    }, at)


def group(at: float) -> dict[str, Any]:
    return _delivered({
        "type": "group", "groupId": "acct_2231", "userId": USER, "anonymousId": ANON,
        "messageId": _ajs(at, "3d8e5b1c-6f2a-4c97-a0d3-8e4b1f6c9a27"),
        "traits": {"name": "Okafor Design Studio", "industry": "Design", "employees": 12,
                   "plan": "team", "website": "https://okafor.example"},
        "context": _browser_context("/settings/team", "Team - Northfold", f"{SHOP}/pricing"),
    }, at)


def screen(at: float) -> dict[str, Any]:
    return _delivered({
        "type": "screen", "name": "Order History", "userId": "usr_51d0e4",
        "anonymousId": "9F1C2B7E-4A3D-4E8B-B6C5-0D2E7F8A1B93",
        "messageId": "B3E7A1D9-6C2F-4B85-9E04-7A1F3C8D2E60",
        "properties": {"orders_shown": 4},
        "context": {
            "app": {"name": "Northfold", "version": "4.12.0", "build": "4120.3",
                    "namespace": "com.northfold.app"},
            "device": {"id": "7A3E9C1B-2D4F-4E6A-8B0C-1F5D9E3A7C24", "manufacturer": "Apple",
                       "model": "iPhone16,2", "type": "ios"},
            "library": {"name": "analytics-swift", "version": "1.6.1"},
            "locale": "en-GB", "network": {"cellular": False, "wifi": True},
            "os": {"name": "iOS", "version": "18.1.1"}, "screen": {"width": 430, "height": 932},
            "timezone": "Europe/London",
        },
    }, at, channel="mobile")


def delete(at: float) -> dict[str, Any]:
    return {
        "type": "delete", "userId": "usr_2b8c61", "channel": "server", "context": None,
        "integrations": None, "messageId": "delete-reg-6543321::job-2-wF3kq9ZpLx",
        "originalTimestamp": "2026-11-26 09:58:41.209808489 +0000 UTC m=+70366.298768264",
        "projectId": "wF3kq9ZpLx", "receivedAt": iso(at - 2.4), "timestamp": iso(at - 2.4),
        "version": 2,
    }


def _cart(event: str, uuid: str, at: float, properties: dict[str, Any]) -> dict[str, Any]:
    return _delivered({
        "type": "track", "event": event, "userId": USER, "anonymousId": ANON,
        "messageId": _ajs(at, uuid), "properties": properties,
        "context": _browser_context("/cart", "Your cart - Northfold", f"{SHOP}/p/trail-runner-socks"),
    }, at)


def batch(at: float) -> list[dict[str, Any]]:
    return [
        _cart("Product Viewed", "5a2f8d3b-9c1e-4b76-a3d0-2e9f6c1b8d44", at - 2.1,
              {**PRODUCTS[0], "currency": "USD", "value": 14.99}),
        _cart("Product Added", "c7d1e9a2-4f6b-4c38-9e15-0b8a3d7f2c61", at - 0.8,
              {"cart_id": "cart_93ab17", **PRODUCTS[0]}),
        _cart("Checkout Started", "1e8b4c7d-3a9f-4d62-b5e0-7c2a9f1d6e38", at - 0.1,
              {"order_id": "ord_1048213", "value": 53.98, "revenue": 48.58, "shipping": 4.95,
               "tax": 3.89, "discount": 5.4, "coupon": "AUTUMN10", "currency": "USD",
               "products": PRODUCTS}),
    ]


def purchase(at: float) -> dict[str, Any]:
    return _delivered({
        "type": "track", "event": "Purchase", "userId": "usr_0e93f2",
        "anonymousId": "e0c5a8f1-27d4-4b9e-8c36-1f7a2d9b5e04",
        "messageId": _ajs(at, "8f4a1c6e-2d9b-4e57-a0c3-6b1e9d4f7a28"),
        "properties": {"order_id": "ord_1048214", "revenue": "24.00", "currency": "USD",
                       "content_ids": ["p_10457"], "content_type": "product"},
        "context": _browser_context("/checkout/thanks", "Thank you - Northfold", f"{SHOP}/checkout"),
    }, at)


# A developer's script with the JSON written by hand: the trailing comma breaks it.
BROKEN_BODY = b"""{
  "type": "track",
  "event": "Order Completed",
  "userId": "usr_7f3a9c",
  "messageId": "test-order-completed-001",
  "properties": {
    "order_id": "ord_1048213",
    "revenue": 48.58,
    "currency": "USD",
  }
}
"""
BROKEN_BODY_ERROR = parse_body(BROKEN_BODY)[1].message


def tester_event(at: float) -> dict[str, Any]:
    """One line of the tester's track.log with its placeholders filled."""
    return {"messageId": "8b2ec2fa1d5e4c09", "type": "track",
            "properties": {"revenue": 19.99, "currency": "usd"}, "event": "Order Completed",
            "userId": "0c1e7a94d2b3f856", "anonymousId": "5f9d3b17ae2c4068", "timestamp": iso(at - 0.2)}


def order_completed(at: float) -> dict[str, Any]:
    return _delivered({
        "type": "track", "event": "Order Completed", "userId": USER, "anonymousId": ANON,
        "messageId": _ajs(at, "6d3f9a2e-1c7b-4e85-9a40-3f2d8e6c1b97"),
        "properties": {"checkout_id": "chk_5c1e9a", "order_id": "ord_1048213",
                       "affiliation": "Northfold Online", "subtotal": 53.98, "discount": 5.4,
                       "coupon": "AUTUMN10", "revenue": 48.58, "shipping": 4.95, "tax": 3.89,
                       "total": 57.42, "currency": "USD", "products": PRODUCTS},
        "context": _browser_context("/checkout/thanks", "Thank you - Northfold", f"{SHOP}/checkout"),
    }, at)


def held_checkout(at: float) -> dict[str, Any]:
    return _delivered({
        "type": "track", "event": "Checkout Started", "userId": "usr_0e93f2",
        "anonymousId": "e0c5a8f1-27d4-4b9e-8c36-1f7a2d9b5e04",
        "messageId": _ajs(at, "2b7e4d1a-9c3f-4a68-8e25-1d6b0f9c3a71"),
        "properties": {"order_id": "ord_1048215", "value": 24, "revenue": 24, "shipping": 4.95,
                       "tax": 1.92, "currency": "USD", "products": [PRODUCTS[1]]},
        "context": _browser_context("/checkout", "Checkout - Northfold", f"{SHOP}/cart"),
    }, at)


def _json(value: Any) -> bytes:
    return orjson.dumps(value)


@dataclass(frozen=True)
class Arrival:
    """One exchange of the scene: when it came, who sent what, and what was answered."""

    n: int
    offset: float
    body: bytes
    headers: list[tuple[str, str]]
    answer: Answer
    duration: float
    peer: str = "127.0.0.1:50512"  # the ngrok agent, which forwards to the inspector

    @property
    def at(self) -> float:
        return START + self.offset


def _ok() -> Answer:
    return Answer(200, Reply(200).body(), "default")


def _arrivals() -> list[Arrival]:
    def segment(n: int, offset: float, make: Callable[[float], Any], answer: Answer | None = None,
                duration: float = 0.0012) -> Arrival:
        body = _json(make(START + offset))
        return Arrival(n, offset, body, segment_headers(body), answer or _ok(), duration)

    purchase_reply = parse_rule(RULES[0]).reply
    completed = _json(order_completed(START + 31.0))
    tester = _json(tester_event(START + 28.0))
    return [
        segment(1, 0.0, signed_up),
        segment(2, 2.0, identify, duration=0.0011),
        segment(3, 5.0, page, duration=0.0009),
        segment(4, 8.0, group, duration=0.0010),
        segment(5, 11.0, screen, duration=0.0010),
        segment(6, 14.0, delete, duration=0.0008),
        segment(7, 17.0, batch, duration=0.0017),
        segment(8, 21.0, purchase, Answer(400, purchase_reply.body(), "rule 1", RULES[0]), 0.0013),
        Arrival(9, 24.0, BROKEN_BODY, python_script_headers(BROKEN_BODY),
                Answer(400, Reply(400, BROKEN_BODY_ERROR).body(), "error", "body"), 0.0006),
        Arrival(10, 28.0, tester, endpoint_tester_headers(tester),
                Answer(401, Reply(401, "unknown API key").body(), "api key", "unknown"), 0.0005,
                peer="127.0.0.1:50518"),
        Arrival(11, 31.0, completed, segment_headers(completed),
                Answer(503, Reply(503).body(), "default"), 0.0011),
        Arrival(12, 45.0, completed, segment_headers(completed), _ok(), 0.0012, peer="127.0.0.1:50526"),
    ]


PURCHASE_ID = exchange_id(8)
WRONG_KEY_ID = exchange_id(10)
HELD_ID = exchange_id(13)


def _exchange(arrival: Arrival) -> Exchange:
    exchange = received(method="POST", path="/", peer=arrival.peer, headers=arrival.headers,
                              body=arrival.body, now=arrival.at)
    exchange.id = exchange_id(arrival.n)
    exchange.time = arrival.at
    return exchange


def build_history(directory: Path | str) -> History:
    """A history in `directory` holding the scene's twelve answered exchanges, oldest first."""
    history = History(directory).load()
    for arrival in _arrivals():
        exchange = _exchange(arrival)
        exchange.redelivery = history.redelivery(
            [event.message_id or "" for event in exchange.events], exchange.time, exchange.id)
        exchange.answer = arrival.answer
        exchange.duration = arrival.duration
        history.add(exchange)
    return history


def held_exchange() -> Exchange:
    """The request the held scene keeps waiting: a checkout from Segment, not yet answered."""
    body = _json(held_checkout(HELD_AT))
    return _exchange(Arrival(13, HELD_AT - START, body, segment_headers(body), _ok(), 0.0,
                             peer="127.0.0.1:50530"))


def scene_policy() -> Policy:
    """The live key, a rule for the vendor name, and a rule switched off."""
    rules = [parse_rule(text) for text in RULES]
    rules[1].enabled = False
    return Policy(rules=rules, api_keys=frozenset({API_KEY}))


def make_scene_app(directory: Path | str, *, held: bool = False) -> InspectorApp:
    """The real app over the scene's history, not listening, with a fixed URL and clock.

    With `held`, holding is on; `ready()` then sends one request that stays held.
    Close `app.hub.history` once the app has exited.
    """
    clock = SceneClock(SHOWN_AT if held else START + 60.0)
    hub = Hub(build_history(directory), scene_policy(), hold_timeout=HOLD_TIMEOUT, clock=clock)
    hub.set_tunnel(TunnelState("external", public_url=PUBLIC_URL))
    if held:
        hub.start_holding()
    app = InspectorApp(hub, local_url=LOCAL_URL, clock=clock)
    app.animation_level = "none"  # Textual reads TEXTUAL_ANIMATIONS once, when it is imported
    return app


async def ready(pilot: Pilot) -> None:
    """Wait until the scene is on screen; in a held scene, first have one request held.

    The held request goes through `Hub.answer`, the receiver's own path, on the app's
    loop: it waits on the hub's future exactly as a request over HTTP would, without a
    socket whose port would show in its Host header. It is cancelled when the app exits.
    """
    app = pilot.app
    assert isinstance(app, InspectorApp)
    hub = app.hub
    if hub.holding is not None and not hub.held():
        clock = app.clock
        assert isinstance(clock, SceneClock)
        # InspectorApp does not hand its clock to the list, whose countdown reads time.time.
        app.query_one(ExchangeList)._clock = clock
        clock.now = HELD_AT
        app.run_worker(hub.answer(held_exchange()), exit_on_error=False)
        header = app.query_one(InspectorHeader)
        await pilot_until(pilot, lambda: hub.held() and header.state.held == 1,
                          what="the held request reaches the screen")
        clock.now = SHOWN_AT
        app.query_one(ExchangeList).refresh()
    await pilot.pause()


# -- the pictures -------------------------------------------------------------------------


async def select(pilot: Pilot, exchange_id: str, tab: str | None = None) -> None:
    """Put the list's cursor on an exchange and, if given, open one of the detail tabs."""
    app = pilot.app
    assert app.query_one(ExchangeList).select(exchange_id), exchange_id
    await pilot.pause()
    if tab is not None:
        app.query_one(TabbedContent).active = tab
        await pilot.pause()


async def search(pilot: Pilot, text: str) -> None:
    """Put a query in the search bar, apply it with enter and wait for the list to show the result."""
    app = pilot.app
    await pilot.press("slash")
    app.query_one("#search-input", Input).value = text
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.query_one(ExchangeList).focus()
    await pilot.pause()


async def main_screen(pilot: Pilot) -> None:
    """The newest exchange selected (a redelivered Order Completed), its body shown."""
    await ready(pilot)


async def findings(pilot: Pilot) -> None:
    """The findings of the Purchase event: a vendor event name and a revenue sent as text."""
    await ready(pilot)
    await select(pilot, PURCHASE_ID, FINDINGS_TAB)


async def headers(pilot: Pilot) -> None:
    """The headers of the direct-endpoint-tester request refused with 401 for its API key."""
    await ready(pilot)
    await select(pilot, WRONG_KEY_ID, HEADERS_TAB)


async def held(pilot: Pilot) -> None:
    """A request held for a person to answer, counting down to its fallback."""
    await ready(pilot)
    await select(pilot, HELD_ID, RESPONSE_TAB)


async def answer(pilot: Pilot) -> None:
    """The held request being answered by hand: 429 with Retry-After and a JSON body."""
    await ready(pilot)
    await select(pilot, HELD_ID)
    app = pilot.app
    await pilot.press("r")
    await pilot_until(pilot, lambda: isinstance(app.screen, ResponseScreen), what="the answer dialog")
    dialog = app.screen
    dialog.query_one("#status", Input).value = "429"
    dialog.query_one("#headers", TextArea).load_text("Retry-After: 30")
    body = dialog.query_one("#body", TextArea)
    body.load_text('{\n  "message": "rate limited: try again in 30 s"\n}')
    for field in dialog.query("Input, TextArea"):
        field.cursor_blink = False  # the cursor is drawn however long the machine takes to get here
    body.focus()
    await pilot.pause()


async def rules(pilot: Pilot) -> None:
    """The rules screen: the vendor-name rule on, the screen rule switched off."""
    await ready(pilot)
    await pilot.press("R")
    await pilot.pause()


async def refused(pilot: Pilot) -> None:
    """The list filtered to the requests answered with an error status."""
    await ready(pilot)
    await search(pilot, "status>=400")


async def help_screen(pilot: Pilot) -> None:
    """The help screen: every key and its id for remapping."""
    await ready(pilot)
    await pilot.press("question_mark")
    await pilot.pause()


async def tester(pilot: Pilot) -> None:
    """The event tester with Order Completed picked from the semantic events, linted as typed."""
    await ready(pilot)
    app = pilot.app
    assert isinstance(app, InspectorApp)
    screen = EventTesterScreen(LOCAL_URL, API_KEY, rng=random.Random(7), now=START)
    await app.push_screen(screen)
    await pilot.pause()
    templates = screen.query_one("#templates", OptionList)
    templates.highlighted = [label for label, _ in screen.templates].index("Order Completed · E-commerce v2")
    templates.action_select()
    editor = screen.query_one("#event", TextArea)
    editor.cursor_blink = False  # the cursor is drawn however long the machine takes to get here
    await pilot_until(pilot, lambda: "Order Completed" in editor.text
                      and str(screen.query_one("#lint", Static).content) == str(lint_text(editor.text)),
                      what="the picked event is linted")


async def delivery(pilot: Pilot) -> None:
    """Event Delivery over the scene, its biggest error group opened."""
    await ready(pilot)
    await pilot.press("D")
    app = pilot.app
    await pilot_until(pilot, lambda: app.screen.query("#groups") and app.screen.query_one("#groups").row_count,
                      what="the delivery screen shows its groups")
    await pilot.press("enter")
    await pilot_until(pilot, lambda: app.screen.query_one("#group-exchanges").row_count,
                      what="the group lists its exchanges")
    await pilot.pause()


@dataclass(frozen=True)
class Shot:
    """One picture: whether its scene holds a request, and how to get there from start-up."""

    held: bool
    setup: Callable[[Pilot], Awaitable[None]]


SHOTS: dict[str, Shot] = {
    "main": Shot(False, main_screen),
    "findings": Shot(False, findings),
    "headers": Shot(False, headers),
    "held": Shot(True, held),
    "answer": Shot(True, answer),
    "rules": Shot(False, rules),
    "search": Shot(False, refused),
    "help": Shot(False, help_screen),
    "tester": Shot(False, tester),
    "delivery": Shot(False, delivery),
}


def use_utc() -> None:
    """Show times in UTC, so the list reads 10:00:xx wherever it is rendered."""
    os.environ["TZ"] = "UTC"
    time.tzset()

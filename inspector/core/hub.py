"""The hub: the one object every UI talks to.

The receiver hands each request to `answer()` and then `record()`; UIs `subscribe()`
to what happens, list and `resolve()` held requests, change the policy and search
the history. Nothing here knows about HTTP servers or terminals: forwarding to the
user's endpoint goes through the injected `forwarder` (the receiver's aiohttp client).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson

from .checks.answers import Limits, judge, redelivery_finding
from .event_delivery import DeliveryReport, summarize
from .model import Answer, Destination, Exchange, Summary
from .policy import Forward, Hold, Policy, Reply
from .query import Query
from .store import History


@dataclass(slots=True)
class Notice:
    """What just happened: `kind` is "arrived", "held", "released", "recorded" or "tunnel".

    A recorded exchange comes with the summary the history made of it. A "tunnel"
    notice is about no exchange (`exchange` is None): read `Hub.tunnel`.
    """

    kind: str
    exchange: Exchange | None
    summary: Summary | None = None


@dataclass(frozen=True, slots=True)
class TunnelState:
    """How Segment reaches us. `status`: "off", "opening", "up", "down", "unavailable"
    or "external" (a public URL the user brought); `note` says why there is no URL."""

    status: str
    public_url: str | None = None
    note: str = ""


Subscriber = Callable[[Notice], None]
Forwarder = Callable[[Exchange, str], Awaitable[Destination]]
"""Send an exchange's request to a URL and say what came back; it never raises for a
network failure, it returns a Destination with `error` set."""

# Forwarded answers remembered by messageId, to compare a redelivery's answer with the first.
REMEMBERED_ANSWERS = 100_000


@dataclass(slots=True)
class _Held:
    exchange: Exchange
    future: asyncio.Future[tuple[Reply | Forward, str]]
    deadline: float


class Hub:
    def __init__(self, history: History, policy: Policy | None = None, *,
                 hold_timeout: float = 30.0, clock: Callable[[], float] = time.time,
                 forwarder: Forwarder | None = None, limits: Limits = Limits()) -> None:
        self.history = history
        self.policy = policy or Policy()
        self.hold_timeout = hold_timeout
        self.clock = clock
        self.forwarder = forwarder
        self.limits = limits  # how fast the endpoint must answer, for judging it
        self._answers: dict[str, tuple[str, Destination]] = {}
        self._subscribers: list[Subscriber] = []
        self._held: dict[str, _Held] = {}
        self.public_urls: list[str] = []
        self.tunnel: TunnelState | None = None

    # -- subscribing -------------------------------------------------------------

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call `subscriber` with every Notice; returns the function that unsubscribes."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def _notify(self, kind: str, exchange: Exchange | None, summary: Summary | None = None) -> None:
        notice = Notice(kind, exchange, summary)
        for subscriber in list(self._subscribers):
            subscriber(notice)

    def set_tunnel(self, state: TunnelState) -> None:
        """The tunnel changed: keep its state, its URL as the public one, and tell the UIs."""
        self.tunnel = state
        self.public_urls = [state.public_url] if state.public_url else []
        self._notify("tunnel", None)

    # -- the receiver's side -----------------------------------------------------

    async def answer(self, exchange: Exchange) -> Answer:
        """Choose the answer to an exchange, waiting for a person if it is held."""
        exchange.redelivery = self.history.redelivery(
            [event.message_id or "" for event in exchange.events], exchange.time, exchange.id)
        self._notify("arrived", exchange)
        decision = self.policy.decide(exchange)
        forward = self.policy.forward
        mirror = None
        if forward is not None and forward.mirror and not exchange.truncated:
            # Mirror: forwarded alongside the policy's answer, and awaited before answering
            # so that the exchange is kept with both.
            mirror = asyncio.ensure_future(self._forward(exchange, forward.url))
        if decision.chosen_by == "forward":
            return await self._forwarded_answer(exchange, decision.detail, "forward")
        if decision.reply is None:
            choice, chosen_by = await self._hold(exchange)
            if isinstance(choice, Forward):
                if mirror is not None:
                    mirror.cancel()
                return await self._forwarded_answer(exchange, choice.url, chosen_by)
            reply, detail = choice, ""
        else:
            reply, chosen_by, detail = decision.reply, decision.chosen_by, decision.detail
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if mirror is not None:
            await mirror
            detail = detail or str(forward)
        exchange.answer = Answer(reply.status, reply.body(), chosen_by, detail, reply.delay)
        return exchange.answer

    # -- forwarding to the user's endpoint ---------------------------------------

    async def _forward(self, exchange: Exchange, url: str) -> Destination:
        """Forward the request, keep the endpoint's answer on the exchange and judge it."""
        if self.forwarder is None:
            destination = Destination(url, error="forwarding is not available (no forwarder)")
        else:
            destination = await self.forwarder(exchange, url)
        exchange.destination = destination
        # A held request forwarded by hand after its mirror copy: the last answer is judged.
        exchange.findings = [f for f in exchange.findings if not f.code.startswith("ANS")]
        exchange.findings.extend(judge(exchange, destination, self.limits))
        key = ",".join(event.message_id or "" for event in exchange.events)
        if key and all(event.message_id for event in exchange.events):
            first = self._answers.get(key)
            if first is None:
                if len(self._answers) >= REMEMBERED_ANSWERS:
                    del self._answers[next(iter(self._answers))]
                self._answers[key] = (exchange.id, destination)
            elif first[0] != exchange.id:
                differs = redelivery_finding(first[0], first[1], destination)
                if differs is not None:
                    exchange.findings.append(differs)
        return destination

    async def _forwarded_answer(self, exchange: Exchange, url: str, chosen_by: str) -> Answer:
        """Segment gets what the endpoint answered, or 503 when no answer came (so it retries)."""
        destination = await self._forward(exchange, url)
        if destination.status is None:
            message = f"destination unreachable: {destination.error}"
            exchange.answer = Answer(503, orjson.dumps({"message": message}), chosen_by,
                                     f"{url}: {destination.error}")
        else:
            passed = [(name, value) for name, value in destination.headers
                      if name.lower() in ("location", "retry-after")]
            exchange.answer = Answer(destination.status, destination.body, chosen_by, url,
                                     content_type=destination.header("Content-Type") or "",
                                     headers=passed)
        return exchange.answer

    async def _hold(self, exchange: Exchange) -> tuple[Reply | Forward, str]:
        hold = self.policy.hold or Hold(timeout=self.hold_timeout)
        future: asyncio.Future[tuple[Reply | Forward, str]] = asyncio.get_running_loop().create_future()
        self._held[exchange.id] = _Held(exchange, future, self.clock() + hold.timeout)
        exchange.held = True
        self._notify("held", exchange)
        try:
            return await asyncio.wait_for(asyncio.shield(future), hold.timeout)
        except TimeoutError:
            forward = self.policy.forward if self.policy.forwarding else None
            return hold.fallback or forward or self.policy.default, "hold timeout"
        finally:
            self._held.pop(exchange.id, None)
            self._notify("released", exchange)

    def record(self, exchange: Exchange) -> None:
        """Keep an answered exchange and tell the UIs."""
        self._notify("recorded", exchange, self.history.add(exchange))

    # -- the UIs' side -----------------------------------------------------------

    def start_holding(self, query: Query | None = None, *, count: int | None = None,
                      timeout: float | None = None, fallback: Reply | None = None) -> Hold:
        """Hold requests (those `query` matches, the next `count` of them) for a person."""
        self.policy.hold = Hold(query, self.hold_timeout if timeout is None else timeout,
                                count, fallback)
        return self.policy.hold

    def stop_holding(self) -> None:
        """New requests are answered by the policy again; held ones stay held."""
        self.policy.hold = None

    def held(self) -> list[tuple[Exchange, float]]:
        """Held exchanges, oldest first, with the time at which each falls back."""
        return [(held.exchange, held.deadline) for held in self._held.values()]

    def resolve(self, exchange_id: str, reply: Reply) -> bool:
        """Answer a held exchange; False if it is no longer held."""
        held = self._held.get(exchange_id)
        if held is None or held.future.done():
            return False
        held.future.set_result((reply, "hold"))
        return True

    def resolve_forward(self, exchange_id: str, url: str | None = None) -> bool:
        """Answer a held exchange with what the endpoint at `url` (default: the policy's
        forward URL) answers to it; False if it is no longer held or there is no URL."""
        url = url or (self.policy.forward.url if self.policy.forward else None)
        held = self._held.get(exchange_id)
        if url is None or held is None or held.future.done():
            return False
        held.future.set_result((Forward(url), "hold: forward"))
        return True

    def release_all(self, reply: Reply | None = None, chosen_by: str = "hold released") -> int:
        """Answer every held exchange (with the fallback unless a reply is given)."""
        if reply is None:
            reply = (self.policy.hold.fallback if self.policy.hold else None) or self.policy.default
        count = 0
        for held in list(self._held.values()):
            if not held.future.done():
                held.future.set_result((reply, chosen_by))
                count += 1
        return count

    def search(self, query: Query | None = None, limit: int | None = None) -> list[Summary]:
        return self.history.search(query, limit)

    def get(self, exchange_id: str) -> Exchange | None:
        return self.history.get(exchange_id)

    # -- Event Delivery and review ---------------------------------------------------

    def delivery(self, query: Query, now: float | None = None) -> DeliveryReport:
        """Event Delivery over the kept exchanges the query matches (see core.event_delivery)."""
        return summarize(self.history, query, self.clock() if now is None else now)

    def review_history(self) -> History:
        """A history in the same directory for a review run to keep its requests in, as a
        session of its own: start_session(), add() each, close()."""
        return History(self.history.directory)

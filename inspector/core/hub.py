"""The hub: the one object every UI talks to.

The receiver hands each request to `answer()` and then `record()`; UIs `subscribe()`
to what happens, list and `resolve()` held requests, change the policy and search
the history. Nothing here knows about HTTP servers or terminals.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from .model import Answer, Exchange, Summary
from .policy import Hold, Policy, Reply
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


@dataclass(slots=True)
class _Held:
    exchange: Exchange
    future: asyncio.Future[tuple[Reply, str]]
    deadline: float


class Hub:
    def __init__(self, history: History, policy: Policy | None = None, *,
                 hold_timeout: float = 30.0, clock: Callable[[], float] = time.time) -> None:
        self.history = history
        self.policy = policy or Policy()
        self.hold_timeout = hold_timeout
        self.clock = clock
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
        if decision.reply is None:
            reply, chosen_by = await self._hold(exchange)
            detail = ""
        else:
            reply, chosen_by, detail = decision.reply, decision.chosen_by, decision.detail
        if reply.delay:
            await asyncio.sleep(reply.delay)
        exchange.answer = Answer(reply.status, reply.body(), chosen_by, detail, reply.delay)
        return exchange.answer

    async def _hold(self, exchange: Exchange) -> tuple[Reply, str]:
        hold = self.policy.hold or Hold(timeout=self.hold_timeout)
        future: asyncio.Future[tuple[Reply, str]] = asyncio.get_running_loop().create_future()
        self._held[exchange.id] = _Held(exchange, future, self.clock() + hold.timeout)
        exchange.held = True
        self._notify("held", exchange)
        try:
            return await asyncio.wait_for(asyncio.shield(future), hold.timeout)
        except TimeoutError:
            return hold.fallback or self.policy.default, "hold timeout"
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

    def release_all(self, reply: Reply | None = None, chosen_by: str = "hold released") -> int:
        """Answer every held exchange (with the fallback unless a reply is given)."""
        count = 0
        for held in list(self._held.values()):
            if not held.future.done():
                fallback = (self.policy.hold.fallback if self.policy.hold else None) or self.policy.default
                held.future.set_result((reply or fallback, chosen_by))
                count += 1
        return count

    def search(self, query: Query | None = None, limit: int | None = None) -> list[Summary]:
        return self.history.search(query, limit)

    def get(self, exchange_id: str) -> Exchange | None:
        return self.history.get(exchange_id)

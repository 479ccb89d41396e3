"""The hub: the one object every UI talks to.

The receiver hands each request to `answer()` and then `record()`; UIs `subscribe()`
to what happens, list and `resolve()` held requests, change how we answer and search
the history, only through the methods here: each change is announced to every
subscriber, so two UIs never disagree. Nothing here knows about HTTP servers or
terminals: forwarding to the user's endpoint goes through the injected `forwarder`
(the receiver's aiohttp client).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import orjson

from .checks.answers import Limits, judge, redelivery_finding
from .event_delivery import DeliveryReport, summarize
from .history import History
from .history.rows import Rows
from .marks import Marks
from .model import Answer, ByRule, ChosenBy, Destination, Exchange, Summary, endpoint_answer
from .policy import Forward, Hold, Policy, Reply, Rule
from .query import Query

if TYPE_CHECKING:
    from .plans import Checking

NoticeKind = Literal["arrived", "held", "released", "recorded", "tunnel",
                     "answer", "rules", "holding", "forward", "urls", "history", "plan"]


@dataclass(frozen=True, slots=True)
class Notice:
    """What just happened; immutable once sent. Subscribers hear it on the event loop's thread.

    About an exchange: "arrived", "held", "released", "recorded" (with the summary the
    history made of it). About no exchange (`exchange` is None), read the hub for the
    new state: "tunnel" (`Hub.tunnel`), "answer" (the default answer), "rules",
    "holding" (whether new requests are held), "forward", "urls" (the receiving URLs),
    "history" (the history said something: `Hub.history_trouble()`, `Hub.problems`; it may
    come from the history's writer thread).
    """

    kind: NoticeKind
    exchange: Exchange | None
    summary: Summary | None = None


TunnelStatus = Literal["off", "opening", "up", "down", "unavailable", "external"]


@dataclass(frozen=True, slots=True)
class TunnelState:
    """How Segment reaches us. `status`: "off", "opening", "up", "down", "unavailable"
    or "external" (a public URL the user brought); `note` says why there is no URL."""

    status: TunnelStatus
    public_url: str | None = None
    note: str = ""


Subscriber = Callable[[Notice], None]
Forwarder = Callable[[Exchange, str], Awaitable[Destination]]
"""Send an exchange's request to a URL and say what came back; it never raises for a
network failure, it returns a Destination with `error` set."""

def person() -> str:
    """user@host: who is at this inspector, as every answer a person chooses records it."""
    import getpass
    import socket

    try:
        return f"{getpass.getuser()}@{socket.gethostname()}"
    except (OSError, KeyError):
        return "someone"


# Forwarded answers remembered by messageId, to compare a redelivery's answer with the first.
REMEMBERED_ANSWERS = 100_000


@dataclass(slots=True)
class _Held:
    exchange: Exchange
    future: asyncio.Future[tuple[Reply | Forward, ChosenBy]]
    deadline: float
    by: str = ""  # who answered it


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
        self.person = person()  # who answers a held request from this inspector's own UI
        self.marks = Marks(history.directory)
        self._answers: dict[str, tuple[str, Destination]] = {}
        self._subscribers: list[Subscriber] = []
        self._held: dict[str, _Held] = {}
        self.public_urls: list[str] = []
        self.local_url = ""
        self.tunnel: TunnelState | None = None
        self.checking: Checking | None = None  # the tracking plan every arriving event is checked against
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        said = history.warn

        def warn(text: str) -> None:
            said(text)
            self._notify("history")

        history.warn = warn

    @property
    def attached(self) -> str:
        """The local hub is no other inspector's (see HubAPI)."""
        return ""

    # -- subscribing -------------------------------------------------------------

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call `subscriber` with every Notice, on the event loop's thread; returns the function
        that unsubscribes."""
        try:
            self.bind(asyncio.get_running_loop())
        except RuntimeError:
            pass
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The event loop subscribers run on (the receiver's, the TUI's): notices from other
        threads (the history's writer) are handed over to it."""
        if self._loop is None or self._loop.is_closed():
            self._loop, self._loop_thread = loop, threading.get_ident()

    def _notify(self, kind: NoticeKind, exchange: Exchange | None = None,
                summary: Summary | None = None) -> None:
        notice = Notice(kind, exchange, summary)
        loop = self._loop
        if loop is not None and threading.get_ident() != self._loop_thread and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._tell, notice)
                return
            except RuntimeError:  # the loop closed meanwhile: nobody is listening there any more
                pass
        self._tell(notice)

    def _tell(self, notice: Notice) -> None:
        for subscriber in list(self._subscribers):
            subscriber(notice)

    # -- where Segment sends requests ------------------------------------------------

    def check_with(self, checking: Checking | None) -> None:
        """Check every event that arrives from now on against this plan (None: no plan)."""
        self.checking = checking
        self._notify("plan")

    def set_tunnel(self, state: TunnelState) -> None:
        """The tunnel changed: keep its state, its URL as the public one, and tell the UIs."""
        self.tunnel = state
        self.public_urls = [state.public_url] if state.public_url else []
        self._notify("tunnel")

    def set_local_url(self, url: str) -> None:
        """The receiver listens at `url`."""
        self.local_url = url
        self._notify("urls")

    def receiving_url(self) -> str:
        """The URL to give Segment: the public one when there is one, else the local one."""
        return self.public_urls[0] if self.public_urls else self.local_url

    # -- the receiver's side -----------------------------------------------------

    async def answer(self, exchange: Exchange) -> Answer:
        """Choose the answer to an exchange, waiting for a person if it is held. A Tracking API
        call (kind "source") is answered by the rules, holds and the default too, never forwarded:
        its events are delivered by local Segment once it is accepted."""
        source = exchange.kind == "source"
        if not source:  # an SDK's events come again as deliveries, with the same messageIds
            exchange.redelivery = self.history.redelivery(
                [event.message_id or "" for event in exchange.events], exchange.time, exchange.id)
        self._notify("arrived", exchange)
        decision = self.policy.decide(exchange)
        forward = None if source else self.policy.forward
        mirror = None
        if forward is not None and forward.mirror and not exchange.truncated:
            # Mirror: forwarded alongside the policy's answer, and awaited before answering
            # so that the exchange is kept with both.
            mirror = asyncio.ensure_future(self._forward(exchange, forward.url))
        if decision.chosen_by == "forward":
            return await self._forwarded_answer(exchange, decision.detail, "forward")
        chosen_by: ChosenBy | ByRule
        if decision.reply is None:
            choice, chosen_by, by = await self._hold(exchange)
            if isinstance(choice, Forward):
                if mirror is not None:
                    mirror.cancel()
                forwarded = await self._forwarded_answer(exchange, choice.url, chosen_by)
                forwarded.detail += f" (by {by})" if by else ""
                return forwarded
            reply, detail = choice, f"by {by}" if by else ""
        else:
            reply, chosen_by, detail = decision.reply, decision.chosen_by, decision.detail
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if mirror is not None:
            await mirror
            detail = detail or str(forward)
        exchange.answer = Answer(reply.status, reply.body(), chosen_by, detail, reply.delay,
                                 reply.content_type(), reply.extra_headers())
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

    async def _forwarded_answer(self, exchange: Exchange, url: str, chosen_by: ChosenBy | ByRule) -> Answer:
        """Segment gets what the endpoint answered, or 503 when no answer came (so it retries)."""
        destination = await self._forward(exchange, url)
        answer = endpoint_answer(destination, chosen_by, url)
        if answer is None:
            message = f"destination unreachable: {destination.error}"
            answer = Answer(503, orjson.dumps({"message": message}), chosen_by, f"{url}: {destination.error}")
        exchange.answer = answer
        return exchange.answer

    async def _hold(self, exchange: Exchange) -> tuple[Reply | Forward, ChosenBy, str]:
        """What a person chose for a held exchange, how, and who (if someone did)."""
        hold = self.policy.hold or Hold(timeout=self.hold_timeout)
        future: asyncio.Future[tuple[Reply | Forward, ChosenBy]] = asyncio.get_running_loop().create_future()
        held = self._held[exchange.id] = _Held(exchange, future, self.clock() + hold.timeout)
        exchange.held = True
        self._notify("held", exchange, exchange.summary())
        try:
            choice, chosen_by = await asyncio.wait_for(asyncio.shield(future), hold.timeout)
            return choice, chosen_by, held.by
        except TimeoutError:
            forward = self.policy.forward if self.policy.forwarding and exchange.kind != "source" else None
            return hold.fallback or forward or self.policy.default, "hold timeout", ""
        finally:
            self._held.pop(exchange.id, None)
            self._notify("released", exchange)

    def record(self, exchange: Exchange) -> None:
        """Keep an answered exchange and tell the UIs."""
        self._notify("recorded", exchange, self.history.add(exchange))

    # -- the UIs' side: how new requests are answered -----------------------------

    @property
    def default(self) -> Reply:
        """What a request no rule, hold or forward answers gets."""
        return self.policy.default

    def set_default(self, reply: Reply) -> None:
        self.policy.default = reply
        self._notify("answer")

    @property
    def api_keys(self) -> frozenset[str]:
        return self.policy.api_keys

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The rules in the order they apply; change them with the methods below."""
        return tuple(self.policy.rules)

    def add_rule(self, rule: Rule, at: int | None = None) -> None:
        """Add a rule after the others (it answers what no earlier rule matches), or at `at`."""
        self.policy.add_rule(rule, at)
        self._notify("rules")

    def replace_rule(self, index: int, rule: Rule) -> None:
        """The rule at `index` becomes this one, in the same place."""
        self.policy.rules[index] = rule
        self._notify("rules")

    def remove_rule(self, index: int) -> Rule:
        """Remove a rule; returns it, so that it can be put back."""
        rule = self.policy.rules.pop(index)
        self._notify("rules")
        return rule

    def toggle_rule(self, index: int) -> None:
        """Enable a disabled rule, disable an enabled one."""
        self.policy.toggle_rule(index)
        self._notify("rules")

    def move_rule(self, index: int, step: int) -> int:
        """Move a rule `step` places (negative: earlier); returns where it is now."""
        target = self.policy.move_rule(index, step)
        self._notify("rules")
        return target

    @property
    def forward(self) -> Forward | None:
        """Where requests are forwarded (or mirrored) to; None when they are not."""
        return self.policy.forward

    def set_forward(self, forward: Forward | None) -> None:
        self.policy.forward = forward
        self._notify("forward")

    def answering(self) -> str:
        """How new requests are answered, in a few words: "200", "forward to URL"..."""
        forward = self.policy.forward
        if forward is None:
            return str(self.policy.default)
        return (f"{self.policy.default}, " if forward.mirror else "") + str(forward)

    @property
    def holding(self) -> Hold | None:
        """Which new requests are held for a person; None when none are."""
        return self.policy.hold

    def start_holding(self, query: Query | None = None, *, count: int | None = None,
                      timeout: float | None = None, fallback: Reply | None = None) -> Hold:
        """Hold requests (those `query` matches, the next `count` of them) for a person."""
        self.policy.hold = Hold(query, self.hold_timeout if timeout is None else timeout,
                                count, fallback)
        self._notify("holding")
        return self.policy.hold

    def stop_holding(self) -> None:
        """New requests are answered by the policy again; held ones stay held."""
        self.policy.hold = None
        self._notify("holding")

    # -- the UIs' side: held requests --------------------------------------------

    def held(self) -> list[tuple[Exchange, float]]:
        """Held exchanges, oldest first, with the time at which each falls back."""
        return [(held.exchange, held.deadline) for held in self._held.values()]

    def resolve(self, exchange_id: str, reply: Reply, by: str | None = None) -> bool:
        """Answer a held exchange, as `by` (a viewer's name; default: this inspector's person);
        False if it is no longer held."""
        held = self._held.get(exchange_id)
        if held is None or held.future.done():
            return False
        held.by = by or self.person
        held.future.set_result((reply, "hold"))
        return True

    def resolve_forward(self, exchange_id: str, url: str | None = None, by: str | None = None) -> bool:
        """Answer a held exchange with what the endpoint at `url` (default: the policy's
        forward URL) answers to it; False if it is no longer held or there is no URL."""
        url = url or (self.policy.forward.url if self.policy.forward else None)
        held = self._held.get(exchange_id)
        if url is None or held is None or held.future.done() or held.exchange.kind == "source":
            return False  # an SDK's call is not a partner request: local Segment delivers its events
        held.by = by or self.person
        held.future.set_result((Forward(url), "hold: forward"))
        return True

    def release_all(self, reply: Reply | None = None, chosen_by: ChosenBy = "hold released") -> int:
        """Answer every held exchange (with the fallback unless a reply is given)."""
        if reply is None:
            reply = (self.policy.hold.fallback if self.policy.hold else None) or self.policy.default
        count = 0
        for held in list(self._held.values()):
            if not held.future.done():
                held.future.set_result((reply, chosen_by))
                count += 1
        return count

    # -- the UIs' side: what was received ----------------------------------------

    def search(self, query: Query | None = None, limit: int | None = None, *,
               newest_first: bool = True, held: bool = False) -> list[Summary]:
        """Stored exchanges the query matches; with `held`, also the requests held now
        (they are the newest: not stored until answered)."""
        found = self.history.search(query, limit, newest_first)
        if not held:
            return found
        waiting = self._waiting(query)
        found = waiting[::-1] + found if newest_first else found + waiting
        return found if limit is None else found[:limit]

    def rows(self, query: Query | None = None) -> Rows:
        """Stored exchanges the query matches, then the requests held now, oldest first, as row
        references: what a list of any length holds (a Summary is made for a row when read)."""
        return self.history.rows(query).plus(self._waiting(query))

    def _waiting(self, query: Query | None) -> list[Summary]:
        """The held requests `query` matches, oldest first."""
        # A snapshot: a search may run in a thread while requests arrive.
        waiting = [held.exchange.summary() for held in list(self._held.values())]
        return [summary for summary in waiting if query is None or query.matches(summary)]

    def get(self, exchange_id: str) -> Exchange | None:
        """An exchange by id, held or stored (stored ones also by a unique id prefix)."""
        held = self._held.get(exchange_id)
        return held.exchange if held is not None else self.history.get(exchange_id)

    def short_id(self, exchange_id: str) -> str:
        """The shortest prefix (8 characters or more) that names only this kept exchange,
        for `segment-inspector show`; the whole id while it is held (not kept yet)."""
        for size in (8, 10, 12, 14, 16, 20):
            if self.history.starting(exchange_id[:size], most=2) == 1:
                return exchange_id[:size]
        return exchange_id

    def held_exchange(self, exchange_id: str) -> Exchange | None:
        """The exchange if it is held right now, else None."""
        held = self._held.get(exchange_id)
        return held.exchange if held is not None else None

    def stored(self) -> int:
        """How many exchanges the history keeps."""
        return len(self.history)

    def history_trouble(self) -> str | None:
        """Why requests cannot be kept now (they are answered 503), or None."""
        return self.history.trouble

    def history_size(self) -> int:
        """Bytes the history takes on disk (reads the directory: not for every frame)."""
        return self.history.disk_size()

    @property
    def session(self) -> str:
        """The running session of the history: what this run keeps is filed under it."""
        return self.history.session

    @property
    def data_dir(self) -> Path:
        """The directory the history lives in, where a UI saves what the user asks it to write."""
        return self.history.directory

    @property
    def problems(self) -> list[str]:
        """Files of the history that could not be read: their exchanges are missing."""
        return self.history.problems

    def deliveries(self, source_id: str) -> list[Exchange]:
        """The deliveries of a source call's events (Tracking API), oldest first."""
        found = (self.history.get(summary.id) for summary in self.history.deliveries(source_id))
        return [exchange for exchange in found if exchange is not None]

    # -- Event Delivery ------------------------------------------------------------------

    def delivery(self, query: Query, now: float | None = None) -> DeliveryReport:
        """Event Delivery over the kept exchanges the query matches (see core.event_delivery)."""
        return summarize(self.history, query, self.clock() if now is None else now)

"""A hub that is another inspector: what `attach` gives the TUI in place of the local one.

The TUI calls a hub synchronously, so the network lives on a thread of its own with its own
event loop: a read (`rows`, `get`, `search`, `delivery`) waits there for its answer; a change
(rules, the default, holds, answering a held request) is applied to the mirror at once and
sent in order, a refusal told through `trouble`. The live stream keeps the mirror (how new
requests are answered, the held requests, the tunnel) and the viewer's list current; when
the connection drops, `connection` says "reconnecting" and the stream resumes from the
last notice it saw, or the list reloads when the server cannot replay what was missed.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ..core.event_delivery import DeliveryReport
from ..core.history.format import decode, summary_from
from ..core.hub import Notice, Subscriber, TunnelState
from ..core.hub_api import HubUnavailable
from ..core.marks import Marks
from ..core.model import ChosenBy, Exchange, Summary
from ..core.policy import Forward, Hold, Policy, Reply, Rule, parse_rule
from ..core.query import Query, parse
from .client import ControlClient, ControlError, Unreachable

if TYPE_CHECKING:
    from ..core.plans import Checking

T = TypeVar("T")
PAGE = 200  # rows a list fetches at a time
CACHED = 256  # exchanges kept, for the detail pane's back and forth
RETRY = 1.0  # seconds between reconnections


# A row of a page that could not be read: the list draws it, nothing selects it for long.
AWAY = Summary("", 0.0, "", "", None, (), (), (), (), (), None, (), (), 0, False,
               label="(the inspector attached to is away: this row comes back with it)")


class RemoteRows(Sequence[Summary]):
    """A search's result on the server, fetched a page at a time as the list scrolls."""

    def __init__(self, hub: RemoteHub, query: str, first: dict[str, Any]) -> None:
        self._hub, self._query = hub, query
        self._total: int = first["total"]
        self._pages: dict[int, list[Summary]] = {}
        if first.get("offset") is not None:
            self._pages[first["offset"] // PAGE] = [summary_from(doc) for doc in first["exchanges"]]
        self._newest = self[self._total - 1].id if self._total else ""

    def __len__(self) -> int:
        return self._total

    def _page(self, number: int) -> list[Summary]:
        page = self._pages.get(number)
        if page is None:
            try:
                doc = self._hub.wait(self._hub.client.call(
                    "GET", f"/api/exchanges?q={_quote(self._query)}&offset={number * PAGE}&limit={PAGE}"))
            except HubUnavailable:  # drawn while the server is away: rows that say so, asked for again later
                return [AWAY] * min(PAGE, self._total - number * PAGE)
            page = self._pages[number] = [summary_from(item) for item in doc["exchanges"]]
        return page

    @overload
    def __getitem__(self, index: int) -> Summary: ...

    @overload
    def __getitem__(self, index: slice) -> list[Summary]: ...

    def __getitem__(self, index: int | slice) -> Summary | list[Summary]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._total))]
        if index < 0:
            index += self._total
        if not 0 <= index < self._total:
            raise IndexError(index)
        page = self._page(index // PAGE)
        offset = index % PAGE
        if offset >= len(page):  # the server's history shrank (retention) since the count
            raise IndexError(index)
        return page[offset]

    def __iter__(self) -> Iterator[Summary]:
        for index in range(self._total):
            yield self[index]

    def id_at(self, index: int) -> str:
        return self[index].id

    def position(self, exchange_id: str) -> int | None:
        """Where an exchange is: an id newer than the result's newest (an arrival) without asking."""
        if not exchange_id or exchange_id > self._newest:
            return None
        for number, page in self._pages.items():
            for offset, summary in enumerate(page):
                if summary.id == exchange_id:
                    return number * PAGE + offset
        doc = self._hub.wait(self._hub.client.call(
            "GET", f"/api/exchanges?q={_quote(self._query)}&at={_quote(exchange_id)}&limit={PAGE}"))
        if doc["offset"] is None:
            return None
        page = self._pages[doc["offset"] // PAGE] = [summary_from(item) for item in doc["exchanges"]]
        return next((doc["offset"] + i for i, summary in enumerate(page) if summary.id == exchange_id), None)


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def _reply(doc: dict[str, Any] | None) -> Reply | None:
    if doc is None:
        return None
    return Reply(doc["status"], doc.get("message"), float(doc.get("delay") or 0.0), doc.get("body"),
                 tuple((str(k), str(v)) for k, v in (doc.get("headers") or {}).items()))


def _reply_doc(reply: Reply) -> dict[str, Any]:
    return {"status": reply.status, "message": reply.message, "delay": reply.delay,
            "headers": dict(reply.headers), "body": reply.content}


class RemoteHub:
    """The hub's interface (what the TUI calls), over the control API of `client.url`."""

    hold_timeout = 30.0

    def __init__(self, client: ControlClient, data_dir: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.clock = clock
        self._data_dir = data_dir  # where the viewer writes what it exports
        self.marks = Marks(data_dir)  # the viewer's own
        self.policy = Policy()
        self.public_urls: list[str] = []
        self.local_url = ""
        self.tunnel: TunnelState | None = None
        self.connection = "connecting"  # "connected", "reconnecting: why"
        self.trouble: str | None = None  # the last refusal of a change, for the UI to say
        self._status: dict[str, Any] = {}
        self._held: dict[str, tuple[Exchange, float]] = {}
        self._cache: OrderedDict[str, Exchange] = OrderedDict()
        self._subscribers: list[Subscriber] = []
        self._ui_loop: asyncio.AbstractEventLoop | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="remote hub", daemon=True)
        self._thread.start()
        self._sending: asyncio.Queue[Coroutine[Any, Any, Any] | None] | None = None
        self._tasks: list[Future[Any]] = []

    # -- the network thread ------------------------------------------------------------

    def wait(self, work: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        """Run a call on the network thread and wait for its answer (never from that thread)."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("RemoteHub.wait on its own thread")
        try:
            return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout)
        except Unreachable as err:
            raise HubUnavailable(str(err)) from None

    def connect(self) -> None:
        """Read the server's state (Unreachable or ControlError if it cannot be), then follow it."""
        self._adopt(self.wait(self.client.status()))
        self._held_from(self.wait(self.client.held()))
        self.connection = "connected"
        self._tasks.append(asyncio.run_coroutine_threadsafe(self._follow(), self._loop))
        self._tasks.append(asyncio.run_coroutine_threadsafe(self._send_in_order(), self._loop))

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        try:
            self.wait(self.client.close(), timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    async def _send_in_order(self) -> None:
        self._sending = asyncio.Queue()
        while (work := await self._sending.get()) is not None:
            try:
                await work
            except ControlError as err:
                self.trouble = str(err)
                self._tell("history")

    def _send(self, work: Coroutine[Any, Any, Any]) -> None:
        def put() -> None:
            assert self._sending is not None
            self._sending.put_nowait(work)

        self._loop.call_soon_threadsafe(put)

    async def _follow(self) -> None:
        """The stream, for ever: resumed after a drop from the last notice seen."""
        after: int | None = None
        run: str | None = None
        while True:
            try:
                async for notice in self.client.stream(after, run):
                    if self.connection != "connected":
                        self.connection = "connected"
                        self._tell("tunnel")
                    after, run = notice.get("id"), notice.get("run")
                    await self._heard(notice)
            except (ControlError, OSError) as err:
                why = str(err) if isinstance(err, Unreachable) else f"{type(err).__name__}: {err}"
                self.connection = f"reconnecting: {why}"
            else:
                self.connection = "reconnecting: the server closed the stream"
            self._tell("tunnel")
            await asyncio.sleep(RETRY)

    async def _heard(self, notice: dict[str, Any]) -> None:
        kind = notice.get("kind")
        if kind == "resync":
            self._adopt(await self.client.status())
            self._held_from(await self.client.held())
            self._tell("urls")  # the UI reloads its list on "urls"
            return
        if "state" in notice:
            self._adopt(notice["state"])
            self._tell(kind)
            return
        summary = summary_from(notice["summary"]) if notice.get("summary") else None
        if kind in ("held", "released"):
            self._held_from(await self.client.held())
        self._tell(kind, summary)

    def _tell(self, kind: Any, summary: Summary | None = None) -> None:
        notice = Notice(kind, None, summary)
        loop = self._ui_loop
        if loop is None or loop.is_closed():
            return
        for subscriber in list(self._subscribers):
            loop.call_soon_threadsafe(subscriber, notice)

    def _adopt(self, state: dict[str, Any]) -> None:
        """The server's state as the mirror."""
        self._status = state
        self.local_url = state.get("localUrl") or ""
        self.public_urls = list(state.get("publicUrls") or [])
        tunnel = state.get("tunnel")
        self.tunnel = None if tunnel is None else TunnelState(tunnel["status"], tunnel.get("publicUrl"),
                                                              tunnel.get("note") or "")
        default = _reply(state.get("default")) or Reply()
        rules = []
        for item in state.get("rules") or []:
            try:
                rules.append(replace(parse_rule(item["rule"]), enabled=bool(item["enabled"])))
            except ValueError:
                continue  # a rule this viewer's version cannot read: the server still applies it
        hold = state.get("hold")
        forward = state.get("forward")
        self.policy = Policy(
            default=default, rules=rules, api_keys=self.policy.api_keys,
            forward=Forward(forward["url"], bool(forward["mirror"])) if forward else None,
            hold=None if hold is None else Hold(parse(hold["query"]) if hold["query"] else None,
                                                float(hold["timeout"]), hold.get("count"),
                                                _reply(hold.get("fallback"))))

    def _held_from(self, held: list[dict[str, Any]]) -> None:
        self._held = {item["exchange"]["id"]: (decode(item["exchange"]), float(item["deadline"]))
                      for item in held}

    # -- what the TUI calls ------------------------------------------------------------

    @property
    def attached(self) -> str:
        return self.client.url + ("" if self.connection == "connected" else f" ({self.connection})")

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        try:
            self._ui_loop = asyncio.get_running_loop()
        except RuntimeError:
            pass
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._ui_loop = loop

    def record(self, exchange: Exchange) -> None:
        """What the viewer itself sends (its event tester) is kept where it runs, not here."""

    def receiving_url(self) -> str:
        return self.public_urls[0] if self.public_urls else self.local_url

    def set_local_url(self, url: str) -> None:
        """The server's receiving URL is the server's: the viewer has none of its own."""

    @property
    def default(self) -> Reply:
        return self.policy.default

    checking: Checking | None = None  # the plan is the inspector's attached to: its own --plan

    def check_with(self, checking: Checking | None) -> None:
        raise HubUnavailable("a tracking plan belongs to the inspector attached to: start it there with --plan")

    def set_default(self, reply: Reply) -> None:
        self.policy.default = reply
        self._send(self.client.set_default(_reply_doc(reply)))
        self._tell("answer")

    @property
    def api_keys(self) -> frozenset[str]:
        return self.policy.api_keys

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(self.policy.rules)

    def add_rule(self, rule: Rule, at: int | None = None) -> None:
        self.policy.add_rule(rule, at)
        self._send(self.client.add_rule(str(rule), at))
        self._tell("rules")

    def replace_rule(self, index: int, rule: Rule) -> None:
        self.policy.rules[index] = rule
        self._send(self.client.change_rule(index, rule=str(rule)))
        self._tell("rules")

    def remove_rule(self, index: int) -> Rule:
        rule = self.policy.rules.pop(index)
        self._send(self.client.remove_rule(index))
        self._tell("rules")
        return rule

    def toggle_rule(self, index: int) -> None:
        self._send(self.client.change_rule(index, enabled=self.policy.toggle_rule(index)))
        self._tell("rules")

    def move_rule(self, index: int, step: int) -> int:
        target = self.policy.move_rule(index, step)
        self._send(self.client.change_rule(index, move=target - index))
        self._tell("rules")
        return target

    @property
    def forward(self) -> Forward | None:
        return self.policy.forward

    def set_forward(self, forward: Forward | None) -> None:
        self.policy.forward = forward
        self._send(self.client.set_forward(forward.url if forward else None, forward.mirror if forward else False))
        self._tell("forward")

    def answering(self) -> str:
        forward = self.policy.forward
        if forward is None:
            return str(self.policy.default)
        return (f"{self.policy.default}, " if forward.mirror else "") + str(forward)

    @property
    def holding(self) -> Hold | None:
        return self.policy.hold

    def start_holding(self, query: Query | None = None, *, count: int | None = None,
                      timeout: float | None = None, fallback: Reply | None = None) -> Hold:
        self.policy.hold = Hold(query, self.hold_timeout if timeout is None else timeout, count, fallback)
        self._send(self.client.hold(query.text if query else "", count, timeout,
                                    _reply_doc(fallback) if fallback else None))
        self._tell("holding")
        return self.policy.hold

    def stop_holding(self) -> None:
        self.policy.hold = None
        self._send(self.client.stop_holding())
        self._tell("holding")

    def held(self) -> list[tuple[Exchange, float]]:
        return list(self._held.values())

    def held_exchange(self, exchange_id: str) -> Exchange | None:
        held = self._held.get(exchange_id)
        return held[0] if held is not None else None

    def resolve(self, exchange_id: str, reply: Reply) -> bool:
        if self._held.pop(exchange_id, None) is None:
            return False
        self._send(self.client.resolve(exchange_id, _reply_doc(reply)))
        return True

    def resolve_forward(self, exchange_id: str, url: str | None = None) -> bool:
        if exchange_id not in self._held or (url is None and self.policy.forward is None):
            return False
        self._held.pop(exchange_id)
        self._send(self.client.resolve(exchange_id, {"forward": url or True}))
        return True

    def release_all(self, reply: Reply | None = None, chosen_by: ChosenBy = "hold released") -> int:
        if reply is None:
            reply = (self.policy.hold.fallback if self.policy.hold else None) or self.policy.default
        ids = list(self._held)
        for exchange_id in ids:
            self.resolve(exchange_id, reply)
        return len(ids)

    def rows(self, query: Query | None = None) -> RemoteRows:
        text = query.text if query is not None else ""
        first = self.wait(self.client.call("GET", f"/api/exchanges?q={_quote(text)}&offset=0&limit=1"))
        total = first["total"]
        last = total - total % PAGE if total % PAGE else max(0, total - PAGE)
        page = self.wait(self.client.call("GET", f"/api/exchanges?q={_quote(text)}&offset={last}&limit={PAGE}"))
        return RemoteRows(self, text, page)

    def search(self, query: Query | None = None, limit: int | None = None, *,
               newest_first: bool = True, held: bool = False) -> list[Summary]:
        found = self.rows(query)
        picked = list(found[::-1][:limit] if newest_first else found[:limit]) if limit is not None else \
            list(reversed(found) if newest_first else found)
        return picked

    def get(self, exchange_id: str) -> Exchange | None:
        held = self._held.get(exchange_id)
        if held is not None:
            return held[0]
        cached = self._cache.get(exchange_id)
        if cached is not None:
            self._cache.move_to_end(exchange_id)
            return cached
        doc = self.wait(self.client.exchange(exchange_id))
        if doc is None:
            return None
        doc.pop("heldNow", None)
        found = decode(doc)
        if found.answer is not None:  # answered: it will not change any more
            self._cache[exchange_id] = found
            while len(self._cache) > CACHED:
                self._cache.popitem(last=False)
        return found

    def short_id(self, exchange_id: str) -> str:
        return exchange_id[:10]

    def deliveries(self, source_id: str) -> list[Exchange]:
        docs = self.wait(self.client.call("GET", f"/api/exchanges/{_quote(source_id)}/deliveries"))["deliveries"]
        return [decode(doc) for doc in docs]

    def delivery(self, query: Query, now: float | None = None) -> DeliveryReport:
        return DeliveryReport.from_doc(self.wait(self.client.delivery(query.text)))

    def stored(self) -> int:
        return int(self._status.get("stored") or 0)

    def history_trouble(self) -> str | None:
        return self.trouble or self._status.get("historyTrouble")

    def history_size(self) -> int:
        return 0  # the server's disk is the server's to watch

    @property
    def session(self) -> str:
        return str(self._status.get("session") or "")

    @property
    def data_dir(self) -> Path:
        return self._data_dir

    @property
    def problems(self) -> list[str]:
        return []


"""Segment's delivery of each accepted event, from a bounded queue.

Every event a source call has accepted waits here, as the bytes it is delivered as, until
one of `concurrency` workers delivers it through `inspector.delivery` with Segment's
headers and retries: to `deliver_to`, or by default to this receiver's own partner side
(whose records read their link from the delivery's mark). A delivery elsewhere is kept
as its own record (kind "delivery"), linted and judged. The queue holds at most
`queued_events` events and `queued_bytes` bytes; the Tracking API asks `room()` before it
accepts a call, so what was answered 200 always fits, and it is delivered or, when the
inspector stops first, kept as a delivery that says why it was not.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace

import aiohttp
import orjson

from ..core.checks import lint_event
from ..core.hub import Hub
from ..core.intake import sent
from ..core.model import Destination, Event, Link
from ..core.signature import HEADER as SIGNATURE, sign
from ..delivery import Attempt, Retrying, client, deliver, segment_headers
from ..receiver.guard import Guard
from ..receiver.limit import own_delivery_header
from ..receiver.reading import keep
from .options import TrackingOptions

log = logging.getLogger(__name__)

STOPPED = "not delivered: segment-inspector stopped before delivering it"


@dataclass(slots=True)
class Delivery:
    """One accepted event waiting to be delivered."""

    source: str  # the id of the source call
    message_id: str
    body: bytes
    url: str
    own: bool  # to this receiver's own partner side


class Deliveries:
    """The delivery queue and its workers, for one receiver."""

    def __init__(self, hub: Hub, guard: Guard, options: TrackingOptions) -> None:
        self.hub = hub
        self.guard = guard
        self.options = options
        self.retrying = Retrying(options.retries, options.time_scale)
        self.events = 0  # waiting or under way
        self.bytes = 0
        self._queue: asyncio.Queue[Delivery] | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._sessions: dict[bool, aiohttp.ClientSession] = {}
        self._headers = segment_headers(options.api_key, options.settings)
        self._closing = False

    def room(self, events: int, size: int) -> bool:
        """Whether `events` more events of `size` bytes fit (one call always fits an empty queue)."""
        if self._closing:
            return False
        if not self.events:
            return True
        return self.events + events <= self.options.queued_events and self.bytes + size <= self.options.queued_bytes

    def add(self, source: str, events: list[dict[str, object]], url: str, own: bool) -> None:
        """Queue a call's accepted events, in order."""
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._workers = [asyncio.ensure_future(self._work()) for _ in range(self.options.concurrency)]
        for event in events:
            body = orjson.dumps(event)
            self.events += 1
            self.bytes += len(body)
            self._queue.put_nowait(Delivery(source, str(event["messageId"]), body, url, own))

    async def _work(self) -> None:
        assert self._queue is not None
        while True:
            delivery = await self._queue.get()
            try:
                await self._deliver(delivery)
            except asyncio.CancelledError:
                self._unsent(delivery, STOPPED)
                raise
            except Exception as err:  # a bug of ours must not take the receiver down with it
                log.exception("delivering %s failed", delivery.message_id)
                self._unsent(delivery, f"not delivered: segment-inspector failed ({type(err).__name__}: {err})")
            finally:
                self.events -= 1
                self.bytes -= len(delivery.body)
                self._queue.task_done()

    def _session(self, own: bool) -> aiohttp.ClientSession:
        session = self._sessions.get(own)
        if session is None or session.closed:
            session = self._sessions[own] = client(self.options.concurrency, verify=not own)
        return session

    async def _deliver(self, delivery: Delivery) -> None:
        """Deliver one event until Segment would stop; each attempt is linked to the source call."""
        event = orjson.loads(delivery.body)
        headers = dict(self._headers)
        if self.options.shared_secret is not None:
            headers[SIGNATURE] = sign(delivery.body, event, self.options.shared_secret)
        link = Link(delivery.source, delivery.message_id, 1, self.options.retries + 1)
        if delivery.own:  # our partner side reads the link from it
            headers.update(own_delivery_header(link))

        def attempted(attempt: Attempt) -> None:
            if not delivery.own:
                self._keep(attempt, replace(link), event)
            link.attempt += 1
            if delivery.own:  # the headers of the next attempt
                headers.update(own_delivery_header(link))

        await deliver(self._session(delivery.own), delivery.url, delivery.body, self.retrying,
                      on_attempt=attempted, headers=headers, events=[Event.of(event)])

    def _keep(self, attempt: Attempt, link: Link, event: object) -> None:
        """An attempt to another endpoint, kept as a record: linted as delivered, its answer judged."""
        exchange = attempt.exchange
        exchange.kind, exchange.link, exchange.data = "delivery", link, event
        exchange.findings = lint_event(event, now=exchange.time) + exchange.findings
        if keep(self.hub, exchange, self.guard) is not None:
            log.error("cannot keep a delivery of %s", link.message_id)

    def _unsent(self, delivery: Delivery, why: str) -> None:
        """An accepted event the inspector could not deliver: kept as its last attempt, saying why."""
        exchange = sent(url=delivery.url, headers=list(self._headers.items()), body=delivery.body,
                        destination=Destination(delivery.url, error=why), started=time.time())
        exchange.kind = "delivery"
        attempts = self.options.retries + 1
        exchange.link = Link(delivery.source, delivery.message_id, attempts, attempts)
        keep(self.hub, exchange, self.guard)

    async def settle(self) -> None:
        """Wait until every delivery queued is done (tests, benchmarks)."""
        if self._queue is not None:
            await self._queue.join()

    async def close(self) -> None:
        """Stop delivering; what is still queued is kept as not delivered."""
        self._closing = True
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        while self._queue is not None and not self._queue.empty():
            self._unsent(self._queue.get_nowait(), STOPPED)
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()

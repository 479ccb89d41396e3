"""Send Segment's traffic to an endpoint, the way Segment delivers it.

Each event goes out as one POST with Segment's headers (User-Agent Segment.io/1.0,
Accept */*, Cache-Control no-cache, Connection Keep-Alive, Content-Type
application/json, Content-Length, Authorization Basic base64("<key>:"), and
X-Segment-Settings when settings are given), following no redirect and giving up
after `timeout` seconds (segment.md §3.1, §3.3).

A fixed number of worker tasks (`concurrency`) pull events from an iterator one at a
time, so a million-event run holds no more than the events in flight; `rate` spaces
the sends evenly. With `retries`, an attempt Segment retries (408, 423, 429, 5xx but
501, a timeout, a connection error: segment.md §3.4) is sent again, the same bytes with
the same messageId, after a randomized exponential backoff (1 s, 2 s, 4 s, ... up to
10 min, each times 0.5 to 1.5, all times `time_scale` so tests can compress the
waits); what Segment drops (other 4xx, 501, redirects) is not. Segment does not publish
its backoff constants: these are ours.

Results are aggregated as they come (counts per status and call type, a bounded
latency reservoir, the judge's findings by code, the first failures with their
events), and every answer is judged by `inspector.core.checks.answers.judge`, as a
forwarded answer is.
"""

from __future__ import annotations

import asyncio
import base64
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from .core.auth import decode_basic
from .core.checks.answers import Limits, judge, message_of
from .core.intake import events_of, parse_body
from .core.model import Destination, Event, Exchange, segment_outcome
from .replay import MAX_ANSWER, SEGMENT_TIMEOUT, segment_headers, unreachable

BACKOFF_FIRST = 1.0  # seconds before the first retry
BACKOFF_CAP = 600.0
RESERVOIR = 10_000  # latency samples kept for the percentiles
FAILURES_KEPT = 20


def encode_settings(settings: dict[str, Any]) -> str:
    """X-Segment-Settings: base64 of the JSON object of the destination's custom settings."""
    return base64.b64encode(orjson.dumps(settings)).decode("ascii")


def backoff(attempt: int, rng: random.Random, time_scale: float = 1.0) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, ...): randomized exponential."""
    return min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** (attempt - 1)) * rng.uniform(0.5, 1.5) * time_scale


@dataclass(slots=True)
class SendOptions:
    url: str
    api_key: str = "segment"
    settings: str | None = None  # the X-Segment-Settings value, already base64
    concurrency: int = 10
    rate: float | None = None  # events a second, at most
    timeout: float = SEGMENT_TIMEOUT
    retries: int = 0
    time_scale: float = 1.0
    seed: int | None = None


class Latencies:
    """Answer times in seconds: an exact count and maximum, percentiles from a bounded reservoir."""

    def __init__(self, rng: random.Random, size: int = RESERVOIR) -> None:
        self.rng, self.size = rng, size
        self.samples: list[float] = []
        self.count = 0
        self.max = 0.0

    def add(self, seconds: float) -> None:
        self.count += 1
        self.max = max(self.max, seconds)
        if len(self.samples) < self.size:
            self.samples.append(seconds)
        else:
            slot = self.rng.randrange(self.count)  # Algorithm R: every sample equally likely kept
            if slot < self.size:
                self.samples[slot] = seconds

    def percentile(self, p: float) -> float | None:
        if not self.samples:
            return None
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    def to_doc(self) -> dict[str, float | None]:
        doc = {f"p{p}": self.percentile(p) for p in (50, 90, 99)}
        doc["max"] = self.max if self.count else None
        return {key: None if value is None else round(value * 1000, 3) for key, value in doc.items()}


@dataclass(slots=True)
class Failure:
    """An event Segment would not count as delivered, with its last answer."""

    event: Any
    attempts: int
    status: int | None
    error: str | None
    message: str | None
    outcome: str  # "dropped", or "retried" when the retries ran out

    def to_doc(self) -> dict[str, Any]:
        return {"status": self.status, "error": self.error, "message": self.message,
                "attempts": self.attempts, "outcome": self.outcome, "event": self.event}


@dataclass
class SendReport:
    """Everything a send found, aggregated online: it never holds the events sent."""

    target: str
    rng: random.Random = field(default_factory=random.Random)
    events: int = 0  # events whose delivery finished
    delivered: int = 0
    failed: int = 0
    attempts: int = 0
    retries: int = 0
    answered: int = 0  # attempts that got an HTTP answer
    statuses: Counter = field(default_factory=Counter)  # "200", "429", "timeout", "connection refused"
    types: dict[str, Counter] = field(default_factory=dict)  # type -> delivered / failed
    findings: dict[str, dict[str, Any]] = field(default_factory=dict)  # code -> severity, count, example
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0
    down: str | None = None  # the target could not be reached at all
    latencies: Latencies = field(init=False)

    def __post_init__(self) -> None:
        self.latencies = Latencies(self.rng)

    @property
    def all_delivered(self) -> bool:
        return self.down is None and self.failed == 0 and self.events > 0

    def to_doc(self) -> dict[str, Any]:
        return {
            "target": self.target, "events": self.events, "delivered": self.delivered,
            "failed": self.failed, "attempts": self.attempts, "retries": self.retries,
            "seconds": round(self.seconds, 3),
            "events_per_second": round(self.events / self.seconds, 1) if self.seconds else None,
            "statuses": dict(self.statuses), "types": {k: dict(v) for k, v in self.types.items()},
            "latency_ms": self.latencies.to_doc(), "findings": self.findings,
            "failures": [f.to_doc() for f in self.failures], "down": self.down,
        }


class Sender:
    """One send run: workers, pacing, retries and the report."""

    def __init__(self, options: SendOptions, on_progress: Callable[[SendReport], None] | None = None) -> None:
        self.options = options
        self.rng = random.Random(options.seed)
        self.report = SendReport(options.url, rng=random.Random(options.seed))
        self.headers = segment_headers(options.api_key, options.settings)
        self.auth = decode_basic(self.headers["Authorization"])
        self.path = options.url.split("?", 1)[0]
        self.timeout = aiohttp.ClientTimeout(total=options.timeout)
        self.limits = Limits()
        self.on_progress = on_progress
        self.started = 0.0
        self.issued = 0
        self.stop = False

    async def run(self, events: Iterable[Any]) -> SendReport:
        source = iter(events)
        connector = aiohttp.TCPConnector(limit=self.options.concurrency)
        self.started = time.monotonic()
        progress = asyncio.create_task(self._progress()) if self.on_progress else None
        async with aiohttp.ClientSession(connector=connector, skip_auto_headers=("Accept-Encoding",)) as session:
            workers = [asyncio.create_task(self._work(session, source))
                       for _ in range(max(1, self.options.concurrency))]
            try:
                await asyncio.gather(*workers)
            finally:
                for worker in workers:
                    worker.cancel()
                if progress is not None:
                    progress.cancel()
        self.report.seconds = time.monotonic() - self.started
        if self.on_progress:
            self.on_progress(self.report)
        return self.report

    async def _progress(self) -> None:
        while True:
            await asyncio.sleep(0.25)
            self.on_progress(self.report)  # type: ignore[misc]

    async def _pace(self) -> None:
        if not self.options.rate:
            return
        slot = self.started + self.issued / self.options.rate
        self.issued += 1
        wait = slot - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    async def _work(self, session: aiohttp.ClientSession, source: Iterator[Any]) -> None:
        while not self.stop:
            event = next(source, None)
            if event is None:
                return
            await self._pace()
            await self._deliver(session, event)

    async def _deliver(self, session: aiohttp.ClientSession, event: Any) -> None:
        body = orjson.dumps(event)
        view = Event.of(event)
        attempts = 0
        while True:
            attempts += 1
            destination = await self._attempt(session, body)
            self._judge(view, destination)
            outcome = segment_outcome(destination.status)
            if outcome == "retried" and attempts <= self.options.retries and not self.stop:
                self.report.retries += 1
                await asyncio.sleep(backoff(attempts, self.rng, self.options.time_scale))
                continue
            break
        report = self.report
        report.events += 1
        per_type = report.types.setdefault(view.type or "?", Counter())
        if outcome == "delivered":
            report.delivered += 1
            per_type["delivered"] += 1
            return
        report.failed += 1
        per_type["failed"] += 1
        if len(report.failures) < FAILURES_KEPT:
            message = message_of(destination.body) if destination.body else None
            report.failures.append(Failure(event, attempts, destination.status, destination.error,
                                           message, outcome))

    async def _attempt(self, session: aiohttp.ClientSession, body: bytes) -> Destination:
        destination = Destination(self.options.url)
        report = self.report
        report.attempts += 1
        started = time.perf_counter()
        try:
            async with session.post(self.options.url, data=body, headers=self.headers,
                                    allow_redirects=False, timeout=self.timeout) as response:
                destination.status = response.status
                destination.body = await response.content.read(MAX_ANSWER)
                destination.headers = list(response.headers.items())
        except aiohttp.ClientConnectorError as err:
            destination.error = unreachable(err)
            if report.answered == 0:  # never reached: the target is down, stop taking events
                report.down = destination.error
                self.stop = True
        except (asyncio.TimeoutError, TimeoutError):
            destination.error = f"no answer within {self.options.timeout:g} s"
        except aiohttp.ClientError as err:
            destination.error = (str(err) or type(err).__name__).lower()
        destination.duration = time.perf_counter() - started
        if destination.status is not None:
            report.answered += 1
            report.down = None
            report.latencies.add(destination.duration)
            report.statuses[str(destination.status)] += 1
        else:
            report.statuses["timeout" if destination.error.startswith("no answer") else  # type: ignore[union-attr]
                            "connection error"] += 1
        return destination

    def judged(self, views: list[Event], destination: Destination) -> Exchange:
        """The events as sent, with the endpoint's answer and the judge's findings on it."""
        exchange = Exchange(id="", time=0.0, method="POST", path=self.path, events=views, auth=self.auth,
                            destination=destination)
        exchange.findings = judge(exchange, destination, self.limits)
        return exchange

    def _judge(self, view: Event, destination: Destination) -> None:
        for found in self.judged([view], destination).findings:
            entry = self.report.findings.get(found.code)
            if entry is None:
                self.report.findings[found.code] = {"severity": found.severity, "count": 1,
                                                    "example": found.message}
            else:
                entry["count"] += 1


async def send(events: Iterable[Any], options: SendOptions,
               on_progress: Callable[[SendReport], None] | None = None) -> SendReport:
    """Deliver `events` to `options.url` as Segment would; the report of how it went."""
    return await Sender(options, on_progress).run(events)


async def send_once(body: bytes, options: SendOptions) -> Exchange:
    """POST `body` once, byte for byte, as Segment would; the answer is the exchange's
    destination, judged as a forwarded answer is.

    The body is not checked first: a developer may mean to send malformed JSON.
    """
    sender = Sender(options)
    async with aiohttp.ClientSession(skip_auto_headers=("Accept-Encoding",)) as session:
        destination = await sender._attempt(session, body)
    data, error = parse_body(body)
    views = [] if error is not None else [Event.of(event) for event in events_of(data)]
    return sender.judged(views, destination)


def progress_line(total: int | None, duration: float | None) -> Callable[[SendReport], None]:
    """A `\\r`-updated line on stderr: done, delivered, failed, events a second."""
    started = time.monotonic()

    def show(report: SendReport) -> None:
        elapsed = max(time.monotonic() - started, 1e-9)
        if total:
            width = 24
            filled = int(width * min(report.events / total, 1.0))
            bar = f"[{'#' * filled}{'.' * (width - filled)}] {report.events}/{total}"
        elif duration:
            bar = f"{min(elapsed, duration):5.1f}/{duration:g} s  {report.events}"
        else:
            bar = str(report.events)
        sys.stderr.write(f"\r{bar}  delivered {report.delivered}  failed {report.failed}  "
                         f"{report.events / elapsed:7.0f} ev/s ")
        sys.stderr.flush()

    return show

"""Send Segment's traffic to an endpoint, the way Segment delivers it.

Each event goes out as one POST through `inspector.delivery`: Segment's headers (with
X-Segment-Settings when settings are given), no redirect followed, giving up after
`timeout` seconds (segment.md §3.1, §3.3), and with `retries`, Segment's retries and
backoff (`inspector.delivery.retries`).

A fixed number of worker tasks (`concurrency`) pull events from an iterator one at a
time, so a million-event run holds no more than the events in flight; `rate` spaces
the sends evenly.

Results are aggregated as they come (counts per status and call type, a bounded
latency reservoir, the judge's findings by code, the first failures with their
events), and every answer is judged by `inspector.core.checks.answers.judge`, as a
forwarded answer is.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from .core.event_delivery import percentile
from .core.model import Event
from .core.signature import HEADER as SIGNATURE, sign
from .delivery import SEGMENT_TIMEOUT, Attempt, Retrying, client, deliver, segment_headers

RESERVOIR = 10_000  # latency samples kept for the percentiles
FAILURES_KEPT = 20


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
    shared_secret: str | None = None  # sign each body as the Webhooks destination does (X-Signature)


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
        return percentile(sorted(self.samples), p)

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
    statuses: Counter[str] = field(default_factory=Counter)  # "200", "429", "timeout", "connection refused"
    types: dict[str, Counter[str]] = field(default_factory=dict)  # type -> delivered / failed
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

    def __init__(self, options: SendOptions, on_progress: Callable[[SendReport], None] | None = None,
                 on_event: Callable[[Any, list[Attempt]], None] | None = None) -> None:
        self.options = options
        self.on_event = on_event
        self.retrying = Retrying(options.retries, options.time_scale, random.Random(options.seed))
        self.report = SendReport(options.url, rng=random.Random(options.seed))
        self.on_progress = on_progress
        self.started = 0.0
        self.issued = 0
        self.stop = False

    async def run(self, events: Iterable[Any]) -> SendReport:
        source = iter(events)
        self.started = time.monotonic()
        progress = asyncio.create_task(self._progress(self.on_progress)) if self.on_progress else None
        async with client(self.options.concurrency) as session:
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

    async def _progress(self, show: Callable[[SendReport], None]) -> None:
        while True:
            await asyncio.sleep(0.25)
            show(self.report)

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
        view = Event.of(event)
        body, headers = orjson.dumps(event), None
        if self.options.shared_secret is not None:
            headers = {**segment_headers(self.options.api_key, self.options.settings),
                       SIGNATURE: sign(body, event, self.options.shared_secret)}
        attempts = await deliver(session, self.options.url, body, self.retrying,
                                 on_attempt=self._count, stop=lambda: self.stop, api_key=self.options.api_key,
                                 settings=self.options.settings, headers=headers, events=[view],
                                 timeout=self.options.timeout)
        if self.on_event is not None:
            self.on_event(event, attempts)
        report, last = self.report, attempts[-1]
        report.retries += len(attempts) - 1
        report.events += 1
        per_type = report.types.setdefault(view.type or "?", Counter())
        if last.outcome == "delivered":
            report.delivered += 1
            per_type["delivered"] += 1
            return
        report.failed += 1
        per_type["failed"] += 1
        if len(report.failures) < FAILURES_KEPT:
            destination, answer = last.destination, last.exchange.answer
            message = answer.message if answer is not None else None
            report.failures.append(Failure(event, len(attempts), destination.status, destination.error,
                                           message, last.outcome))

    def _count(self, attempt: Attempt) -> None:
        """One attempt in the report: its status or error, its time, the judge's findings."""
        report, destination = self.report, attempt.destination
        report.attempts += 1
        if destination.status is not None:
            report.answered += 1
            report.down = None
            report.latencies.add(destination.duration)
            report.statuses[str(destination.status)] += 1
        else:
            report.statuses["timeout" if (destination.error or "").startswith("no answer") else
                            "connection error"] += 1
            if not attempt.reached and report.answered == 0:  # never reached: the target is down
                report.down = destination.error
                self.stop = True
        for found in attempt.findings:
            entry = report.findings.get(found.code)
            if entry is None:
                report.findings[found.code] = {"severity": found.severity, "count": 1, "example": found.message}
            else:
                entry["count"] += 1


async def send(events: Iterable[Any], options: SendOptions,
               on_progress: Callable[[SendReport], None] | None = None,
               on_event: Callable[[Any, list[Attempt]], None] | None = None) -> SendReport:
    """Deliver `events` to `options.url` as Segment would; the report of how it went.
    `on_event` sees each event with its attempts, the last one deciding, for a caller that
    wants every answer rather than the aggregate."""
    return await Sender(options, on_progress, on_event).run(events)


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

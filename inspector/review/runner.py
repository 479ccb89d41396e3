"""The review run: one scenario per requirement of Segment's partner review, against the user's endpoint.

Every request goes out through `inspector.delivery` (Segment's headers, no redirect
followed, Segment's timeout) and is judged by the forwarding judge; each one is handed to
`keep` (the CLI's history session of its own, or the running TUI's hub) as an exchange of
kind "review", naming the run, so a failure can be opened later. A check reads what came
back and gives a verdict: pass, warn or fail. The scale check sends Segment's
endpoint-tester templates shipped in `templates/` (MIT, see its NOTICE.md) unless others
are given.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from ..core.checks.answers import redelivery_finding
from ..core.files import read_events
from ..core.generate import corpus, examples, message_id, stamp
from ..core.model import Exchange, new_id
from ..core.templates import fill
from ..delivery import SEGMENT_TIMEOUT, Attempt, attempt, client, segment_headers
from ..send import Latencies
from .tester import templates_of

CALL_TYPES = ("identify", "track", "page", "screen", "group", "alias")
REPLAY_EVENTS = 200
REPLAY_CONCURRENCY = 50
KEPT_PER_CHECK = 3  # failing exchanges a check shows in full

GUIDE = "https://segment.com/docs/partners/direct-destination/"
PARTNER_SPEC = "https://segment.com/docs/partners/spec/"
FAQS = "https://segment.com/docs/partners/faqs/"
SPEC = "https://segment.com/docs/connections/spec/"
COMMON = "https://segment.com/docs/connections/spec/common/"
TESTER = "https://github.com/segmentio/direct-integration-tester"
TIMEOUTS = "https://segment.com/docs/connections/destinations/catalog/webhooks/"

VERDICTS = ("pass", "warn", "fail")


@dataclass(slots=True)
class Check:
    """One requirement: its verdict, what happened, and the exchanges that show it."""

    id: str
    title: str
    why: str
    link: str
    verdict: str = "pass"
    detail: str = ""
    exchanges: list[Exchange] = field(default_factory=list)  # the requests that made it warn or fail

    def judge(self, verdict: str, detail: str, shown: Iterable[Exchange] = ()) -> Check:
        self.verdict, self.detail = verdict, detail
        self.exchanges = list(shown)[:KEPT_PER_CHECK]
        return self

    def to_doc(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "verdict": self.verdict, "detail": self.detail,
                "why": self.why, "link": self.link, "exchanges": [e.id for e in self.exchanges]}


@dataclass
class ReviewReport:
    url: str
    started: float
    seconds: float = 0.0
    checks: list[Check] = field(default_factory=list)
    latency: Latencies = field(default_factory=lambda: Latencies(random.Random()))  # the corpus's answers
    timed_out: int = 0  # of the corpus, requests with no answer within the timeout (counted at the timeout)
    sent: int = 0
    down: str | None = None  # the endpoint could not be reached at all
    session: str = ""  # the history session holding every request sent
    id: str = field(default_factory=new_id)  # the run's, in the peer of each exchange it sent

    def count(self, verdict: str) -> int:
        return sum(check.verdict == verdict for check in self.checks)

    @property
    def exit_code(self) -> int:
        """0 when nothing fails, 1 when a check fails, 3 when the endpoint cannot be reached."""
        return 3 if self.down is not None else 1 if self.count("fail") else 0

    def to_doc(self) -> dict[str, Any]:
        return {"endpoint": self.url, "started": self.started, "seconds": round(self.seconds, 3),
                "sent": self.sent, "down": self.down, "session": self.session, "review": self.id,
                "verdicts": {verdict: self.count(verdict) for verdict in VERDICTS},
                "latency_ms": latency_ms(self.latency) | {"timed_out": self.timed_out},
                "checks": [check.to_doc() for check in self.checks]}


@dataclass(slots=True)
class ReviewOptions:
    url: str
    api_key: str
    unsupported: frozenset[str] = frozenset()
    concurrency: int = 10
    # the texts of Segment's tester templates, one event a line; by default those shipped with us
    templates: tuple[str, ...] = field(default_factory=lambda: templates_of())
    seed: int | None = None
    # how long an answer is waited for: Segment's timeout; a slower answer still counts as over 4 s
    timeout: float = SEGMENT_TIMEOUT


def latency_ms(latency: Latencies) -> dict[str, float | None]:
    """p50, p95 (the review's limit is on it), p99 and the max, in milliseconds."""
    values = {f"p{p}": latency.percentile(p) for p in (50, 95, 99)} | {"max": latency.max if latency.count else None}
    return {key: None if value is None else round(value * 1000, 1) for key, value in values.items()}


class Unreachable(Exception):
    """The endpoint could not be reached at all: nothing more is sent."""


def _status(attempt: Attempt) -> str:
    destination = attempt.destination
    if destination.status is None:
        return f"no answer ({destination.error})"
    message = attempt.exchange.answer.message if attempt.exchange.answer is not None else None
    return f"{destination.status}" + (f" {message!r}" if message else "")


def _accepted(attempt: Attempt) -> bool:
    status = attempt.destination.status
    return status is not None and 200 <= status < 300


class Review:
    """One run: `await Review(options, keep=..., on_check=...).run()` -> ReviewReport."""

    def __init__(self, options: ReviewOptions, *, keep: Callable[[Exchange], Any] | None = None,
                 on_check: Callable[[Check], None] | None = None,
                 on_progress: Callable[[str, int, int], None] | None = None) -> None:
        self.options = options
        self.rng = random.Random(options.seed)
        self.keep = keep
        self.on_check = on_check
        self.on_progress = on_progress
        self.report = ReviewReport(options.url, time.time())
        self.attempts: list[Attempt] = []
        self.session: aiohttp.ClientSession | None = None
        self.corpus_results: list[Attempt] = []
        self._examples = {kind: event for kind, event in examples(self.rng) if kind in (*CALL_TYPES, "delete")}

    # -- sending ---------------------------------------------------------------

    async def send(self, label: str, body: bytes, **options: Any) -> Attempt:
        """One request as Segment sends it (`headers` replaces Segment's), kept in the history;
        Unreachable when nothing ever answered."""
        assert self.session is not None
        result = await attempt(self.session, self.options.url, body, api_key=self.options.api_key,
                               timeout=self.options.timeout, **options)
        exchange, destination = result.exchange, result.destination
        exchange.kind, exchange.peer = "review", f"review {self.report.id}: {label}"
        self.attempts.append(result)
        self.report.sent += 1
        if self.keep is not None:
            self.keep(exchange)
        if not result.reached and not any(a.destination.status is not None for a in self.attempts):
            raise Unreachable(destination.error or "cannot connect")
        return result

    async def send_event(self, label: str, event: Any, **options: Any) -> Attempt:
        return await self.send(label, orjson.dumps(event), **options)

    async def send_all(self, label: str, events: list[Any], concurrency: int) -> list[Attempt]:
        """Every event at `concurrency` requests in flight, in order of the list."""
        gate = asyncio.Semaphore(max(1, concurrency))
        done = 0

        async def one(event: Any) -> Attempt:
            nonlocal done
            async with gate:
                result = await self.send_event(label, event)
            done += 1
            if self.on_progress is not None:
                self.on_progress(label, done, len(events))
            return result

        return list(await asyncio.gather(*(one(event) for event in events)))

    # -- the run ---------------------------------------------------------------

    async def run(self) -> ReviewReport:
        began = time.monotonic()
        async with client(max(self.options.concurrency, REPLAY_CONCURRENCY)) as session:
            self.session = session
            try:
                for scenario in (self.https, self.calls, self.delete, self.wrong_key, self.missing_key,
                                 self.malformed, self.unknown_type, self.scale, self.latency,
                                 self.redelivery, self.replay, self.casing, self.answers, self.findings):
                    check = await scenario()
                    self.report.checks.append(check)
                    if self.on_check is not None:
                        self.on_check(check)
            except Unreachable as err:
                self.report.down = str(err)
        self.report.seconds = time.monotonic() - began
        return self.report

    def example(self, kind: str, **fields: Any) -> dict[str, Any]:
        """An event of this type with a messageId of its own: a deduping endpoint sees each as new."""
        event = {**self._examples[kind], **fields}
        if kind != "delete":
            event["messageId"] = message_id(self.rng)
        return event

    async def https(self) -> Check:
        check = Check("https", "the endpoint is HTTPS", "Segment sends only to HTTPS endpoints with a static URL.",
                      GUIDE)
        if self.options.url.lower().startswith("https://"):
            return check.judge("pass", "the URL is https://")
        return check.judge("warn", "the URL is http://: fine while testing, but Segment sends only to https://")

    async def calls(self) -> Check:
        check = Check("calls", "every call type answered 2xx",
                      "Segment sends identify, track, page, screen, group and alias; a type you do not "
                      "support is answered 501, which Segment drops without retrying.", SPEC)
        results = [await self.send_event(f"call {kind}", self.example(kind)) for kind in CALL_TYPES[:1]]
        results += await asyncio.gather(*(self.send_event(f"call {kind}", self.example(kind))
                                          for kind in CALL_TYPES[1:]))
        failing, notes = [], []
        for kind, result in zip(CALL_TYPES, results, strict=False):
            status = result.destination.status
            if _accepted(result):
                continue
            if status == 501 and kind in self.options.unsupported:
                notes.append(f"{kind} 501 (declared unsupported)")
                continue
            hint = ", or declare it with --unsupported " + kind if status == 501 else ""
            notes.append(f"{kind} {_status(result)}{hint}")
            failing.append(result.exchange)
        if failing:
            return check.judge("fail", "; ".join(notes), failing)
        return check.judge("pass", "all answered 2xx" + (f" ({'; '.join(notes)})" if notes else ""))

    async def delete(self) -> Check:
        check = Check("delete", "delete answered 2xx",
                      "Partners must delete a user's data when Segment sends a delete (GDPR/CCPA); a 501 "
                      "fails the review.", PARTNER_SPEC)
        result = await self.send_event("delete", self.example("delete"))
        if _accepted(result):
            return check.judge("pass", f"{result.destination.status}: deletion acknowledged")
        must = ": partners must implement deletion" if result.destination.status == 501 else "; expected 2xx"
        return check.judge("fail", f"{_status(result)} to a delete{must}", [result.exchange])

    def _error_answer(self, check: Check, result: Attempt, wanted: tuple[int, ...], problem: str) -> Check:
        """A refusal is expected: `wanted` with a JSON message passes; another refusal warns."""
        status = result.destination.status
        said = _status(result)
        if status is not None and status in wanted:
            if result.exchange.answer is None or result.exchange.answer.message is None:
                return check.judge("warn", f"{status} without a JSON message: Segment shows its users no reason",
                                   [result.exchange])
            return check.judge("pass", said)
        if status is not None and 400 <= status < 500 and status != 429:
            return check.judge("warn", f"{said} to {problem}; expected {' or '.join(map(str, wanted))}",
                               [result.exchange])
        return check.judge("fail", f"{said} to {problem}; expected {' or '.join(map(str, wanted))}",
                           [result.exchange])

    async def wrong_key(self) -> Check:
        check = Check("wrong-key", "a wrong API key is refused with 401",
                      "The API key is the only thing that ties a request to a customer: an endpoint that "
                      "accepts any key accepts anyone's data. 401 (or 403) is not retried.", GUIDE)
        wrong = "segment-inspector-wrong-key" if self.options.api_key != "segment-inspector-wrong-key" else "x"
        result = await self.send_event("wrong API key", self.example("track"), headers=segment_headers(wrong))
        return self._error_answer(check, result, (401, 403), "a wrong API key")

    async def missing_key(self) -> Check:
        check = Check("missing-key", "a request without Authorization is refused with 401",
                      "Segment always sends the API key in Basic auth; a request without it is not from "
                      "Segment.", GUIDE)
        result = await self.send_event("no Authorization", self.example("track"), headers=segment_headers(None))
        return self._error_answer(check, result, (401,), "a request without Authorization")

    async def malformed(self) -> Check:
        check = Check("malformed", "malformed JSON is refused with 400",
                      "400 tells Segment the request is at fault and is not retried; a 5xx makes Segment "
                      "retry it for four hours.", GUIDE)
        body = b'{"type": "track", "event": "Order Completed", "properties": {"revenue": 19.99'
        result = await self.send("malformed JSON", body)
        return self._error_answer(check, result, (400,), "malformed JSON")

    async def unknown_type(self) -> Check:
        check = Check("unknown-type", "an unknown type is answered 501",
                      "501 tells Segment the call type is not supported, so it stops sending it without "
                      "retries.", GUIDE)
        event = {**self.example("track"), "type": "purchase", "messageId": message_id(self.rng)}
        result = await self.send_event("unknown type", event)
        status = result.destination.status
        if status == 501:
            return check.judge("pass", _status(result))
        if status is not None and (200 <= status < 300 or 400 <= status < 500):
            return check.judge("warn", f"{_status(result)} to type \"purchase\"; expected 501", [result.exchange])
        return check.judge("fail", f"{_status(result)} to type \"purchase\" ({result.outcome} by Segment); "
                           "expected 501", [result.exchange])

    def _corpus(self) -> list[Any]:
        events: list[Any] = list(corpus(self.rng))
        for index, text in enumerate(self.options.templates):
            events += [event for _, event in read_events(fill(text, self.rng).encode(), f"template {index}")]
        return events

    async def scale(self) -> Check:
        check = Check("scale", "the corpus is accepted at scale",
                      "Segment's endpoint tester sends every semantic event at once and expects "
                      "\"0 failures\" before review.", TESTER)
        events = self._corpus()
        results = await self.send_all("corpus", events, self.options.concurrency)
        self.corpus_results = results
        for result in results:
            if result.destination.status is not None:
                self.report.latency.add(result.destination.duration)
            elif (result.destination.error or "").startswith("no answer within"):  # as slow as Segment waits
                self.report.timed_out += 1
                self.report.latency.add(max(result.destination.duration, self.options.timeout))
        declared = [r for r in results if r.destination.status == 501
                    and {e.type for e in r.exchange.events} <= self.options.unsupported]
        failed = [r for r in results if not _accepted(r) and r not in declared]
        note = f" ({len(declared)} answered 501 as declared unsupported)" if declared else ""
        successes = len(results) - len(failed)
        wording = (f"{len(failed)} failure{'s' * (len(failed) != 1)}, {successes} success"
                   f"{'es' * (successes != 1)} at concurrency "
                   f"{self.options.concurrency}{note}")
        if failed:
            statuses = sorted({_status(r) for r in failed})[:3]
            return check.judge("fail", f"{wording}; answers: {', '.join(statuses)}", [r.exchange for r in failed])
        return check.judge("pass", wording)

    async def latency(self) -> Check:
        check = Check("latency", "answers come fast: p95 under 2 s, none over 4 s",
                      "Segment waits about 4 s for an answer, then retries the event even though you "
                      "processed it.", TIMEOUTS)
        results = self.corpus_results
        late = [r for r in results if r.destination.duration > 4.0
                or (r.destination.status is None and (r.destination.error or "").startswith("no answer within"))]
        p95 = self.report.latency.percentile(95)
        if late:
            slowest = max(r.destination.duration for r in late)
            unanswered = sum(1 for r in late if r.destination.status is None)
            why = f", {unanswered} with no answer within {self.options.timeout:g} s" if unanswered else ""
            return check.judge("fail", f"{len(late)} of {len(results)} over 4 s (slowest {slowest:.1f} s{why})",
                               sorted((r.exchange for r in late), key=lambda e: -e.duration))
        if p95 is not None and p95 >= 2.0:
            slow = sorted((r for r in results if r.destination.duration >= 2.0), key=lambda r: -r.destination.duration)
            return check.judge("warn", f"p95 {p95:.2f} s, over 2 s", [r.exchange for r in slow])
        if p95 is None:
            return check.judge("warn", "no answer to measure")
        return check.judge("pass", f"p95 {p95 * 1000:.0f} ms, max {self.report.latency.max * 1000:.0f} ms")

    async def redelivery(self) -> Check:
        check = Check("redelivery", "a redelivery is answered the same way",
                      "Delivery is at least once: Segment sends an event again with the same messageId "
                      "after a timeout; dedupe by messageId and answer as the first time.", FAQS)
        body = orjson.dumps(self.example("identify"))
        first = await self.send("redelivery, first", body)
        again = await self.send("redelivery, again", body)
        differs = redelivery_finding(first.exchange.id, first.destination, again.destination)
        if differs is not None:
            again.exchange.findings.append(differs)
            return check.judge("fail", f"{_status(first)} then {_status(again)}", [first.exchange, again.exchange])
        return check.judge("pass", f"{_status(first)} both times")

    async def replay(self) -> Check:
        check = Check("replay", "a replay of old events at a high rate is accepted",
                      "A replay sends months of events again, in any order, as fast as the endpoint takes "
                      "them: it must respect timestamps, not order, and answer 2xx or 429 with "
                      "Retry-After.", FAQS)
        events = []
        source = corpus(self.rng)
        for index in range(REPLAY_EVENTS):
            event = dict(source[index % len(source)])
            event["messageId"] = message_id(self.rng)
            stamp(event, self.rng, at=time.time() - self.rng.uniform(60, 180) * 86400)
            events.append(event)
        self.rng.shuffle(events)
        began = time.monotonic()
        results = await self.send_all("replay", events, REPLAY_CONCURRENCY)
        rate = len(results) / max(time.monotonic() - began, 1e-6)
        limited = [r for r in results if r.destination.status == 429]
        no_retry_after = [r for r in limited if not r.destination.header("Retry-After")]
        refused = [r for r in results if not _accepted(r) and r.destination.status != 429]
        held = f"{len(results)} events 2 to 6 months old, shuffled, at {REPLAY_CONCURRENCY} in flight: " \
               f"held {rate:.0f} events/s"
        if limited:
            held += f", {len(limited)} answered 429"
        if refused:
            statuses = sorted({_status(r) for r in refused})[:3]
            return check.judge("fail", f"{held}; {len(refused)} refused: {', '.join(statuses)}",
                               [r.exchange for r in refused])
        if no_retry_after:
            return check.judge("warn", f"{held}; 429 without Retry-After", [r.exchange for r in no_retry_after])
        return check.judge("pass", held)

    async def casing(self) -> Check:
        check = Check("casing", "camelCase and snake_case keys both accepted",
                      "Segment's libraries read properties and traits case-insensitively (firstName, "
                      "first_name); customers send both.", COMMON)
        identify, track = self.example("identify"), self.example("track")
        pairs = [
            ("identify camelCase", identify | {"traits": {"firstName": "Ada", "lastName": "Lovelace",
                                                          "createdAt": "2024-05-01T10:00:00.000Z"}}),
            ("identify snake_case", identify | {"traits": {"first_name": "Ada", "last_name": "Lovelace",
                                                           "created_at": "2024-05-01T10:00:00.000Z"}}),
            ("track camelCase", track | {"event": "Order Completed",
                                         "properties": {"orderId": "50314b8e", "revenue": 19.99, "currency": "USD"}}),
            ("track snake_case", track | {"event": "Order Completed",
                                          "properties": {"order_id": "50314b8e", "revenue": 19.99, "currency": "USD"}}),
        ]
        results = [await self.send_event(label, event | {"messageId": message_id(self.rng)}) for label, event in pairs]
        refused = [(label, r) for (label, _), r in zip(pairs, results, strict=False) if not _accepted(r)]
        if refused:
            return check.judge("fail", "; ".join(f"{label}: {_status(r)}" for label, r in refused),
                               [r.exchange for _, r in refused])
        return check.judge("pass", "both casings answered 2xx for identify traits and track properties")

    async def answers(self) -> Check:
        check = Check("answers", "errors are JSON with a message; no HTML, no redirect",
                      "Segment shows the endpoint's JSON \"message\" in its debugger and Event Delivery; an "
                      "HTML page or a redirect means the endpoint's own handling did not run, and Segment "
                      "follows no redirect.", GUIDE)
        failing = {"ANS008": ("HTML error page", "HTML error pages"), "ANS010": ("redirect", "redirects")}
        warning = {"ANS006": ("error not application/json", "errors not application/json"),
                   "ANS007": ("error without a JSON message", "errors without a JSON message"),
                   "ANS009": ("error with an empty body", "errors with an empty body")}
        found: dict[str, list[Exchange]] = {}
        for result in self.attempts:
            for code in {f.code for f in result.findings}:
                if code in failing or code in warning:
                    found.setdefault(code, []).append(result.exchange)
        errors = sum(1 for r in self.attempts if (r.destination.status or 0) >= 300)
        parts = [f"{len(found[code])} {(failing | warning)[code][len(found[code]) != 1]} ({code})"
                 for code in sorted(found)]
        shown = [e for code in sorted(found, key=lambda c: c not in failing) for e in found[code]]
        if any(code in failing for code in found):
            return check.judge("fail", "; ".join(parts), shown)
        if found:
            return check.judge("warn", "; ".join(parts), shown)
        if errors == 0:
            return check.judge("warn", "not exercised: the endpoint never answered an error")
        return check.judge("pass", f"all {errors} error answers are JSON with a message")


    async def findings(self) -> Check:
        check = Check("findings", "nothing else is off in the endpoint's answers",
                      "Every answer is judged as Segment would read it (ANS codes); what no check above "
                      "already reported is listed here, so nothing the judge saw goes unsaid.", GUIDE)
        judged = {check.id: check.verdict for check in self.report.checks}
        found: dict[str, list[Attempt]] = {}
        for result in self.attempts:
            for finding in result.findings:
                if finding.severity == "info":
                    continue
                owners = COVERED_BY.get(finding.code, ())
                if any(judged.get(owner, "pass") != "pass" for owner in owners):
                    continue  # that check already warned or failed on it
                kept = found.setdefault(finding.code, [])
                if not kept or kept[-1] is not result:
                    kept.append(result)
        if not found:
            return check.judge("pass", f"no finding on the {len(self.attempts)} answers beyond the checks above")
        parts = []
        for code, results in sorted(found.items(), key=lambda item: -len(item[1])):
            example = next(f for f in results[0].findings if f.code == code)
            parts.append(f"{len(results)} x {code} (e.g. {example.message})")
        return check.judge("warn", "; ".join(parts), [results[0].exchange for results in found.values()])


# The checks above that judge a finding's code already: it is listed by `findings` only when they passed.
COVERED_BY: dict[str, tuple[str, ...]] = {
    "ANS002": ("delete",), "ANS004": ("wrong-key", "missing-key", "malformed"),
    "ANS005": ("wrong-key", "missing-key", "malformed"),
    **dict.fromkeys(("ANS006", "ANS007", "ANS008", "ANS009", "ANS010"), ("answers",)),
    **dict.fromkeys(("ANS011", "ANS012", "ANS013"), ("latency",)), "ANS015": ("redelivery",),
}


async def review(options: ReviewOptions, **callbacks: Any) -> ReviewReport:
    """Run every check against `options.url`; the report (down set when nothing could be reached)."""
    return await Review(options, **callbacks).run()


__all__ = ["Check", "Review", "ReviewOptions", "ReviewReport", "Unreachable", "review", "templates_of"]

"""The Exchange: one HTTP request, what we found in it and what we answered.

Everything the UIs show and the history keeps is an Exchange. `history.format` turns it
into its JSON document (`encode`/`decode`), the one shape stored and printed; `summary()`
gives the flat record that the list and the search language read, so that 100,000 of
them stay cheap to hold and to scan.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal, NewType

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Two characters (ten bits) at a time: half the steps of spelling an id one character at a time.
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]
_PAIR_SHIFTS = range(120, -1, -10)
_random = random.Random()
_id_lock = threading.Lock()
_last_id = [0, 0]


def new_id(now: float | None = None) -> str:
    """A ULID: 26 characters that sort by arrival time, even within one millisecond."""
    ms = int((time.time() if now is None else now) * 1000)
    with _id_lock:
        if ms <= _last_id[0]:
            ms, rand = _last_id[0], _last_id[1] + 1
        else:
            rand = _random.getrandbits(79)
        _last_id[0], _last_id[1] = ms, rand
    n = (ms << 80) | (rand & ((1 << 80) - 1))
    return "".join([_PAIRS[(n >> shift) & 1023] for shift in _PAIR_SHIFTS])


def first_header(headers: list[tuple[str, str]], name: str) -> str | None:
    """The first value of a header, by case-insensitive name."""
    name = name.lower()
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


@dataclass(slots=True)
class Finding:
    """Something off about a request or an event, with where it is and how bad."""

    code: str
    severity: Severity
    message: str
    path: str = ""
    event: int | None = None  # index of the event in a batch body


@dataclass(frozen=True, slots=True)
class Auth:
    """What the Authorization header says: the API key and whether it is well formed."""

    verdict: str  # "ok", or what is wrong: "missing", "scheme", "base64", ...
    message: str
    scheme: str | None = None
    key: str | None = None
    password: str | None = None

    @property
    def ok(self) -> bool:
        return self.verdict == "ok"


@dataclass(slots=True)
class Event:
    """The Segment view of one event: the fields a developer looks for first."""

    type: str | None = None
    event: str | None = None  # track's event, or page/screen's name
    user_id: str | None = None
    anonymous_id: str | None = None
    message_id: str | None = None
    timestamp: str | None = None
    label: str | None = None  # names a call that has no event name, see `call_label`

    @classmethod
    def of(cls, data: Any) -> Event:
        if not isinstance(data, dict):
            return cls()

        def text(name: str) -> str | None:
            value = data.get(name)
            return None if value is None or isinstance(value, (dict, list)) else str(value)

        return cls(text("type"), text("event") or text("name"), text("userId"),
                   text("anonymousId"), text("messageId"), text("timestamp"), call_label(data))


def call_label(data: dict[str, Any]) -> str | None:
    """What names a call that has no event name: an identify's email or name, a group's
    groupId, an alias's `previousId → userId`; None for the others."""
    def text(value: Any) -> str:
        return value[:80] if isinstance(value, str) else ""

    kind = data.get("type")
    if kind == "identify":
        context = data.get("context")
        traits = data.get("traits") or (context.get("traits") if isinstance(context, dict) else None)
        if isinstance(traits, dict):
            return text(traits.get("email")) or text(traits.get("name")) or None
    elif kind == "group":
        return text(data.get("groupId")) or None
    elif kind == "alias" and text(data.get("previousId")):
        return f"{text(data['previousId'])[:40]} → {text(data.get('userId'))[:40]}"
    return None


# What Segment does with each answer: partners/faqs.md and action-destinations errors.ts.
RETRIED_4XX = frozenset({408, 423, 429})


Outcome = Literal["delivered", "retried", "dropped"]


def segment_outcome(status: int | None) -> Outcome:
    """What Segment does next after this status: delivered, retried or dropped."""
    if status is None or status < 200:
        return "retried"  # no final answer: Segment times out and tries again
    if 200 <= status < 300:
        return "delivered"
    if status in RETRIED_4XX or (500 <= status < 600 and status != 501):
        return "retried"
    return "dropped"


OUTCOME_TEXT: dict[Outcome, str] = {
    "delivered": "delivered: Segment counts the event as accepted",
    "retried": "retried: Segment tries again with backoff for up to 4 hours",
    "dropped": "dropped: Segment discards the event and does not retry",
}


ChosenBy = Literal["default", "forward", "hold", "hold: forward", "hold timeout", "hold released",
                   "error", "api key", "signature", "tracking api", "destination", "review"]
"""Who chose an answer: the policy, a person, the receiver or the Tracking API; a rule
is named by its number (`by_rule`)."""
ByRule = NewType("ByRule", str)


def by_rule(number: int) -> ByRule:
    """The rule that chose an answer, counted from 1: "rule 2"."""
    return ByRule(f"rule {number}")


@dataclass(slots=True)
class Answer:
    """The response we sent and how it was chosen."""

    status: int
    body: bytes = b""
    chosen_by: ChosenBy | ByRule = "default"
    detail: str = ""  # e.g. the rule's text, or the body problem
    delay: float = 0.0
    content_type: str = "application/json"  # a forwarded answer keeps the destination's
    headers: list[tuple[str, str]] = field(default_factory=list)  # passed on: Location, Retry-After

    @property
    def outcome(self) -> Outcome:
        return segment_outcome(self.status)

    @property
    def message(self) -> str | None:
        """The body's `message`, which Segment shows in its debugger."""
        return message_of(self.body)


def message_of(body: bytes) -> str | None:
    """A JSON body's `message`, which Segment shows in its debugger; None if there is none."""
    if not body:
        return None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    message = data.get("message") if isinstance(data, dict) else None
    return message if isinstance(message, str) else None


@dataclass(slots=True)
class Destination:
    """What the user's own endpoint answered when we forwarded the request to it.

    `status` is None when no answer came; `error` then says why ("connection refused",
    "no answer within 6 s", "connection reset"). `duration` is seconds from sending the
    request to the end of the answer's body.
    """

    url: str
    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    duration: float = 0.0
    error: str | None = None

    def header(self, name: str) -> str | None:
        """The first value of a header, by case-insensitive name."""
        return first_header(self.headers, name)

    @property
    def outcome(self) -> Outcome:
        return segment_outcome(self.status)


PASSED_ON = ("location", "retry-after")  # of an endpoint's headers, what Segment acts on


def endpoint_answer(destination: Destination, chosen_by: ChosenBy | ByRule, detail: str = "") -> Answer | None:
    """An endpoint's reply as an Answer: its status, body and Content-Type, with Location and
    Retry-After passed on, so its outcome is what Segment does next; None when no reply came."""
    if destination.status is None:
        return None
    passed = [(name, value) for name, value in destination.headers if name.lower() in PASSED_ON]
    return Answer(destination.status, destination.body, chosen_by, detail,
                  content_type=destination.header("Content-Type") or "", headers=passed)


REFUSED_BY_PARSER = "refused by the HTTP parser"


@dataclass(slots=True)
class BodyError:
    """Why the body is not a Segment payload, with the position of a JSON syntax error."""

    message: str
    line: int | None = None
    column: int | None = None
    position: int | None = None


@dataclass(slots=True)
class Redelivery:
    """This messageId arrived before: the n-th redelivery of exchange `first`."""

    first: str
    n: int
    since: float  # seconds since the first delivery


@dataclass(slots=True)
class Link:
    """A delivery's place in the pipeline: the source call and event it carries, and which
    attempt of how many Segment would make it is."""

    source: str  # the id of the source call
    message_id: str
    attempt: int = 1
    attempts: int = 1


@dataclass(slots=True)
class Fate:
    """What Segment did with one event of a source call when it arrived: "delivering" (its
    detail: what the tracking plan omitted, if anything), "deduplicated", "filtered" (by
    integrations), "invalid" (answered 200, then dropped) or "blocked" (by the tracking plan)."""

    message_id: str
    fate: str
    detail: str = ""


@dataclass(slots=True)
class Exchange:
    """One request as received, what we made of it, and what we answered."""

    id: str
    time: float
    method: str
    path: str
    query: str = ""
    peer: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    body_size: int = 0  # bytes received; more than len(body) when only the head was kept
    decoded: bytes | None = None  # the body with its Content-Encoding undone, when it has one
    body_error: BodyError | None = None
    events: list[Event] = field(default_factory=list)
    auth: Auth | None = None
    findings: list[Finding] = field(default_factory=list)
    redelivery: Redelivery | None = None
    answer: Answer | None = None
    destination: Destination | None = None  # the user's endpoint's answer, when forwarded
    duration: float = 0.0  # seconds from arrival to the answer sent
    session: str = ""
    held: bool = False
    kind: str = ""  # "": a request to the partner receiver; "source": a Tracking API call; "delivery": sent on
    link: Link | None = None  # a delivery's source call
    pipeline: list[Fate] = field(default_factory=list)  # a source call's events, what became of them
    body_gone: str = ""  # why a body the history kept out of line cannot be read (removed by retention)
    data: Any = None  # the parsed body; derived, not stored

    @property
    def truncated(self) -> bool:
        return self.body_size > len(self.body)

    @property
    def raw_head(self) -> bool:
        """The HTTP parser refused it: `body` holds the first bytes of the whole request (its
        request line and headers, Authorization included), not a body that can be sent again."""
        return self.body_error is not None and self.body_error.message.startswith(REFUSED_BY_PARSER)

    def header(self, name: str) -> str | None:
        """The first value of a header, by case-insensitive name."""
        return first_header(self.headers, name)

    @property
    def content(self) -> bytes:
        """The body as the sender meant it: decoded when it came compressed."""
        return self.body if self.decoded is None else self.decoded

    def body_text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def summary(self) -> Summary:
        from .history.columns import summary_of  # the format reads this module's classes

        return summary_of(self)


@dataclass(slots=True)
class Summary:
    """The flat facts the exchange list shows and the search language matches.

    `text` (the body, lower-cased) is filled only where free text is searched (a rule
    deciding an answer, a scan of the history's files): the history keeps no body in memory.
    """

    id: str
    time: float
    method: str
    path: str
    status: int | None
    types: tuple[str, ...]
    names: tuple[str, ...]
    users: tuple[str, ...]
    anons: tuple[str, ...]
    messages: tuple[str, ...]
    key: str | None
    codes: tuple[str, ...]
    severities: tuple[str, ...]
    redelivery: int
    held: bool
    body: bool = False  # the body is not empty
    text: str = ""
    kind: str = ""  # see Exchange.kind
    source: str = ""  # a delivery's source call
    label: str = ""  # names a call without an event name (see history.blocks.label)

    def count(self, severity: str) -> int:
        return self.severities.count(severity)



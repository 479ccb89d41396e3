"""How the answer to a request is chosen.

In order: API-key enforcement, then the user's rules (first match wins), then
holding the request for a person, then the sticky default. Requests that are not
Segment payloads at all (wrong method, too large, not JSON) get their fixed error
answer first, so a rule can never make Segment believe garbage was accepted.

With `forward` set (not mirroring), the user's endpoint takes the default's place and
also judges the keys and bodies: only a body over the size limit, which we did not
keep whole, is still refused here. Rules and holding come before forwarding. In
mirror mode the policy answers as usual and the hub forwards a copy as well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from http import HTTPStatus

import orjson

from .checks import finding, shown
from .checks.request import TOO_MANY_EVENTS, UNKNOWN_KEY
from .model import ByRule, ChosenBy, Exchange, Summary, by_rule
from .query import Query, QueryError, parse
from .signature import verdict

# The statuses Segment documents for partner endpoints (partners/direct-destination.md).
PRESETS = (200, 202, 400, 401, 403, 429, 500, 501, 503)


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"status {status}"


@dataclass(frozen=True, slots=True)
class Reply:
    """A status to answer with, an optional message, and how long to wait first.

    A person answering a held request may also give the whole body (`content`, sent as
    typed instead of the message) and extra headers, such as Retry-After with a 429.
    """

    status: int = 200
    message: str | None = None
    delay: float = 0.0
    content: str | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def body(self) -> bytes:
        if self.status < 200 or self.status in (204, 304):
            return b""
        if self.content is not None:
            return self.content.encode()
        if self.message is not None:
            return orjson.dumps({"message": self.message})
        if self.status >= 400:
            return orjson.dumps({"message": reason(self.status)})
        return b"{}"

    def content_type(self) -> str:
        """JSON, unless the person answering gave a Content-Type header."""
        return next((value for name, value in self.headers if name.lower() == "content-type"),
                    "application/json")

    def extra_headers(self) -> list[tuple[str, str]]:
        """The headers given, but Content-Type (sent as the answer's content type)."""
        return [(name, value) for name, value in self.headers if name.lower() != "content-type"]

    def __str__(self) -> str:
        text = str(self.status) if self.message is None else f"{self.status}:{self.message}"
        text += "".join(f" {name}: {value}" for name, value in self.headers)
        text += " with a body of its own" if self.content is not None else ""
        return f"{text} after {self.delay:g}s" if self.delay else text


_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def parse_headers(text: str) -> tuple[tuple[str, str], ...]:
    """`Name: value` lines (blank lines skipped), as extra headers of an answer."""
    headers = []
    for line in text.splitlines():
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if not colon or not _TOKEN.fullmatch(name):
            raise ValueError(f"a header reads 'Name: value', got {line.strip()!r}")
        if any((ord(c) < 32 and c != "\t") or ord(c) == 127 for c in value):
            raise ValueError(f"header {name}: control characters are not allowed in a value")
        headers.append((name, value))
    return tuple(headers)


def parse_reply(text: str, delay: float = 0.0) -> Reply:
    """`STATUS[:message]`, as given to --respond and on the right of a rule."""
    status, sep, message = text.strip().partition(":")
    try:
        code = int(status)
    except ValueError:
        raise ValueError(f"expected a status such as 200 or 503:message, got {text.strip()!r}") from None
    if not 100 <= code <= 599:
        raise ValueError(f"status {code} is outside 100-599")
    if delay < 0:
        raise ValueError("the delay cannot be negative")
    return Reply(code, message if sep else None, delay)


@dataclass(slots=True)
class Rule:
    """`QUERY => STATUS[:message]`: answer the requests the query matches with this reply."""

    query: Query
    reply: Reply
    enabled: bool = True

    def __str__(self) -> str:
        return f"{self.query.text} => {self.reply}"


def parse_rule(text: str) -> Rule:
    """Parse `QUERY => STATUS[:message]`; errors say which side is wrong."""
    left, arrow, right = text.partition("=>")
    if not arrow:
        raise ValueError(f"a rule reads 'QUERY => STATUS[:message]', got {text!r}")
    try:
        query = parse(left.strip())
    except QueryError as err:
        raise ValueError(f"rule query: {err}") from None
    why = never_matches(query)
    if why:
        raise ValueError(f"rule query: {why}")
    return Rule(query, parse_reply(right))


# What a rule is asked about: a partner request or a Tracking API call, not yet answered.
_ASKED = tuple(Summary("", 0.0, "POST", "/", None, (), (), (), (), (), None, (), (), 0, False, kind=kind)
               for kind in ("", "source"))
_ANSWERED = frozenset({"status", "kind"})  # what such a request has or lacks whatever it carries


def never_matches(query: Query) -> str | None:
    """Why a rule with this query can answer no request, or None: a term that asks for an answer
    (there is none yet: the rule chooses it) or for a kind of exchange rules never see."""
    for part in query.parts:
        outcome = part.shown.lower() in ("is:delivered", "is:retried", "is:dropped")
        if part.kind == "term" and (outcome or part.uses <= _ANSWERED) and part.uses \
                and not any(part.match(asked) for asked in _ASKED):
            return (f"'{part.shown}' can never match: a rule chooses the answer to a partner request or a "
                    "Tracking API call (kind:source) before there is one, so it never sees a status, an outcome "
                    "or another kind of exchange")
    return None


@dataclass(slots=True)
class Hold:
    """Hold matching requests until a person answers, or `timeout` seconds pass.

    `count` limits holding to the next N matching requests ("hold the next one").
    `fallback` answers a request nobody resolved in time; None means the default.
    """

    query: Query | None = None
    timeout: float = 30.0
    count: int | None = None
    fallback: Reply | None = None

    def takes(self, summary: Summary) -> bool:
        if self.count is not None and self.count <= 0:
            return False
        return self.query is None or self.query.matches(summary)


@dataclass(frozen=True, slots=True)
class Forward:
    """Relay requests to the user's endpoint at `url`.

    Without `mirror` its answer is the one Segment gets; with `mirror` the policy answers
    and the request is forwarded as well, to see what the endpoint makes of it.
    """

    url: str
    mirror: bool = False

    def __str__(self) -> str:
        return f"{'mirror to' if self.mirror else 'forward to'} {self.url}"


@dataclass(slots=True)
class Decision:
    """The reply chosen; None when a person must choose it (`hold`) or the endpoint answers
    (`forward`, with the URL as detail)."""

    reply: Reply | None
    chosen_by: ChosenBy | ByRule
    detail: str = ""


@dataclass(slots=True)
class Policy:
    default: Reply = field(default_factory=Reply)
    rules: list[Rule] = field(default_factory=list)
    api_keys: frozenset[str] = frozenset()
    hold: Hold | None = None
    forward: Forward | None = None
    shared_secret: str | None = None  # verify X-Signature as a Webhooks receiver does

    def add_rule(self, rule: Rule, at: int | None = None) -> None:
        """After the others (it answers what no earlier rule matches), or at `at`."""
        self.rules.insert(len(self.rules) if at is None else at, rule)

    def toggle_rule(self, index: int) -> bool:
        """Enable a disabled rule, disable an enabled one; whether it is enabled now."""
        rule = self.rules[index] = replace(self.rules[index], enabled=not self.rules[index].enabled)
        return rule.enabled

    def move_rule(self, index: int, step: int) -> int:
        """Move a rule `step` places (negative: earlier); where it is now."""
        target = max(0, min(index + step, len(self.rules) - 1))
        self.rules.insert(target, self.rules.pop(index))
        return target

    @property
    def forwarding(self) -> bool:
        """The endpoint answers Segment (forward mode, not mirror)."""
        return self.forward is not None and not self.forward.mirror

    def decide(self, exchange: Exchange) -> Decision:
        """The reply; a Tracking API call (kind "source", already checked as Segment's API checks
        it, write keys included) goes to the rules, the hold and the default, never forward."""
        source = exchange.kind == "source"
        refusal = self._size_refusal(exchange) if self.forwarding or source else self._refusal(exchange)
        if refusal is not None:
            return refusal
        # The summary is made only when a query needs it: it is not free on the hot path.
        summary = exchange.summary() if self.rules or self.hold is not None else None
        for number, rule in enumerate(self.rules, 1):
            if rule.enabled and summary is not None and rule.query.matches(summary):
                return Decision(rule.reply, by_rule(number), str(rule))
        if self.hold is not None and summary is not None and self.hold.takes(summary):
            if self.hold.count is not None:
                self.hold.count -= 1
            return Decision(None, "hold")
        if self.forward is not None and not self.forward.mirror and not source:
            return Decision(None, "forward", self.forward.url)
        return Decision(self.default, "default")

    @staticmethod
    def _size_refusal(exchange: Exchange) -> Decision | None:
        if exchange.truncated:
            return Decision(Reply(413, f"body of {exchange.body_size} bytes is over the limit"),
                            "error", "size")
        too_many = next((f for f in exchange.findings if f.code == TOO_MANY_EVENTS), None)
        if too_many is not None:
            return Decision(Reply(413, too_many.message), "error", "size")
        return None

    def _refusal(self, exchange: Exchange) -> Decision | None:
        if exchange.method != "POST":
            return Decision(Reply(405, f"method {exchange.method} not allowed: Segment sends POST"),
                            "error", "method")
        too_big = self._size_refusal(exchange)
        if too_big is not None:
            return too_big
        if self.api_keys:
            auth = exchange.auth
            if auth is None or not auth.key:
                message = auth.message if auth is not None else "missing Authorization header"
                return Decision(Reply(401, message), "api key", auth.verdict if auth else "missing")
            if auth.key not in self.api_keys:
                exchange.findings.append(finding(UNKNOWN_KEY, f"API key {shown(auth.key, 40)} is not "
                                                 "one of those given with --api-key",
                                                 "header:Authorization"))
                return Decision(Reply(401, "unknown API key"), "api key", "unknown")
        if self.shared_secret is not None:
            wrong = verdict(exchange.headers, exchange.body, exchange.data, self.shared_secret)
            if wrong is not None:
                exchange.findings.append(wrong)
                return Decision(Reply(401, "invalid X-Signature"), "signature", wrong.code)
        if exchange.body_error is not None:
            return Decision(Reply(400, exchange.body_error.message), "error", "body")
        return None

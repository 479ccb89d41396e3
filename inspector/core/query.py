"""The search language: one query syntax for `history`, the TUI filter and response rules.

A query is read once by `parse` and compiled into plain closures over `Summary`, so that
filtering a history of 100,000 exchanges stays interactive.

Terms
    word              the body contains `word` (case-insensitive substring of the raw body)
    "two words"       the body contains the phrase; `\\"` and `\\\\` escape inside quotes
    type:track        an event's type is `track`
    event:Order*      an event's name (track `event`, page/screen `name`) matches
    user:u1           an event's userId is `u1`
    anon:a1           an event's anonymousId is `a1`
    message:m1        an event's messageId is `m1`
    finding:code      a finding has this code
    severity:error    a finding has this severity: error, warning or info
    method:POST       the request method
    path:/v1/*        the request path
    key:abc           the API key from the Authorization header
    id:01J*           the exchange id
    kind:review       what the exchange is: review (sent by `review`), source (a Tracking API
                      call), delivery (sent on by local Segment); kind:"" a request received
    status:200        the answer's status; `status:4xx` is a class, `status!=2xx` its opposite
    status>=400       also >, <, <=, = and !=; an exchange not answered yet never matches
    redelivery>0      how many times this messageId came before; `:` and the operators above
    since:10m         arrived in the last 10 minutes (units s, m, h, d; 1.5h works), or at or
                      after an ISO-8601 time: since:2026-11-26, since:2026-11-26T10:00:00Z
    until:1h          arrived before that time; the same values as since
    has:findings      any finding; also has:errors, has:warnings, has:key (a non-empty API
                      key), has:body (a non-empty body)
    is:redelivery     a messageId seen before; also is:held, is:batch (more than one event),
                      and what Segment does with the answer: is:delivered, is:retried,
                      is:dropped (an exchange not answered yet is none of these)

Values are case-insensitive; `*` matches any run of characters; a value with spaces is
quoted: `event:"Order Completed"`, and `user:""` finds events without a userId. An event
field matches when any event of a batch matches. Times without a zone are UTC; relative
times count back from the moment the query is parsed.

Combining
    a b               both (AND by juxtaposition); `a AND b` says the same
    a OR b            either; OR and AND are keywords only in upper case
    -a, NOT a         not a
    ( ... )           grouping; NOT binds tighter than AND, and AND tighter than OR

A word with a colon is a field (`foo:bar` is an error, not text); quote it to search
for it: "a:b". Likewise quote text that starts with `-` or is AND, OR or NOT.
"""

from __future__ import annotations

import builtins
import copy
import operator
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from typing import NamedTuple

from inspector.core.model import SEVERITIES, Summary, segment_outcome

Match = Callable[[Summary], bool]

MAX_NESTING = 64


class QueryError(ValueError):
    """A query that cannot be read, with where in it the problem starts."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at position {position}")
        self.message = message
        self.position = position


# What a Summary holds per exchange rather than per facet (see core/history/blocks.py).
ROW_FIELDS = frozenset({"id", "time", "users", "anons", "messages", "text"})


class Query:
    """A parsed query; `matches` was compiled once, so it is cheap to call per summary.

    What the history uses to avoid calling it on every exchange: `span`, the arrival
    times every match lies in (from since/until terms joined by AND at the top level);
    `per_row`, whether anything else looks at per-exchange fields (else the verdict is
    the same for all exchanges of one facet); `free_text`, whether the body is searched;
    `needles`, words every match's body contains; `row_needles`, ("people" or "id", piece):
    pieces every match's userIds, anonymousIds and messageIds (or its id) hold, lower-cased.
    """

    __slots__ = ("_shown", "free_text", "matches", "needles", "per_row", "row_needles", "span", "text", "uses")

    def __init__(self, text: str, matches: Match, shown: str, node: _Node | None = None) -> None:
        self.text = text
        self.matches: Match = matches
        self._shown = shown
        parts = (node.parts or (node,)) if node is not None else ()
        low, high = float("-inf"), float("inf")
        rest: set[str] = set()
        self.needles: tuple[str, ...] = ()
        self.row_needles: tuple[tuple[str, str], ...] = ()
        for part in parts:
            if part.row_needle is not None:
                self.row_needles += (part.row_needle,)
            if part.span is not None:
                low, high = max(low, part.span[0]), min(high, part.span[1])
            else:
                rest |= part.uses
            if part.needle:
                self.needles += (part.needle,)
        self.span = (low, high)
        self.per_row = bool(rest & ROW_FIELDS)
        self.free_text = node is not None and "text" in node.uses
        self.uses = node.uses if node is not None else frozenset()  # the Summary fields it reads

    def without_sources(self) -> Query:
        """This query without Tracking API calls (`kind:source`), unless it names `kind:` itself:
        each SDK event is then counted once, by its delivery."""
        if "kind" in self.uses:
            return self
        narrowed = copy.copy(self)
        matches = self.matches
        narrowed.matches = lambda s: s.kind != "source" and matches(s)
        return narrowed

    def __str__(self) -> str:
        """The query as understood: keywords spelled out, quotes and grouping normalised."""
        return self._shown

    def __repr__(self) -> str:
        return f"Query({self.text!r})"


def parse(text: str, *, now: Callable[[], float] = time.time) -> Query:
    """Read a query; an empty one matches everything."""
    node = _Parser(text, now).parse()
    return Query(text, node.match, node.shown, node)


def filter(summaries: Iterable[Summary], query: Query) -> Iterator[Summary]:
    """The summaries that match, lazily, so a long history is never copied."""
    return builtins.filter(query.matches, summaries)


# Tokens

_FIELD = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)(>=|<=|!=|:|>|<|=)")
_WORD_END = re.compile(r'[\s()"]')
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_ESCAPE = re.compile(r'\\(["\\])')
_KEYWORDS = ("AND", "OR", "NOT")


class _Token(NamedTuple):
    kind: str  # "word", "phrase", "field", "(", ")", "AND", "OR", "NOT" or "end"
    pos: int
    text: str = ""  # the word, the phrase, or the field's value
    name: str = ""  # the field name as typed
    op: str = ""
    value_pos: int = 0
    quoted: bool = False


def _quoted(text: str, start: int) -> tuple[str, int]:
    found = _QUOTED.match(text, start)
    if not found:
        raise QueryError("unterminated quote", start)
    return _ESCAPE.sub(r"\1", found[1]), found.end()


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i == n:
            tokens.append(_Token("end", n))
            return tokens
        char = text[i]
        if char in "()":
            tokens.append(_Token(char, i))
            i += 1
        elif char == "-":
            tokens.append(_Token("NOT", i, "-"))
            i += 1
        elif char == '"':
            phrase, end = _quoted(text, i)
            tokens.append(_Token("phrase", i, phrase))
            i = end
        else:
            stop = _WORD_END.search(text, i)
            end = stop.start() if stop else n
            field = _FIELD.match(text, i, end)
            if field:
                start = field.end()
                quoted = text.startswith('"', start)
                if quoted:
                    value, end = _quoted(text, start)
                else:
                    value = text[start:end]
                tokens.append(_Token("field", i, value, field[1], field[2], start, quoted))
            else:
                word = text[i:end]
                tokens.append(_Token(word if word in _KEYWORDS else "word", i, word))
            i = end


# Nodes: a compiled match and how to show it


@dataclass(frozen=True, slots=True)
class _Node:
    match: Match
    shown: str
    kind: str = "term"  # "term", "not", "and", "or" or "all"
    negated: _Node | None = None  # for "not": what it negates, so that - - x is x
    uses: frozenset[str] = frozenset()  # the Summary fields it reads
    span: tuple[float, float] | None = None  # since/until: the arrival times it accepts
    needle: str = ""  # a word or phrase: what the body must contain
    # user/anon/message/id: ("people" or "id", a piece every match's value holds, lower case)
    row_needle: tuple[str, str] | None = None
    parts: tuple[_Node, ...] = ()  # "and": the nodes joined, nested ANDs flattened


_EVERYTHING = _Node(lambda s: True, "", "all")


def _all_of(nodes: list[_Node]) -> _Node:
    if len(nodes) == 1:
        return nodes[0]
    shown = " ".join(f"({n.shown})" if n.kind == "or" else n.shown for n in nodes)
    parts = tuple(p for n in nodes for p in (n.parts or (n,)))
    return _Node(_every([n.match for n in nodes]), shown, "and", uses=_uses(nodes), parts=parts)


def _uses(nodes: list[_Node]) -> frozenset[str]:
    return frozenset().union(*(n.uses for n in nodes))


def _any_of(nodes: list[_Node]) -> _Node:
    if len(nodes) == 1:
        return nodes[0]
    return _Node(_some([n.match for n in nodes]), " OR ".join(n.shown for n in nodes), "or",
                 uses=_uses(nodes))


def _every(matches: list[Match]) -> Match:
    """All of the matches; a plain loop, as all() over a generator costs more per summary."""
    if len(matches) == 2:
        first, second = matches
        return lambda s: first(s) and second(s)

    def match(summary: Summary) -> bool:
        for each in matches:
            if not each(summary):
                return False
        return True

    return match


def _some(matches: list[Match]) -> Match:
    if len(matches) == 2:
        first, second = matches
        return lambda s: first(s) or second(s)

    def match(summary: Summary) -> bool:
        for each in matches:
            if each(summary):
                return True
        return False

    return match


def _not(node: _Node) -> _Node:
    if node.negated is not None:
        return node.negated
    positive = node.match
    shown = f"-({node.shown})" if node.kind in ("and", "or") else f"-{node.shown}"
    return _Node(lambda s: not positive(s), shown, "not", node, node.uses)


def _show(value: str, *, word: bool = False) -> str:
    """The value as it would be typed: bare when that reads back the same, else quoted."""
    bare = value and not re.search(r'[\s()"]', value)
    if word and bare:
        bare = not value.startswith("-") and value not in _KEYWORDS and not _FIELD.match(value)
    if bare:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Parser


_TERM_STARTS = frozenset({"word", "phrase", "field", "(", "NOT"})


class _Parser:
    """Recursive descent over: or := and (OR and)* ; and := not (AND? not)* ;
    not := (NOT | -)* atom ; atom := ( or ) | term."""

    def __init__(self, text: str, now: Callable[[], float]) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0
        self.clock = now
        self.instant: float | None = None

    def now(self) -> float:
        if self.instant is None:
            self.instant = self.clock()
        return self.instant

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse(self) -> _Node:
        if self.peek().kind == "end":
            return _EVERYTHING
        node = self.either()
        extra = self.peek()
        if extra.kind == ")":
            raise QueryError("unmatched ')'", extra.pos)
        return node

    def either(self) -> _Node:
        nodes = [self.both(None)]
        while self.peek().kind == "OR":
            nodes.append(self.both(self.take()))
        return _any_of(nodes)

    def both(self, after: _Token | None) -> _Node:
        nodes = [self.negation(after)]
        while True:
            token = self.peek()
            if token.kind == "AND":
                nodes.append(self.negation(self.take()))
            elif token.kind in _TERM_STARTS:
                nodes.append(self.negation(None))
            else:
                return _all_of(nodes)

    def negation(self, after: _Token | None) -> _Node:
        count = 0
        while self.peek().kind == "NOT":
            after = self.take()
            count += 1
        node = self.atom(after)
        return _not(node) if count % 2 else node

    def atom(self, after: _Token | None) -> _Node:
        token = self.take()
        if token.kind == "(":
            return self.group(token)
        if token.kind in ("word", "phrase"):
            if not token.text:
                raise QueryError("empty quotes", token.pos)
            needle = token.text.lower()
            return _Node(lambda s: needle in s.text, _show(token.text, word=True),
                         uses=frozenset({"text"}), needle=needle)
        if token.kind == "field":
            return self.field(token)
        if token.kind in ("AND", "OR"):
            raise QueryError(f"'{token.text}' needs a search term before it", token.pos)
        if after is not None:
            raise QueryError(f"'{after.text}' needs a search term after it", after.pos)
        if token.kind == ")":
            raise QueryError("unmatched ')'", token.pos)
        raise QueryError("expected a search term", token.pos)

    def group(self, opening: _Token) -> _Node:
        if self.peek().kind == ")":
            raise QueryError("empty parentheses", opening.pos)
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise QueryError("parentheses nested too deeply", opening.pos)
        node = self.either()
        closing = self.take()
        if closing.kind != ")":
            raise QueryError("expected ')'", closing.pos)
        self.depth -= 1
        return node

    def field(self, token: _Token) -> _Node:
        name = token.name.lower()
        build = _FIELDS.get(name)
        if build is None:
            raise QueryError(f"unknown field '{token.name}'; fields are {', '.join(_FIELDS)}",
                             token.pos)
        if token.op != ":" and name not in _NUMBER_FIELDS:
            raise QueryError(f"'{token.op}' works only with status and redelivery; use {name}:",
                             token.pos + len(token.name))
        if not token.text and not token.quoted:
            raise QueryError(f"'{token.name}{token.op}' needs a value", token.value_pos)
        match = build(self, name, token)
        span = None
        if name in ("since", "until"):
            moment = _instant(self, token)
            span = (moment, float("inf")) if name == "since" else (float("-inf"), moment)
        piece = max(token.text.lower().split("*"), key=len)
        row_needle = ((("id" if name == "id" else "people"), piece)
                      if name in _ROW_NEEDLES and piece and piece.isascii() else None)
        return _Node(match, f"{name}{token.op}{_show(token.text)}",
                     uses=frozenset({_READS.get(name, name)}), span=span, row_needle=row_needle)


# Fields: each builds a match from a field token

_ROW_NEEDLES = ("user", "anon", "message", "id")


def _equals(value: str) -> Callable[[str], object]:
    """A test of a lower-cased string: equal to `value`, where `*` is any run of characters."""
    wanted = value.lower()
    if "*" not in wanted:
        return wanted.__eq__
    return re.compile(".*".join(map(re.escape, wanted.split("*"))), re.DOTALL).fullmatch


def _list_field(attribute: str) -> Callable[[_Parser, str, _Token], Match]:
    """A field with one entry per event or finding: it matches when any entry does."""
    def build(parser: _Parser, name: str, token: _Token) -> Match:
        test, get = _equals(token.text), attrgetter(attribute)

        def match(summary: Summary) -> bool:
            for item in get(summary):
                if test(item.lower()):
                    return True
            return False

        return match

    return build


def _text_field(attribute: str) -> Callable[[_Parser, str, _Token], Match]:
    """A field of the request itself; absent (None) never matches."""
    def build(parser: _Parser, name: str, token: _Token) -> Match:
        test, get = _equals(token.text), attrgetter(attribute)

        def match(summary: Summary) -> bool:
            value = get(summary)
            return value is not None and bool(test(value.lower()))

        return match

    return build


def _severity(parser: _Parser, name: str, token: _Token) -> Match:
    if "*" not in token.text and token.text.lower() not in SEVERITIES:
        raise QueryError(f"unknown severity '{token.text}'; severities are {', '.join(SEVERITIES)}",
                         token.value_pos)
    return _list_field("severities")(parser, name, token)


_COMPARE = {":": operator.eq, "=": operator.eq, "!=": operator.ne, ">": operator.gt,
            ">=": operator.ge, "<": operator.lt, "<=": operator.le}
_NUMBER = re.compile(r"[0-9]{1,9}")
_STATUS_CLASS = re.compile(r"([1-5])xx", re.IGNORECASE)
_NUMBER_FIELDS = ("status", "redelivery")


def _number(token: _Token, what: str) -> int:
    if not _NUMBER.fullmatch(token.text):
        raise QueryError(f"expected {what}, not '{token.text}'", token.value_pos)
    return int(token.text)


def _status(parser: _Parser, name: str, token: _Token) -> Match:
    status_class = _STATUS_CLASS.fullmatch(token.text)
    if status_class and token.op in (":", "=", "!="):
        low = int(status_class[1]) * 100
        inside = token.op != "!="
        return lambda s: s.status is not None and (low <= s.status < low + 100) == inside
    what = "a status like 200 or a class like 4xx" if token.op in (":", "=", "!=") else "a number"
    wanted = _number(token, what)
    compare = _COMPARE[token.op]
    return lambda s: s.status is not None and compare(s.status, wanted)


def _redelivery(parser: _Parser, name: str, token: _Token) -> Match:
    wanted = _number(token, "a number")
    compare = _COMPARE[token.op]
    return lambda s: compare(s.redelivery, wanted)


_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)([smhd])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _instant(parser: _Parser, token: _Token) -> float:
    """Epoch seconds for `10m` (ago) or an ISO-8601 date or time, UTC unless it says."""
    duration = _DURATION.fullmatch(token.text)
    if duration:
        return parser.now() - float(duration[1]) * _SECONDS[duration[2]]
    try:
        moment = datetime.fromisoformat(token.text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    except (ValueError, OverflowError):
        raise QueryError(f"expected a duration like 10m, 2h, 3d or a time like "
                         f"2026-11-26T10:00:00Z, not '{token.text}'", token.value_pos) from None


def _since(parser: _Parser, name: str, token: _Token) -> Match:
    start = _instant(parser, token)
    return lambda s: s.time >= start


def _until(parser: _Parser, name: str, token: _Token) -> Match:
    end = _instant(parser, token)
    return lambda s: s.time < end


def _outcome(outcome: str) -> Match:
    return lambda s: s.status is not None and segment_outcome(s.status) == outcome


HAS: dict[str, Match] = {
    "findings": lambda s: bool(s.codes),
    "errors": lambda s: "error" in s.severities,
    "warnings": lambda s: "warning" in s.severities,
    "key": lambda s: bool(s.key),
    "body": lambda s: s.body,
}

IS: dict[str, Match] = {
    "redelivery": lambda s: s.redelivery > 0,
    "held": lambda s: s.held,
    "batch": lambda s: len(s.types) > 1,
    "delivered": _outcome("delivered"),
    "retried": _outcome("retried"),
    "dropped": _outcome("dropped"),
}


def _named(table: dict[str, Match]) -> Callable[[_Parser, str, _Token], Match]:
    def build(parser: _Parser, name: str, token: _Token) -> Match:
        match = table.get(token.text.lower())
        if match is None:
            raise QueryError(f"unknown '{name}:{token.text}'; {name}: takes {', '.join(table)}",
                             token.value_pos)
        return match

    return build


_FIELDS: dict[str, Callable[[_Parser, str, _Token], Match]] = {
    "type": _list_field("types"),
    "event": _list_field("names"),
    "user": _list_field("users"),
    "anon": _list_field("anons"),
    "message": _list_field("messages"),
    "status": _status,
    "path": _text_field("path"),
    "key": _text_field("key"),
    "finding": _list_field("codes"),
    "severity": _severity,
    "method": _text_field("method"),
    "id": _text_field("id"),
    "kind": _text_field("kind"),
    "redelivery": _redelivery,
    "since": _since,
    "until": _until,
    "has": _named(HAS),
    "is": _named(IS),
}


def dash_queries(argv: list[str], commands: tuple[str, ...] = ("history", "export", "replay", "delivery")) -> list[str]:
    """The command line with each query word that starts with `-` written `NOT word`.

    argparse takes `-has:findings` for options (`-h`, then `as:findings`); `NOT` means the same
    to the query language and is not mistaken for one.
    """
    command = next((i for i, arg in enumerate(argv) if arg in commands), None)
    if command is None:
        return argv
    out = argv[: command + 1]
    for arg in argv[command + 1:]:
        if len(arg) > 2 and arg[0] == "-" and arg[1] != "-" and (arg[1].isalpha() or arg[1] in "(\"'"):
            arg = "NOT " + arg[1:]
        out.append(arg)
    return out


# The Summary field each query field reads, where the names differ.
_READS = {"type": "types", "event": "names", "user": "users", "anon": "anons", "message": "messages",
          "finding": "codes", "severity": "severities", "since": "time", "until": "time",
          "has": "facet", "is": "facet"}

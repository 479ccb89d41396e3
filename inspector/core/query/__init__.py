"""The search language: one query syntax for `history`, the TUI filter and response rules.

A query is read once by `parse` and compiled into plain closures over `Summary`, so that
filtering a history of 100,000 exchanges stays interactive: `tokens` reads the text,
`parser` the grammar below, `fields` builds each field's match, `nodes` joins them, and
`compiled` is the `Query` the history and the UIs hold.

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
import time
from collections.abc import Callable, Iterable, Iterator

from inspector.core.model import Summary

from .compiled import ROW_FIELDS, Query
from .fields import HAS, IS
from .nodes import Match
from .parser import MAX_NESTING, Parser
from .tokens import QueryError

__all__ = ["HAS", "IS", "MAX_NESTING", "ROW_FIELDS", "Match", "Query", "QueryError", "dash_queries", "filter",
           "parse"]


def parse(text: str, *, now: Callable[[], float] = time.time) -> Query:
    """Read a query; an empty one matches everything."""
    node = Parser(text, now).parse()
    return Query(text, node.match, node.shown, node)


def filter(summaries: Iterable[Summary], query: Query) -> Iterator[Summary]:
    """The summaries that match, lazily, so a long history is never copied."""
    return builtins.filter(query.matches, summaries)


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


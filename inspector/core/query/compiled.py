"""The parsed query: its compiled match, and what the history reads off it to skip work."""

from __future__ import annotations

import copy

from .nodes import Match, Node

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

    __slots__ = ("_shown", "free_text", "matches", "needles", "parts", "per_row", "row_needles", "span", "text", "uses")

    def __init__(self, text: str, matches: Match, shown: str, node: Node | None = None) -> None:
        self.text = text
        self.matches: Match = matches
        self._shown = shown
        parts = (node.parts or (node,)) if node is not None else ()
        self.parts: tuple[Node, ...] = parts  # the terms joined by AND at the top level
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

    def only_sources(self) -> Query:
        """This query on Tracking API calls alone (what their events became is on them)."""
        narrowed = copy.copy(self)
        matches = self.matches
        narrowed.matches = lambda s: s.kind == "source" and matches(s)
        return narrowed

    def __str__(self) -> str:
        """The query as understood: keywords spelled out, quotes and grouping normalised."""
        return self._shown

    def __repr__(self) -> str:
        return f"Query({self.text!r})"


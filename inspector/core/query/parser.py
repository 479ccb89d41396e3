"""The parser: recursive descent over the tokens, each term compiled as it is read."""

from __future__ import annotations

from collections.abc import Callable

from .fields import FIELDS, NUMBER_FIELDS, READS, ROW_NEEDLES, instant
from .nodes import EVERYTHING, Node, all_of, any_of, negate
from .tokens import QueryError, Token, show, tokenize

MAX_NESTING = 64


_TERM_STARTS = frozenset({"word", "phrase", "field", "(", "NOT"})


class Parser:
    """Recursive descent over: or := and (OR and)* ; and := not (AND? not)* ;
    not := (NOT | -)* atom ; atom := ( or ) | term."""

    def __init__(self, text: str, now: Callable[[], float]) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0
        self.clock = now
        self.instant: float | None = None

    def now(self) -> float:
        if self.instant is None:
            self.instant = self.clock()
        return self.instant

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse(self) -> Node:
        if self.peek().kind == "end":
            return EVERYTHING
        node = self.either()
        extra = self.peek()
        if extra.kind == ")":
            raise QueryError("unmatched ')'", extra.pos)
        return node

    def either(self) -> Node:
        nodes = [self.both(None)]
        while self.peek().kind == "OR":
            nodes.append(self.both(self.take()))
        return any_of(nodes)

    def both(self, after: Token | None) -> Node:
        nodes = [self.negation(after)]
        while True:
            token = self.peek()
            if token.kind == "AND":
                nodes.append(self.negation(self.take()))
            elif token.kind in _TERM_STARTS:
                nodes.append(self.negation(None))
            else:
                return all_of(nodes)

    def negation(self, after: Token | None) -> Node:
        count = 0
        while self.peek().kind == "NOT":
            after = self.take()
            count += 1
        node = self.atom(after)
        return negate(node) if count % 2 else node

    def atom(self, after: Token | None) -> Node:
        token = self.take()
        if token.kind == "(":
            return self.group(token)
        if token.kind in ("word", "phrase"):
            if not token.text:
                raise QueryError("empty quotes", token.pos)
            needle = token.text.lower()
            return Node(lambda s: needle in s.text, show(token.text, word=True),
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

    def group(self, opening: Token) -> Node:
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

    def field(self, token: Token) -> Node:
        name = token.name.lower()
        build = FIELDS.get(name)
        if build is None:
            raise QueryError(f"unknown field '{token.name}'; fields are {', '.join(FIELDS)}",
                             token.pos)
        if token.op != ":" and name not in NUMBER_FIELDS:
            raise QueryError(f"'{token.op}' works only with status and redelivery; use {name}:",
                             token.pos + len(token.name))
        if not token.text and not token.quoted:
            raise QueryError(f"'{token.name}{token.op}' needs a value", token.value_pos)
        match = build(self.now, name, token)
        span = None
        if name in ("since", "until"):
            moment = instant(self.now, token)
            span = (moment, float("inf")) if name == "since" else (float("-inf"), moment)
        piece = max(token.text.lower().split("*"), key=len)
        row_needle = ((("id" if name == "id" else "people"), piece)
                      if name in ROW_NEEDLES and piece and piece.isascii() else None)
        return Node(match, f"{name}{token.op}{show(token.text)}",
                    uses=frozenset({READS.get(name, name)}), span=span, row_needle=row_needle)


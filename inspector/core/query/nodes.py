"""Nodes: a compiled match over `Summary`, how to show it, and what the history may skip by.

AND and OR are plain loops, not all()/any() over a generator: a match runs once per
exchange, over a million of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from inspector.core.model import Summary

Match = Callable[[Summary], bool]


@dataclass(frozen=True, slots=True)
class Node:
    match: Match
    shown: str
    kind: str = "term"  # "term", "not", "and", "or" or "all"
    negated: Node | None = None  # for "not": what it negates, so that - - x is x
    uses: frozenset[str] = frozenset()  # the Summary fields it reads
    span: tuple[float, float] | None = None  # since/until: the arrival times it accepts
    needle: str = ""  # a word or phrase: what the body must contain
    # user/anon/message/id: ("people" or "id", a piece every match's value holds, lower case)
    row_needle: tuple[str, str] | None = None
    parts: tuple[Node, ...] = ()  # "and": the nodes joined, nested ANDs flattened


EVERYTHING = Node(lambda s: True, "", "all")


def all_of(nodes: list[Node]) -> Node:
    if len(nodes) == 1:
        return nodes[0]
    shown = " ".join(f"({n.shown})" if n.kind == "or" else n.shown for n in nodes)
    parts = tuple(p for n in nodes for p in (n.parts or (n,)))
    return Node(_every([n.match for n in nodes]), shown, "and", uses=_uses(nodes), parts=parts)


def _uses(nodes: list[Node]) -> frozenset[str]:
    return frozenset().union(*(n.uses for n in nodes))


def any_of(nodes: list[Node]) -> Node:
    if len(nodes) == 1:
        return nodes[0]
    return Node(_some([n.match for n in nodes]), " OR ".join(n.shown for n in nodes), "or",
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


def negate(node: Node) -> Node:
    if node.negated is not None:
        return node.negated
    positive = node.match
    shown = f"-({node.shown})" if node.kind in ("and", "or") else f"-{node.shown}"
    return Node(lambda s: not positive(s), shown, "not", node, node.uses)


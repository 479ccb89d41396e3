"""The exchange list's rows: a search's result as the hub gives it, then the arrivals since.

A session can hold 100,000 exchanges, so the result is not copied: the history's `Rows`
are references, and a `Summary` is made only for a line drawn. A batch of arrivals
costs time proportional to the batch.
"""

from __future__ import annotations

from collections.abc import Iterable

from inspector.core.hub_api import Found
from inspector.core.model import Summary


class Listing:
    """The list's rows, oldest first: a search's result, then arrivals since (a known id
    replaces its row in place). The result is any sequence of summaries; one with
    `position` and `id_at` (the history's `Rows`) is not copied, nor summarised whole:
    its replaced rows (a held request, answered since) are kept beside it."""

    def __init__(self, found: Iterable[Summary] | Found = ()) -> None:
        # Either the result's own references, or a copy of a plain sequence with its index.
        self._refs: Found | None = found if isinstance(found, Found) else None
        self._copy: list[Summary] = [] if isinstance(found, Found) else list(found)
        self._copy_index = {summary.id: i for i, summary in enumerate(self._copy)}
        self._replaced: dict[int, Summary] = {}
        self._base = len(self._refs if self._refs is not None else self._copy)
        self._arrivals: list[Summary] = []
        self._arrival_index: dict[str, int] = {}

    def __len__(self) -> int:
        return self._base + len(self._arrivals)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __getitem__(self, row: int) -> Summary:
        if row < 0:
            row += len(self)
        if row >= self._base:
            return self._arrivals[row - self._base]
        replaced = self._replaced.get(row)
        if replaced is not None:
            return replaced
        return self._refs[row] if self._refs is not None else self._copy[row]

    def id_at(self, row: int) -> str:
        if row < 0:
            row += len(self)
        if row >= self._base:
            return self._arrivals[row - self._base].id
        return self._refs.id_at(row) if self._refs is not None else self._copy[row].id

    def position(self, exchange_id: str | None) -> int | None:
        if exchange_id is None:
            return None
        found = self._arrival_index.get(exchange_id)
        if found is not None:
            return self._base + found
        if self._refs is not None:
            return self._refs.position(exchange_id)
        return self._copy_index.get(exchange_id)

    def put(self, summary: Summary) -> bool:
        """Add an arrival, or replace its row: True if it was added."""
        row = self.position(summary.id)
        if row is None:
            self._arrival_index[summary.id] = len(self._arrivals)
            self._arrivals.append(summary)
            return True
        if row >= self._base:
            self._arrivals[row - self._base] = summary
        else:
            self._replaced[row] = summary
        return False

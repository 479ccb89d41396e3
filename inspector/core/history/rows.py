"""What a search found, as references to rows of the history's blocks: 4 bytes a match.

A list of a million exchanges needs their count, their ids and a screenful of summaries,
not a million `Summary` objects: `Rows` makes a summary only for the rows read.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterator, Sequence
from typing import overload

from ..model import Summary
from .blocks import ID_SIZE, Block, Facets

Part = tuple[Block, Sequence[int]]  # a block and its matching rows, ascending (a range or an array)


class Rows(Sequence[Summary]):
    """Matches in arrival order, oldest first: rows of blocks, then `extra` summaries that
    have no row (held requests, free-text finds)."""

    def __init__(self, parts: list[Part], table: Facets, extra: Sequence[Summary] = ()) -> None:
        self._parts = [(block, rows) for block, rows in parts if len(rows)]
        self._starts = array("q", [0])
        for _, rows in self._parts:
            self._starts.append(self._starts[-1] + len(rows))
        self._table = table
        self._extra = list(extra)
        self._extra_index: dict[str, int] | None = None
        self._found: dict[str, int | None] = {}

    @property
    def parts(self) -> list[Part]:
        """The matched rows of each block, oldest block first."""
        return self._parts

    @property
    def table(self) -> Facets:
        return self._table

    @property
    def extra(self) -> list[Summary]:
        return self._extra

    def plus(self, extra: Sequence[Summary]) -> Rows:
        """These rows, then `extra`."""
        return Rows(self._parts, self._table, [*self._extra, *extra])

    def __len__(self) -> int:
        return self._starts[-1] + len(self._extra)

    def _locate(self, index: int) -> tuple[Block, int] | int:
        """(block, row) of a position, or the position in `extra`."""
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        if index >= self._starts[-1]:
            return index - self._starts[-1]
        part = bisect.bisect_right(self._starts, index) - 1
        block, rows = self._parts[part]
        return block, rows[index - self._starts[part]]

    @overload
    def __getitem__(self, index: int) -> Summary: ...
    @overload
    def __getitem__(self, index: slice) -> list[Summary]: ...

    def __getitem__(self, index: int | slice) -> Summary | list[Summary]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        where = self._locate(index)
        if isinstance(where, int):
            return self._extra[where]
        block, row = where
        return block.summary(row, self._table)

    def __iter__(self) -> Iterator[Summary]:
        for block, rows in self._parts:
            for row in rows:
                yield block.summary(row, self._table)
        yield from self._extra

    def id_at(self, index: int) -> str:
        """The exchange id at a position, without making its summary."""
        where = self._locate(index)
        if isinstance(where, int):
            return self._extra[where].id
        block, row = where
        return block.id(row)

    def position(self, exchange_id: str) -> int | None:
        """Where an exchange is, or None."""
        if exchange_id in self._found:
            return self._found[exchange_id]
        if self._extra_index is None:
            self._extra_index = {summary.id: i for i, summary in enumerate(self._extra)}
        found = self._extra_index.get(exchange_id)
        if found is not None:
            found += self._starts[-1]
        else:
            found = self._in_parts(exchange_id)
        if len(self._found) > 1024:
            self._found.clear()
        self._found[exchange_id] = found
        return found

    def _in_parts(self, exchange_id: str) -> int | None:
        if not exchange_id.isascii() or len(exchange_id) != ID_SIZE:
            return None
        for part, (block, rows) in enumerate(self._parts):
            if not block.first_id <= exchange_id <= block.last_id:
                continue
            row = block.find(exchange_id)
            if row is None:
                continue
            at = bisect.bisect_left(rows, row)
            if at < len(rows) and rows[at] == row:
                return self._starts[part] + at
        return None


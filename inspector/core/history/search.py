"""Finding exchanges: by id, by query over the summaries, by free text over the shard files.

`get()` reads the one shard whose id range holds the id (ULIDs sort by time), and the
body files of that one exchange; free-text search reads shard files newest first and stops
at the limit, judging each file's bytes before decoding it.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import compress
from typing import Any

from ..model import Exchange, Summary
from ..query import Query
from . import bodies
from .blocks import ID_SIZE, Block, Facets, summary
from .columns import row_of
from .format import body_text, decode
from .rows import Rows
from .scan import Scanners, may_hold
from .summaries import CACHED_SHARDS, Summaries

SCAN_WORKERS = 2
SCAN_TASK = 8  # shards a worker process judges at a time
SCAN_AHEAD = 8  # tasks sent ahead of the shards being matched
EVERY = (float("-inf"), float("inf"))


def matching_rows(block: Block, table: Facets, query: Query | None, verdict: Callable[[int], bool] | None,
                  low: float, high: float) -> Sequence[int]:
    """The rows of a loaded block that `query` matches within [low, high), ascending; decided
    per facet by `verdict` when the query allows, per row otherwise."""
    count, times = block.count, block.times
    start, stop = 0, count
    if block.ordered:  # times never go down: the span is found by binary search
        start = bisect.bisect_left(times, low, 0, count) if low > float("-inf") else 0
        stop = bisect.bisect_left(times, high, start, count) if high < float("inf") else count
    spanned = block.ordered or (low, high) == EVERY
    if query is not None and verdict is None:
        candidates = block.rows_holding(query.row_needles) if query.row_needles else None
        rows = range(start, stop) if candidates is None else [r for r in candidates if start <= r < stop]
        match = query.matches
        return array("I", (row for row in rows if low <= times[row] < high and match(block.summary(row, table))))
    ok = {kind: verdict(kind) for kind in tuple(block.kinds)} if verdict is not None else None
    if ok is not None and not any(ok.values()):
        return ()
    if (ok is None or all(ok.values())) and spanned:
        return range(start, stop)
    chosen: Iterable[int] = (compress(range(start, stop), map(ok.__getitem__, block.facets[start:stop]))
                             if ok is not None else range(start, stop))
    if not spanned:
        chosen = (row for row in chosen if low <= times[row] < high)
    return array("I", chosen)


class Search(Summaries):
    """Reading the history: `get`, `search`, `rows`, `documents`."""

    def get(self, exchange_id: str) -> Exchange | None:
        """An exchange by id, or by a unique id prefix of at least 6 characters."""
        found = self._starting(exchange_id, most=2)
        if len(found) != 1:
            return None
        block, key = found[0]
        doc = self._shard_index(block).get(key)
        if doc is None:
            return None
        return decode(doc, bodies.reader(self.root / block.session))

    def unreadable(self, exchange_id: str) -> str | None:
        """Why `get` finds no exchange by this id though the history lists it: its shard file
        is damaged (the message names the file); None otherwise."""
        found = self._starting(exchange_id, most=2)
        if len(found) != 1:
            return None
        block, key = found[0]
        if self._shard_index(block).get(key) is not None:
            return None
        return self._damaged.get((block.session, block.number))

    def starting(self, prefix: str, most: int | None = None) -> int:
        """How many exchanges `get` finds by this id or prefix (counting stops at `most`):
        more than 1 is ambiguous."""
        return len(self._starting(prefix, most))

    def _starting(self, exchange_id: str, most: int | None = None) -> list[tuple[Block, str]]:
        wanted = exchange_id.upper()
        if not wanted.isascii():
            return []
        found: list[tuple[Block, str]] = []
        for block in reversed(self._blocks):
            if len(wanted) >= ID_SIZE or len(wanted) < 6:
                if block.first_id <= wanted <= block.last_id and self._columns(block).find(wanted) is not None:
                    found.append((block, wanted))
                    break
            elif block.first_id[:len(wanted)] <= wanted <= block.last_id[:len(wanted)]:
                ids = self._columns(block).ids
                at = ids.find(wanted.encode())
                while at >= 0:
                    if at % ID_SIZE == 0:
                        found.append((block, ids[at:at + ID_SIZE].decode()))
                        if most is not None and len(found) >= most:
                            return found
                    at = ids.find(wanted.encode(), at + 1)
        return found

    def _shard_index(self, block: Block) -> dict[str, dict[str, Any]]:
        """A shard's documents by id; closed shards come from a small cache."""
        key = (block.session, block.number)
        if block is self._open or not block.frozen:
            return {doc["id"]: doc for doc in self._documents(*key)}
        with self._caching:
            docs = self._cache.get(key)
            if docs is not None:
                self._cache.move_to_end(key)
                return docs
        docs = {doc["id"]: doc for doc in self._documents(*key)}
        with self._caching:
            self._cache[key] = docs
            while len(self._cache) > CACHED_SHARDS:
                self._cache.popitem(last=False)
        return docs

    def search(self, query: Query | None = None, limit: int | None = None,
               newest_first: bool = True) -> list[Summary]:
        """The summaries `query` matches, newest first (or oldest first), at most `limit`.

        Free text reads the shard files; use `search_later` to keep a UI responsive.
        """
        if query is not None and query.free_text:
            return list(self._scan_documents(query, limit, newest_first))
        return list(self._scan_summaries(query, limit, newest_first))

    def rows(self, query: Query | None = None) -> Rows:
        """Every exchange `query` matches, oldest first, as row references: cheap to hold for a
        million matches (a `Summary` is made for a row only when it is read)."""
        if query is not None and query.free_text:
            return Rows([], self.facets, self.search(query, newest_first=False))
        low, high, verdict = self._filter(query)
        parts = [(block, matching_rows(self._columns(block), self.facets, query, verdict, low, high))
                 for block in self._ordered(False, low, high)]
        return Rows(parts, self.facets)

    def search_later(self, query: Query | None = None, limit: int | None = None,
                     newest_first: bool = True) -> Future[list[Summary]]:
        """`search` in a worker thread: for free text, which reads files."""
        with self._lock:
            if self._searcher is None:
                self._searcher = ThreadPoolExecutor(1, thread_name_prefix="history-search")
        return self._searcher.submit(self.search, query, limit, newest_first)

    def _filter(self, query: Query | None) -> tuple[float, float, Callable[[int], bool] | None]:
        """A query's time span, and its verdict per facet when it can be decided per facet."""
        low, high = query.span if query is not None else EVERY
        verdict = self.facets.verdicts(query.matches, low) if query is not None and not query.per_row else None
        return low, high, verdict

    def _ordered(self, newest_first: bool, low: float, high: float) -> Iterator[Block]:
        blocks = self._blocks  # a snapshot: the list is replaced, never changed in place, by others
        for block in (reversed(blocks) if newest_first else blocks):
            if block.count and block.last_time >= low and block.first_time < high:
                yield block

    def _scan_summaries(self, query: Query | None, limit: int | None,
                        newest_first: bool) -> Iterator[Summary]:
        low, high, verdict = self._filter(query)
        table, left = self.facets, limit or -1
        for block in self._ordered(newest_first, low, high):
            rows = matching_rows(self._columns(block), table, query, verdict, low, high)
            for row in (reversed(rows) if newest_first else rows):
                yield block.summary(row, table)
                left -= 1
                if left == 0:
                    return

    def _scan_documents(self, query: Query, limit: int | None, newest_first: bool) -> Iterator[Summary]:
        """Free text: read shard files (the open one's journal) newest first; a file whose
        bytes lack a needed word is skipped without decoding."""
        low, high = query.span
        needles = tuple(n.encode() for n in query.needles
                        if n.isascii() and n.isprintable() and '"' not in n and "\\" not in n)
        left = limit or -1
        for block in self._candidates(list(self._ordered(newest_first, low, high)), needles):
            docs = list(self._shard_index(block).values())
            docs.sort(key=lambda doc: doc["id"], reverse=newest_first)
            read = bodies.reader(self.root / block.session)
            for doc in docs:
                if not low <= doc["time"] < high:
                    continue
                text = body_text(doc, read).lower()
                if not all(word in text for word in query.needles):
                    continue
                exchange_id, when, facet, people, _, _ = row_of(doc)
                found = summary(facet, exchange_id, when, people, text)
                if query.matches(found):
                    found.text = ""  # the body was needed to match, not to keep
                    yield found
                    left -= 1
                    if left == 0:
                        return

    def _files(self, block: Block) -> tuple[str, str]:
        shard, journal = (self._path(block.session, block.number, suffix) for suffix in (".json", ".jsonl"))
        return str(shard), str(journal)

    def _candidates(self, blocks: list[Block], needles: tuple[bytes, ...]) -> Iterator[Block]:
        """The blocks whose files may hold every needle, in order; judged by worker processes
        (a few tasks ahead of the caller, who may stop at its limit) when there are many."""
        if not needles:
            yield from blocks
            return
        if len(blocks) < self.parallel_shards:
            yield from (block for block in blocks if may_hold(self._files(block), needles, block.opaque))
            return
        with self._lock:
            if self._scanners is None:
                self._scanners = Scanners(SCAN_WORKERS, SCAN_TASK, SCAN_AHEAD)
        verdicts = self._scanners.judge([(self._files(block), block.opaque) for block in blocks], needles)
        yield from (block for block, holds in zip(blocks, verdicts, strict=False) if holds)

    def documents(self, query: Query | None = None, newest_first: bool = True) -> Iterator[dict[str, Any]]:
        """The stored documents `query` matches, newest first (or oldest first), each shard read
        once: for reading many whole exchanges, which a `get()` each would read a shard for.
        A big body stays out of line (`bodyFile`): these are for what an exchange says, not its body."""
        low, high = query.span if query is not None else EVERY
        blocks = list(self._ordered(newest_first, low, high))
        found = (self._scan_documents(query, None, newest_first) if query is not None and query.free_text
                 else self._scan_summaries(query, None, newest_first))
        at, docs = 0, None
        for hit in found:  # in the blocks' order; a held exchange may sit in a later block than its id
            for index in range(at, len(blocks)):
                if (index > at or docs is None) and not blocks[index].first_id <= hit.id <= blocks[index].last_id:
                    continue
                if index != at or docs is None:
                    shard = self._shard_index(blocks[index])
                    if hit.id not in shard:
                        continue
                    at, docs = index, shard
                doc = docs.get(hit.id)
                if doc is not None:
                    yield doc
                    break

"""The history: every exchange kept in TinyDB files, and only small summaries in memory.

On disk, `history/<session>/` holds, per shard of `SHARD_SIZE` exchanges:
`NNNNN.json` the full documents (a TinyDB file, written once, when the shard closes),
`NNNNN.sum.json` their summaries (a TinyDB file written in the same step), and
`shards.json` lists the session's shards with their first/last id and time. The open
shard lives in its journal `NNNNN.jsonl`, one JSON line per exchange.

Durability: `add()` appends the exchange's line to the journal before the receiver
answers; a line not fully written raises `HistoryUnavailable`, and the receiver
answers 503 so that Segment retries. A writer thread turns each full journal into its
shard and summary files, checks the shard holds every line, and only then removes the
journal; failures are retried with backoff. Journals a crash leaves are folded in at
the next start.

In memory: `Block`s of columns (about 130 bytes per exchange), read from the summary
files on first use. `get()` reads the one shard whose id range holds the id (ULIDs
sort by time); free-text search reads shard files newest first and stops at the limit.
"""

from __future__ import annotations

import bisect
import fcntl
import os
import shutil
import threading
import time
from array import array
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import compress
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

from .history.blocks import ID_SIZE, KIND, Block, Facets, body_text, is_exchange, is_opaque, row_of, summary
from .history.files import FILE_MODE, journal_lines, make_dir, read_json, size_of, tighten, write_atomic
from .history.rows import Rows
from .history.scan import Scanners, may_hold
from .model import Exchange, Redelivery, Summary, new_id
from .query import Query

SHARD_SIZE = 1000
TABLE = "exchanges"
SUMMARY_TABLE = "summaries"
LIST_TABLE = "shards"
LIST_FILE = "shards.json"
DEFAULT_KEEP_BYTES = 2 * 1024**3
# messageIds remembered for redelivery: the newest ones (at least half this many), so memory stays bounded.
REMEMBERED_MESSAGES = 100_000
CACHED_SHARDS = 4
MAX_BACKOFF = 30.0
CLOSE_ATTEMPTS = 5
# Free text: shard files are judged by worker processes when a search has at least this many,
# in tasks of SCAN_TASK shards, at most SCAN_AHEAD tasks ahead of the shards being matched.
PARALLEL_SHARDS = 32
SCAN_WORKERS = 2
SCAN_TASK = 8
SCAN_AHEAD = 8


class HistoryUnavailable(Exception):
    """The history cannot keep an exchange now (disk full, I/O error): nothing may be acknowledged."""


class OrjsonStorage(Storage):
    """TinyDB storage with orjson and atomic, private (0600) replacement."""

    def __init__(self, path: str, **_: Any) -> None:
        self.path = Path(path)

    def read(self) -> dict[str, Any] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        return orjson.loads(raw) if raw else None

    def write(self, data: dict[str, Any]) -> None:
        write_atomic(self.path, orjson.dumps(data))

    def close(self) -> None:
        pass


def _warn_nowhere(text: str) -> None:
    pass


class History:
    """All exchanges of all sessions in `directory`, searchable, appended to by one session.

    `warn` is told, once each, about damaged files and about the history becoming
    unwritable and writable again; `problems` keeps the damaged files' list for the UIs.
    Retention (`keep_bytes`, `keep_days`) removes whole sessions, oldest first, never
    the running one.
    """

    def __init__(self, directory: Path | str, *, shard_size: int = SHARD_SIZE,
                 flush_interval: float = 2.0, keep_bytes: int | None = DEFAULT_KEEP_BYTES,
                 keep_days: float | None = None, warn: Callable[[str], None] | None = None) -> None:
        self.directory = Path(directory)
        self.root = self.directory / "history"
        self.shard_size = shard_size
        self.flush_interval = flush_interval
        self.keep_bytes = keep_bytes
        self.keep_days = keep_days
        self.warn = warn or _warn_nowhere
        self.session = ""
        self.problems: list[str] = []
        self.facets = Facets()
        self._blocks: list[Block] = []
        self._lists: dict[str, dict[int, dict[str, Any]]] = {}  # session -> shard -> list entry
        self._unfolded: list[Block] = []  # built from journals or unlisted shards at load
        self._messages: dict[int, tuple[str, float, int]] = {}
        self._older_messages: dict[int, tuple[str, float, int]] = {}
        self._recalled = False
        self._lock = threading.RLock()  # the blocks list and reading a block's columns
        self._flushing = threading.Lock()
        self._queue: deque[Block] = deque()
        self._wake = threading.Event()
        self._writer: threading.Thread | None = None
        self._stopping = False
        self._open: Block | None = None
        self._number = 0
        self._journal_fd: int | None = None
        self._journal_size = 0
        self._torn = False  # a failed write left part of a line that could not be cut off
        self._failing: str | None = None
        self._writer_trouble: str | None = None
        self._cache: OrderedDict[tuple[str, int], dict[str, dict[str, Any]]] = OrderedDict()
        self._searcher: ThreadPoolExecutor | None = None
        self._scanners: Scanners | None = None
        self._sizes: dict[str, tuple[int, int]] = {}  # session -> (its directory's mtime, bytes)
        self.parallel_shards = PARALLEL_SHARDS

    def _problem(self, text: str) -> None:
        if text not in self.problems:
            self.problems.append(text)
            self.warn(text)

    # -- loading: shard lists only ---------------------------------------------------

    def load(self) -> History:
        """Read every session's shard list (not the summaries: those are read on first use).

        Reading never writes: journals and unlisted shards are read as they are, and
        folded into shards only by a session that writes (`start_session`).
        """
        if self.root.is_dir():
            for session_dir in sorted(self.root.iterdir()):
                if session_dir.is_dir():
                    self._load_session(session_dir)
        return self

    def _load_session(self, directory: Path) -> None:
        session = directory.name
        listed: dict[int, dict[str, Any]] = {}
        list_path = directory / LIST_FILE
        if list_path.exists():
            try:
                table = read_json(list_path)[LIST_TABLE]
                entries = list(table.values())
            except (OSError, orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as err:
                self._problem(f"{list_path}: unreadable ({type(err).__name__}); its shards are read one by one")
                entries = []
            for entry in entries:
                try:
                    listed[int(entry["shard"])] = entry
                except (KeyError, TypeError, ValueError):
                    self._problem(f"{list_path}: an entry is not a shard's, skipped")
        self._lists[session] = {}
        numbers = {int(p.name[:-5]) for p in directory.glob("*.json") if p.name[:-5].isdigit()}
        journals = {int(p.stem) for p in directory.glob("*.jsonl") if p.stem.isdigit()}
        for number in sorted(numbers | journals | set(listed)):
            entry = listed.get(number)
            if entry is not None and number in numbers and number not in journals:
                try:
                    block = Block.listed(session, entry)
                except (KeyError, TypeError, ValueError):
                    block = None
                if block is not None:
                    self._lists[session][number] = entry
                    self._blocks.append(block)
                    continue
            if entry is not None and number not in numbers and number not in journals:
                self._problem(f"{directory / f'{number:05d}.json'}: missing, its exchanges are not in the history")
                continue
            block = self._block_of(self._documents(session, number))
            block.session, block.number = session, number
            self._unfolded.append(block)
            if block.count:
                self._blocks.append(block)

    def _block_of(self, docs: Iterable[dict[str, Any]]) -> Block:
        block = Block("", 0)
        number = self.facets.number
        opaque = False
        for doc in docs:
            exchange_id, when, facet, people = row_of(doc)
            block.add(exchange_id, when, number(facet), people)
            opaque = opaque or is_opaque(doc)
        block.opaque = opaque
        block.freeze()
        return block

    def _path(self, session: str, number: int, suffix: str) -> Path:
        return self.root / session / f"{number:05d}{suffix}"

    def _read(self, path: Path) -> bytes | None:
        """A file's bytes; None (named once if it exists) when it cannot be read."""
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as err:
            self._problem(f"{path}: unreadable ({err.strerror}), its exchanges are missing")
            return None

    def _shard_documents(self, path: Path) -> list[dict[str, Any]]:
        """The exchanges of a shard file, each bad record or bad file named once."""
        raw = self._read(path)
        if raw is None:
            return []
        if not raw.strip():
            self._problem(f"{path}: empty, no exchanges in it")
            return []
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as err:
            self._problem(f"{path}: unreadable ({err}), its exchanges are missing")
            return []
        table = data.get(TABLE) if isinstance(data, dict) else None
        if not isinstance(table, dict) or not table:
            self._problem(f"{path}: holds no exchanges")
            return []
        docs = [doc for doc in table.values() if is_exchange(doc)]
        if len(docs) < len(table):
            bad = len(table) - len(docs)
            self._problem(f"{path}: {bad} record{'s' if bad > 1 else ''} not an exchange, skipped")
        return docs

    def _journal_documents(self, path: Path) -> list[dict[str, Any]]:
        raw = self._read(path) or b""
        docs, bad = [], 0
        for _, doc in journal_lines(raw):
            if is_exchange(doc):
                docs.append(doc)
            else:
                bad += 1
        if bad:
            self._problem(f"{path}: {bad} line{'s' if bad > 1 else ''} not an exchange (cut short?), skipped")
        return docs

    def _documents(self, session: str, number: int) -> list[dict[str, Any]]:
        """A shard's exchanges from its file and its journal, oldest first, each id once."""
        docs = {doc["id"]: doc for doc in self._shard_documents(self._path(session, number, ".json"))}
        for doc in self._journal_documents(self._path(session, number, ".jsonl")):
            docs.setdefault(doc["id"], doc)
        return [docs[key] for key in sorted(docs)]

    def _columns(self, block: Block) -> Block:
        """The block with its columns read from the summary file (or rebuilt from the shard)."""
        if block.loaded:
            return block
        with self._lock:
            if block.loaded:
                return block
            path = self._path(block.session, block.number, ".sum.json")
            try:
                block.fill(read_json(path)[SUMMARY_TABLE]["1"], self.facets)
            except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError) as err:
                self._problem(f"{path}: unreadable ({type(err).__name__}); read from its shard instead")
                built = self._block_of(self._documents(block.session, block.number))
                block.ids, block.times, block.facets = built.ids, built.times, built.facets
                block.people, block.offsets, block.kinds = built.people, built.offsets, built.kinds
                block.ordered = built.ordered
                block.count, block.loaded = built.count, True
        return block

    # -- reading ----------------------------------------------------------------------

    def __len__(self) -> int:
        return sum(block.count for block in self._blocks)

    def get(self, exchange_id: str) -> Exchange | None:
        """An exchange by id, or by a unique id prefix of at least 6 characters."""
        found = self._starting(exchange_id, most=2)
        if len(found) != 1:
            return None
        block, key = found[0]
        doc = self._shard_index(block).get(key)
        return Exchange.from_doc(doc) if doc is not None else None

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
        if block is self._open:
            return {doc["id"]: doc for doc in self._documents(*key)}
        docs = self._cache.get(key)
        if docs is None:
            docs = {doc["id"]: doc for doc in self._documents(*key)}
            self._cache[key] = docs
            while len(self._cache) > CACHED_SHARDS:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
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
        low, high = query.span if query is not None else (float("-inf"), float("inf"))
        per_row = query is not None and query.per_row
        verdict = self.facets.verdicts(query.matches, low) if query is not None and not per_row else None
        parts: list[tuple[Block, Sequence[int]]] = []
        for block in self._ordered(False, low, high):
            self._columns(block)
            count, times, facets = block.count, block.times, block.facets
            start, stop = 0, count
            if block.ordered:
                start = bisect.bisect_left(times, low, 0, count) if low > float("-inf") else 0
                stop = bisect.bisect_left(times, high, start, count) if high < float("inf") else count
            spanned = block.ordered or (low == float("-inf") and high == float("inf"))
            if query is None or verdict is not None:
                ok = {kind: verdict(kind) for kind in tuple(block.kinds)} if verdict is not None else None
                if ok is not None and not any(ok.values()):
                    continue
                if (ok is None or all(ok.values())) and spanned:
                    parts.append((block, range(start, stop)))
                    continue
                chosen: Iterable[int] = (compress(range(start, stop), map(ok.__getitem__, facets[start:stop]))
                                         if ok is not None else range(start, stop))
                if not spanned:
                    chosen = (row for row in chosen if low <= times[row] < high)
                parts.append((block, array("I", chosen)))
                continue
            assert query is not None
            candidates = block.rows_holding(query.row_needles) if query.row_needles else None
            rows = range(start, stop) if candidates is None else [r for r in candidates if start <= r < stop]
            table, match = self.facets, query.matches
            parts.append((block, array("I", (row for row in rows if low <= times[row] < high
                                                and match(block.summary(row, table))))))
        return Rows(parts, self.facets)

    def search_later(self, query: Query | None = None, limit: int | None = None,
                     newest_first: bool = True) -> Future[list[Summary]]:
        """`search` in a worker thread: for free text, which reads files."""
        if self._searcher is None:
            self._searcher = ThreadPoolExecutor(1, thread_name_prefix="history-search")
        return self._searcher.submit(self.search, query, limit, newest_first)

    def _ordered(self, newest_first: bool, low: float, high: float) -> Iterator[Block]:
        blocks = self._blocks  # a snapshot: the list is replaced, never changed in place, by others
        for block in (reversed(blocks) if newest_first else blocks):
            if block.count and block.last_time >= low and block.first_time < high:
                yield block

    def _scan_summaries(self, query: Query | None, limit: int | None,
                        newest_first: bool) -> Iterator[Summary]:
        low, high = query.span if query is not None else (float("-inf"), float("inf"))
        match = query.matches if query is not None else None
        verdict = self.facets.verdicts(match, low) if match and query and not query.per_row else None
        table, left = self.facets, limit or -1
        for block in self._ordered(newest_first, low, high):
            self._columns(block)
            if verdict is not None and not any(map(verdict, tuple(block.kinds))):
                continue
            count, times, facets = block.count, block.times, block.facets
            start, stop, within = 0, count, block.ordered
            if within:
                start = bisect.bisect_left(times, low, 0, count) if low > float("-inf") else 0
                stop = bisect.bisect_left(times, high, start, count) if high < float("inf") else count
            rows: Iterable[int] = range(stop - 1, start - 1, -1) if newest_first else range(start, stop)
            candidates = block.rows_holding(query.row_needles) if query is not None and query.row_needles else None
            if candidates is not None:
                rows = [row for row in (reversed(candidates) if newest_first else candidates) if start <= row < stop]
            for row in rows:
                if not within and not low <= times[row] < high:
                    continue
                if verdict is not None and not verdict(facets[row]):
                    continue
                found = block.summary(row, table)
                if verdict is None and match is not None and not match(found):
                    continue
                yield found
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
            for doc in docs:
                if not low <= doc["time"] < high:
                    continue
                text = body_text(doc).lower()
                if not all(word in text for word in query.needles):
                    continue
                exchange_id, when, facet, people = row_of(doc)
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

    def deliveries(self, source_id: str) -> list[Summary]:
        """The deliveries made of a source call's events, oldest first."""
        found: list[Summary] = []
        for block in list(self._blocks):
            if block.count and block.last_id >= source_id:
                self._columns(block)
                found += (block.summary(row, self.facets) for row in range(block.count)
                          if block.source(row) == source_id)
        return found

    # -- redelivery -------------------------------------------------------------------

    def redelivery(self, message_ids: list[str], now: float, exchange_id: str) -> Redelivery | None:
        """Mark each messageId as seen; say which earlier exchange this one repeats."""
        if not self._recalled:
            self._recall_messages()
        result = None
        for message_id in message_ids:
            if message_id:
                known = self._remember(message_id, exchange_id, now)
                if known is not None and result is None:
                    result = Redelivery(known[0], known[2], round(now - known[1], 3))
        return result

    def _remember(self, message_id: str, exchange_id: str, when: float) -> tuple[str, float, int] | None:
        """The one place arrivals are recorded: None for a first arrival, else (first, when, n)."""
        key = hash(message_id)
        known = self._messages.get(key) or self._older_messages.get(key)
        if known is None:
            # Two generations, the older dropped whole: deleting a dict's oldest entry one at a
            # time makes each next lookup of the oldest walk past the deleted ones.
            if len(self._messages) >= REMEMBERED_MESSAGES // 2:
                self._older_messages, self._messages = self._messages, {}
            self._messages[key] = (exchange_id, when, 0)
            return None
        known = self._messages[key] = (known[0], known[1], known[2] + 1)
        return known

    def _recall_messages(self) -> None:
        """Remember the newest messageIds of earlier sessions, so a redelivery across a restart is seen."""
        self._recalled = True
        rows: list[tuple[str, float, list[str]]] = []
        for block in reversed(self._blocks):
            self._columns(block)
            # A source call's events are delivered later with the same messageIds: not redeliveries.
            rows += ((block.id(row), block.times[row], block.messages(row))
                     for row in range(block.count - 1, -1, -1)
                     if self.facets.rows[block.facets[row]][KIND] != "source")
            if len(rows) >= REMEMBERED_MESSAGES:
                break
        for exchange_id, when, messages in reversed(rows):
            for message_id in messages:
                if message_id:
                    self._remember(message_id, exchange_id, when)

    def warm(self) -> None:
        """Read every block's summaries now, so that the first search does not wait for them."""
        for block in list(self._blocks):
            self._columns(block)

    # -- writing ----------------------------------------------------------------------

    def start_session(self) -> str:
        """Begin a new session: fold what a crash left, apply retention, start the writer."""
        self.session = new_id()
        try:
            make_dir(self.root / self.session)
        except OSError as err:
            raise HistoryUnavailable(f"cannot create {self.root / self.session}: {err.strerror}") from err
        tighten(self.root)
        for stray in self.root.glob("*/*.tmp"):
            stray.unlink(missing_ok=True)
        self._lists[self.session] = {}
        for block in self._unfolded:
            self._fold(block)
        self._unfolded = []
        self._apply_retention()
        if not self._recalled:
            self._recall_messages()
        self._writer = threading.Thread(target=self._write_loop, name="history-writer", daemon=True)
        self._writer.start()
        threading.Thread(target=self.warm, name="history-warm", daemon=True).start()
        return self.session

    def _fold(self, block: Block) -> None:
        """Write a shard left as a journal (or without summary) by an earlier run."""
        journal = self._path(block.session, block.number, ".jsonl")
        if journal.exists():
            try:
                with open(journal, "rb") as held:
                    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # another inspector is still writing it
            except OSError:
                pass
        try:
            self._close_shard(block)
        except OSError as err:
            self._problem(f"{journal}: not folded into its shard ({err.strerror or err}); kept for the next start")

    def add(self, exchange: Exchange) -> Summary:
        """Keep an exchange: in its journal before this returns, or HistoryUnavailable is raised."""
        if not self.session:
            self.start_session()
        exchange.session = self.session
        doc = exchange.to_doc()
        line = orjson.dumps(doc, option=orjson.OPT_APPEND_NEWLINE)
        if self._open is not None and self._open.count >= self.shard_size:
            self._retire_open()
        if self._open is None:
            self._open_journal()
        self._append(line)
        exchange_id, when, facet, people = row_of(doc)
        self._open.add(exchange_id, when, self.facets.number(facet), people)  # type: ignore[union-attr]
        if self._failing is not None:
            self._failing = None
            self.warn("the history is writable again: requests are answered and kept")
        return summary(facet, exchange_id, when, people)

    def _unavailable(self, reason: str) -> HistoryUnavailable:
        message = (f"cannot keep requests in {self.root} ({reason}); answering 503 so that Segment "
                   "retries, until there is room again")
        if self._failing is None:
            self.warn(message)
        self._failing = message
        return HistoryUnavailable(message)

    def _open_journal(self) -> None:
        path = self._path(self.session, self._number, ".jsonl")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        except OSError as err:
            raise self._unavailable(err.strerror or str(err)) from err
        os.fchmod(fd, FILE_MODE)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._journal_fd, self._journal_size = fd, os.fstat(fd).st_size
        self._torn = self._journal_size > 0  # reopened after a failure: start on a new line
        self._open = Block(self.session, self._number)
        with self._lock:
            self._blocks = [*self._blocks, self._open]

    def _append(self, line: bytes) -> None:
        """One journal line, whole, or HistoryUnavailable (a partial line is cut off again)."""
        assert self._journal_fd is not None
        if self._torn:
            line = b"\n" + line
        try:
            written = os.write(self._journal_fd, line)
        except OSError as err:
            raise self._unavailable(err.strerror or str(err)) from err
        if written != len(line):
            try:
                os.ftruncate(self._journal_fd, self._journal_size)
            except OSError:
                self._torn = True
                self._journal_size += written
            raise self._unavailable(f"only {written} of {len(line)} bytes written")
        self._journal_size += written
        self._torn = False

    def _retire_open(self) -> None:
        """The open shard is full: hand it to the writer and start the next one."""
        assert self._open is not None and self._journal_fd is not None
        self._open.freeze()
        self._queue.append(self._open)
        os.close(self._journal_fd)
        self._journal_fd, self._open = None, None
        self._number += 1
        self._wake.set()

    def _write_loop(self) -> None:
        """Write closed shards; on failure report once, retry with backoff, drop nothing."""
        delay = 0.1
        while True:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception as err:  # the writer must outlive any error
                reason = f"{type(err).__name__}: {err}"
                if self._writer_trouble is None:
                    self.warn(f"cannot write the history's shards ({reason}); retrying, the journals "
                              "keep every exchange")
                self._writer_trouble = reason
                if self._stopping:
                    return
                time.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)
                self._wake.set()
                continue
            delay = 0.1
            if self._writer_trouble is not None:
                self._writer_trouble = None
                self.warn("the history's shards are written again")
            if self._stopping:
                return

    def flush(self) -> None:
        """Write every full shard's files now."""
        with self._flushing:
            while self._queue:
                self._close_shard(self._queue[0])
                self._queue.popleft()
                self._apply_retention()

    def _close_shard(self, block: Block) -> None:
        """Write a shard and its summary from its journal (and any earlier shard file), list it,
        check the shard holds every exchange of the journal, then remove the journal."""
        session, number = block.session, block.number
        journal = self._path(session, number, ".jsonl")
        shard = self._path(session, number, ".json")
        data, built = self._as_written(block, journal, shard)
        if not data:
            docs = self._documents(session, number)
            if not docs:
                if journal.exists():
                    journal.rename(journal.with_name(journal.name + ".damaged"))
                    self._problem(f"{journal}: no exchange in it; kept as {journal.name}.damaged")
                return
            data = orjson.dumps({TABLE: {str(i): doc for i, doc in enumerate(docs, 1)}})
            built = self._block_of(docs)
            built.session, built.number = session, number
        write_atomic(shard, data)
        write_atomic(self._path(session, number, ".sum.json"),
                     orjson.dumps({SUMMARY_TABLE: {"1": built.to_doc(self.facets)}}))
        entries = self._lists.setdefault(session, {})
        entries[number] = built.entry()
        write_atomic(self.root / session / LIST_FILE,
                     orjson.dumps({LIST_TABLE: {str(i): e for i, (_, e) in enumerate(sorted(entries.items()), 1)}}))
        # `docs` holds every line of the journal (closed, and locked against other writers):
        # the shard holds them all if it reads back as written.
        if self._read(shard) != data:
            raise OSError(f"{shard}: does not read back as written; its journal is kept")
        journal.unlink(missing_ok=True)
        with self._lock:
            self._blocks = [built if b is block else b for b in self._blocks]
            self._cache.pop((session, number), None)

    def _as_written(self, block: Block, journal: Path, shard: Path) -> tuple[bytes, Block]:
        """The shard file of a block this run wrote, made from its journal's lines without
        decoding them, and the block itself as its summary; (b"", block) when the journal
        holds anything else (lines cut short, exchanges of another run) or ids are out of order."""
        if block.session != self.session or not block.frozen or not block.count or shard.exists():
            return b"", block
        raw = self._read(journal) or b""
        ids = block.ids
        if any(ids[at - ID_SIZE:at] > ids[at:at + ID_SIZE] for at in range(ID_SIZE, len(ids), ID_SIZE)):
            return b"", block  # a held request kept after later arrivals: sort them by decoding
        lines = [line for line in raw.split(b"\n") if line]
        if len(lines) != block.count or any(
                not line.startswith(b'{"id":"') or line[7:7 + ID_SIZE] != ids[row * ID_SIZE:(row + 1) * ID_SIZE]
                for row, line in enumerate(lines)):
            return b"", block
        block.opaque = b'"bodyBase64"' in raw
        return (b'{"' + TABLE.encode() + b'":{' + b",".join(b'"%d":%s' % (i, line) for i, line in enumerate(lines, 1))
                + b"}}"), block

    def close(self) -> None:
        """Write everything still open; a journal is removed only once its shard holds it."""
        self._stopping = True
        self._wake.set()
        if self._writer is not None:
            self._writer.join()
            self._writer = None
        if self._open is not None and self._open.count:
            self._retire_open()
        elif self._journal_fd is not None:
            os.close(self._journal_fd)
            self._journal_fd, self._open = None, None
            self._path(self.session, self._number, ".jsonl").unlink(missing_ok=True)
        for attempt in range(CLOSE_ATTEMPTS):
            try:
                self.flush()
                break
            except OSError as err:
                if attempt == CLOSE_ATTEMPTS - 1:
                    self.warn(f"the history's last shards are kept in their journals ({err.strerror or err}); "
                              "they are folded in at the next start")
                else:
                    time.sleep(0.1 * 2**attempt)
        if self._searcher is not None:
            self._searcher.shutdown(wait=False)
            self._searcher = None
        if self._scanners is not None:
            self._scanners.close()
            self._scanners = None

    # -- retention --------------------------------------------------------------------

    def _apply_retention(self) -> None:
        """Remove whole sessions, oldest first, past `keep_bytes` on disk or `keep_days` old."""
        if (self.keep_bytes is None and self.keep_days is None) or not self.root.is_dir():
            return
        sessions = sorted(d for d in self.root.iterdir() if d.is_dir() and d.name != self.session)
        sizes = {d: self._closed_size(d) for d in sessions}
        total = sum(sizes.values()) + size_of(self.root / self.session)
        cutoff = time.time() - self.keep_days * 86400 if self.keep_days is not None else None
        newest_of: dict[str, float] = {}
        for block in self._blocks:
            newest_of[block.session] = max(newest_of.get(block.session, 0.0), block.last_time)
        for directory in sessions:
            newest = newest_of.get(directory.name, 0.0)
            too_big = self.keep_bytes is not None and total > self.keep_bytes
            too_old = cutoff is not None and newest < cutoff
            if not (too_big or too_old):
                continue
            shutil.rmtree(directory, ignore_errors=True)
            total -= sizes[directory]
            with self._lock:
                self._blocks = [b for b in self._blocks if b.session != directory.name]
                self._lists.pop(directory.name, None)

    def _closed_size(self, directory: Path) -> int:
        """An earlier session's size; remembered while its directory is unchanged and holds no
        journal (another inspector may be writing one), as retention asks at every shard."""
        try:
            changed = directory.stat().st_mtime_ns
        except OSError:
            return 0
        known = self._sizes.get(directory.name)
        if known is not None and known[0] == changed:
            return known[1]
        size = size_of(directory)
        if not any(directory.glob("*.jsonl")):
            self._sizes[directory.name] = (changed, size)
        return size

    @property
    def trouble(self) -> str | None:
        """Why the history cannot keep requests or write its shards right now; None when it can."""
        if self._failing is not None:
            return self._failing
        if self._writer_trouble is not None:
            return f"cannot write the history's shards ({self._writer_trouble}); retrying"
        return None

    def disk_size(self) -> int:
        """Bytes the history takes on disk."""
        if not self.root.is_dir():
            return 0
        return sum(size_of(d) if d.name == self.session else self._closed_size(d)
                   for d in self.root.iterdir() if d.is_dir())

    def documents(self, query: Query | None = None, newest_first: bool = True) -> Iterator[dict[str, Any]]:
        """The stored documents `query` matches, newest first (or oldest first), each shard read
        once: for reading many whole exchanges, which a `get()` each would read a shard for."""
        low, high = query.span if query is not None else (float("-inf"), float("inf"))
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

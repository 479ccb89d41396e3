"""The history's state and what it reads first: the shard lists at start, a block's summaries
on first use, and a shard's documents (from its file and its journal) when asked.

Threads: the event loop (and a reader thread, for big bodies) add; the writer thread closes
shards and applies retention; search and warm-up threads read. Each shared cache says below
which of them touch it and how it stays safe.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..model import Summary
from .blocks import KIND, Block, Facets
from .columns import row_of
from .format import (
    LIST_FILE,
    FormatRefused,
    OlderSummary,
    is_opaque,
    journal_records,
    read_list,
    read_summary,
    shard_records,
)
from .messages import Messages
from .scan import Scanners

SHARD_SIZE = 1000
DEFAULT_KEEP_BYTES = 2 * 1024**3
CACHED_SHARDS = 4
PARALLEL_SHARDS = 32  # free text: worker processes judge the shard files of a search this big


class HistoryUnavailable(Exception):
    """The history cannot keep an exchange now (disk full, I/O error): nothing may be acknowledged."""


def _warn_nowhere(text: str) -> None:
    pass


class Summaries:
    """The state every part of the history shares, and the reading of its files."""

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
        self._naming = threading.Lock()  # `problems` and `_damaged`: any thread that reads may add
        self.facets = Facets()  # every thread adds facets: it has its own lock
        # The blocks list: replaced whole under `_lock` (loop, writer, retention), never changed in
        # place, so readers iterate a snapshot without a lock. `_lock` also guards filling a
        # block's columns from its summary file (search and warm-up threads).
        self._blocks: list[Block] = []
        self._lock = threading.RLock()
        # session -> shard -> list entry: the writer and start_session write, under `_lock`.
        self._lists: dict[str, dict[int, dict[str, Any]]] = {}
        self._refused: set[str] = set()  # sessions in a format this version cannot read
        self._damaged: dict[tuple[str, int], str] = {}  # shard -> what is wrong with its file
        self._unfolded: list[Block] = []  # built from journals or unlisted shards at load
        self._memory = Messages()  # redelivery's: it has its own lock
        self._recalled = False
        # `add` (the loop, or a reader thread for a big body) holds `_adding`: the open block,
        # the journal's descriptor and size, the shard number.
        self._adding = threading.RLock()
        self._flushing = threading.Lock()
        self._queue: deque[Block] = deque()  # closed blocks for the writer: deque ends are thread-safe
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
        # Shard documents by id: readers (loop, search thread) fill it, the writer drops a
        # shard it rewrote; all under `_caching`.
        self._cache: OrderedDict[tuple[str, int], dict[str, dict[str, Any]]] = OrderedDict()
        self._caching = threading.Lock()
        self._searcher: ThreadPoolExecutor | None = None
        self._scanners: Scanners | None = None
        # session -> (its directory's mtime, bytes): the writer's retention and the loop's
        # disk_size; single dict operations, each whole under the GIL.
        self._sizes: dict[str, tuple[int, int]] = {}
        # Bytes `add` has written, and the count past which retention must run again (None: no
        # --keep). The adding thread raises the first, the writer sets the second from the count
        # it read before measuring, so bytes written during a pass are never left uncounted.
        self._written = 0
        self._retain_past: int | None = None
        self.parallel_shards = PARALLEL_SHARDS

    def _problem(self, text: str) -> None:
        """Name a damaged file once; any reading thread may find one."""
        with self._naming:
            if text in self.problems:
                return
            self.problems.append(text)
        self.warn(text)

    # -- loading: shard lists only ---------------------------------------------------

    def load(self) -> Summaries:
        """Read every session's shard list (not the summaries: those are read on first use).

        Reading never writes: journals and unlisted shards are read as they are, and
        folded into shards only by a session that writes (`start_session`).
        """
        if self.root.is_dir():
            for session_dir in sorted(self.root.iterdir()):
                if session_dir.is_dir():
                    self._load_session(session_dir)
        return self

    def _listed(self, directory: Path) -> dict[int, dict[str, Any]] | None:
        """A session's list entries by shard; None when its format cannot be read."""
        listed: dict[int, dict[str, Any]] = {}
        list_path = directory / LIST_FILE
        if not list_path.exists():
            return listed
        try:
            entries = read_list(list_path.read_bytes())
        except FormatRefused as err:
            self._problem(f"{list_path}: {err}; its session is left out")
            self._refused.add(directory.name)
            return None
        except (OSError, ValueError) as err:
            self._problem(f"{list_path}: unreadable ({err}); its shards are read one by one")
            entries = []
        for entry in entries:
            try:
                listed[int(entry["shard"])] = entry
            except (KeyError, TypeError, ValueError):
                self._problem(f"{list_path}: an entry is not a shard's, skipped")
        return listed

    def _load_session(self, directory: Path) -> None:
        session = directory.name
        listed = self._listed(directory)
        if listed is None:
            return
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
                    self._check_shard(session, number, entry.get("bytes"))
                    continue
            if entry is not None and number not in numbers and number not in journals:
                self._problem(f"{directory / f'{number:05d}.json'}: missing, its exchanges are not in the history")
                continue
            block = self._block_of(self._documents(session, number))
            block.session, block.number = session, number
            self._unfolded.append(block)
            if block.count:
                self._blocks.append(block)

    def _check_shard(self, session: str, number: int, size: Any) -> None:
        """Name a shard file cut short at start: its size against its list's (version 1: its last bytes)."""
        path = self._path(session, number, ".json")
        try:
            if isinstance(size, int):
                actual = path.stat().st_size
                if actual != size:
                    self._damage(session, number, f"{path}: damaged ({actual:,} of {size:,} bytes), "
                                                  "its exchanges cannot be read")
                return
            with open(path, "rb") as file:
                file.seek(-2, 2)
                if file.read() != b"}}":
                    self._damage(session, number, f"{path}: damaged (cut short), its exchanges cannot be read")
        except OSError as err:
            self._damage(session, number, f"{path}: unreadable ({err.strerror or err}), its exchanges cannot be read")

    def _damage(self, session: str, number: int, text: str) -> None:
        """A shard file that cannot be read: named once, and remembered for `unreadable`."""
        with self._naming:
            if (session, number) in self._damaged:
                return
            self._damaged[(session, number)] = text
        self._problem(text)

    def _block_of(self, docs: Iterable[dict[str, Any]]) -> Block:
        block = Block("", 0)
        number = self.facets.number
        opaque = False
        for doc in docs:
            exchange_id, when, facet, people, latency, held = row_of(doc)
            block.add(exchange_id, when, number(facet), people, latency, held)
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

    def _shard_documents(self, session: str, number: int) -> list[dict[str, Any]]:
        """The exchanges of a shard file, each bad record or bad file named once."""
        path = self._path(session, number, ".json")
        raw = self._read(path)
        if raw is None:
            return []
        try:
            docs, bad = shard_records(raw)
        except ValueError as err:
            self._damage(session, number, f"{path}: {err}")
            return []
        if bad:
            self._problem(f"{path}: {bad} record{'s' if bad > 1 else ''} not an exchange, skipped")
        return docs

    def _journal_documents(self, path: Path) -> tuple[list[dict[str, Any]], int]:
        """A journal's exchanges, each line that is not one named; and the bytes skipped."""
        docs, bad, skipped = journal_records(self._read(path) or b"")
        if bad:
            self._problem(f"{path}: {bad} line{'s' if bad > 1 else ''} not an exchange (cut short?), "
                          f"{skipped:,} bytes skipped")
        elif skipped:
            self._problem(f"{path}: {skipped:,} bytes of NULs (a crash?) skipped")
        return docs, skipped

    def _documents(self, session: str, number: int) -> list[dict[str, Any]]:
        """A shard's exchanges from its file and its journal, oldest first, each id once."""
        docs = {doc["id"]: doc for doc in self._shard_documents(session, number)}
        for doc in self._journal_documents(self._path(session, number, ".jsonl"))[0]:
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
                read_summary(path.read_bytes(), block, self.facets)
            except (OSError, ValueError) as err:
                if not isinstance(err, OlderSummary):
                    self._problem(f"{path}: unreadable ({err}); read from its shard instead")
                built = self._block_of(self._documents(block.session, block.number))
                block.opaque = block.opaque or built.opaque
                block.fill(bytes(built.ids), built.times, built.facets, built.people, built.offsets,
                           built.latency, built.holds)
        return block

    def __len__(self) -> int:
        return sum(block.count for block in self._blocks)

    def warm(self) -> None:
        """Read every block's summaries now, so that the first search does not wait for them."""
        for block in list(self._blocks):
            self._columns(block)

    def deliveries(self, source_id: str) -> list[Summary]:
        """The deliveries made of a source call's events, oldest first."""
        found: list[Summary] = []
        for block in list(self._blocks):
            if block.count and block.last_id >= source_id:
                self._columns(block)
                found += (block.summary(row, self.facets) for row in range(block.count)
                          if block.source(row) == source_id)
        return found


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
            if len(rows) >= self._memory.size:
                break
        for exchange_id, when, messages in reversed(rows):
            for message_id in messages:
                if message_id:
                    self._memory.remember(message_id, exchange_id, when)

"""The history: every exchange kept in TinyDB, written off the receiver's hot path.

TinyDB rewrites a whole table on every write, so one growing database gets slower
with every exchange. The history is therefore cut into shards of `SHARD_SIZE`
exchanges, one TinyDB file each, grouped by session (one run of the inspector):
a write costs the same at 100 exchanges as at 100,000.

Durability: `add()` appends the exchange to the shard's journal (one JSON line,
written straight to the kernel) before the receiver answers, and a writer thread
moves journaled exchanges into the TinyDB shard in batches. A crash, even SIGKILL,
loses nothing that was answered; the next open replays journals into their shards.

Search runs over `Summary` records held in memory, newest first.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

from .model import Exchange, Redelivery, Summary, new_id
from .query import Query

SHARD_SIZE = 1000
FREEZE_EVERY = 1000
TABLE = "exchanges"


class OrjsonStorage(Storage):
    """TinyDB storage with orjson and atomic replacement, so a shard is never half written."""

    def __init__(self, path: str, **_: Any) -> None:
        self.path = Path(path)

    def read(self) -> dict[str, Any] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        return orjson.loads(raw) if raw else None

    def write(self, data: dict[str, Any]) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps(data))
        os.replace(tmp, self.path)

    def close(self) -> None:
        pass


def _read_journal(path: Path) -> Iterator[dict[str, Any]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return
    for line in raw.splitlines():
        try:
            yield orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # a line cut short by a crash: nothing answered was in it


class History:
    """All exchanges of all sessions in `directory`, searchable, appended to by one session."""

    def __init__(self, directory: Path | str, *, shard_size: int = SHARD_SIZE,
                 flush_interval: float = 2.0) -> None:
        self.directory = Path(directory)
        self.shard_size = shard_size
        self.flush_interval = flush_interval
        self.session = ""
        self.problems: list[str] = []  # shards that could not be read, for the UIs to show
        self._summaries: list[Summary] = []
        self._docs: dict[str, bytes] = {}
        self._first_by_message: dict[str, tuple[str, float, int]] = {}
        self._pending: list[tuple[int, orjson.Fragment]] = []
        self._lock = threading.Lock()
        self._flushing = threading.Lock()  # the writer thread and close() may both flush
        self._wake = threading.Event()
        self._writer: threading.Thread | None = None
        self._stopping = False
        self._shard_no = 0
        self._shard_count = 0
        self._journal_fd: int | None = None
        self._table: dict[str, orjson.Fragment] = {}
        self._table_no = -1

    # -- reading -----------------------------------------------------------------

    def load(self) -> History:
        """Read every session's shards and journals. Returns self."""
        root = self.directory / "history"
        docs: list[dict[str, Any]] = []
        gc.disable()
        try:
            for session_dir in sorted(root.glob("*")) if root.exists() else []:
                for shard in sorted(session_dir.glob("*.json")):
                    docs.extend(self._shard_docs(shard))
                for journal in sorted(session_dir.glob("*.jsonl")):
                    if not journal.with_suffix(".json").exists():
                        docs.extend(_read_journal(journal))
            seen: set[str] = set()
            docs.sort(key=lambda d: d["id"])
            for doc in docs:
                if doc["id"] not in seen:
                    seen.add(doc["id"])
                    self._index(doc, orjson.dumps(doc))
        finally:
            gc.enable()
        gc.freeze()  # the loaded history never becomes garbage: keep it out of GC passes
        return self

    def _shard_docs(self, shard: Path) -> list[dict[str, Any]]:
        try:
            data = OrjsonStorage(str(shard)).read() or {}
        except (OSError, orjson.JSONDecodeError) as err:
            self.problems.append(f"{shard}: unreadable, its exchanges are missing ({err})")
            data = {}
        docs = list((data.get(TABLE) or {}).values())
        journal = shard.with_suffix(".jsonl")
        if journal.exists():
            ids = {doc["id"] for doc in docs}
            docs.extend(doc for doc in _read_journal(journal) if doc["id"] not in ids)
        return docs

    def _index(self, doc: dict[str, Any], raw: bytes) -> Summary:
        summary = Summary.of(doc)
        self._summaries.append(summary)
        # orjson's result keeps its whole growth buffer (several times its length);
        # an exact copy keeps memory per exchange near the document's size.
        self._docs[summary.id] = bytes(memoryview(raw))
        # A source call's events are delivered later with the same messageIds: not redeliveries.
        for message_id in summary.messages if summary.kind != "source" else ():
            if message_id and message_id not in self._first_by_message:
                self._first_by_message[message_id] = (summary.id, summary.time, 0)
            elif message_id:
                first, when, n = self._first_by_message[message_id]
                self._first_by_message[message_id] = (first, when, max(n, summary.redelivery))
        return summary

    def __len__(self) -> int:
        return len(self._summaries)

    def get(self, exchange_id: str) -> Exchange | None:
        """An exchange by id, or by a unique id prefix of at least 6 characters."""
        raw = self._docs.get(exchange_id)
        if raw is None and len(exchange_id) >= 6:
            prefix = exchange_id.upper()
            found = [key for key in self._docs if key.startswith(prefix)]
            raw = self._docs[found[0]] if len(found) == 1 else None
        return Exchange.from_doc(orjson.loads(raw)) if raw is not None else None

    def search(self, query: Query | None = None, limit: int | None = None,
               newest_first: bool = True) -> list[Summary]:
        found: list[Summary] = []
        ordered = reversed(self._summaries) if newest_first else iter(self._summaries)
        match = query.matches if query is not None else None
        for summary in ordered:
            if match is None or match(summary):
                found.append(summary)
                if limit is not None and len(found) >= limit:
                    break
        return found

    def deliveries(self, source_id: str) -> list[Summary]:
        """The deliveries made of a source call's events, oldest first."""
        return [summary for summary in self._summaries if summary.source == source_id]

    def redelivery(self, message_ids: list[str], now: float, exchange_id: str) -> Redelivery | None:
        """Mark each messageId as seen; say which earlier exchange this one repeats."""
        result = None
        for message_id in message_ids:
            if not message_id:
                continue
            known = self._first_by_message.get(message_id)
            if known is None:
                self._first_by_message[message_id] = (exchange_id, now, 0)
            else:
                first, when, n = known
                self._first_by_message[message_id] = (first, when, n + 1)
                if result is None:
                    result = Redelivery(first, n + 1, round(now - when, 3))
        return result

    # -- writing -----------------------------------------------------------------

    def start_session(self) -> str:
        """Begin a new session and its writer thread; returns the session id."""
        self.session = new_id()
        (self.directory / "history" / self.session).mkdir(parents=True, exist_ok=True)
        self._writer = threading.Thread(target=self._write_loop, name="history-writer", daemon=True)
        self._writer.start()
        return self.session

    def _shard_path(self, number: int, suffix: str) -> Path:
        return self.directory / "history" / self.session / f"{number:05d}{suffix}"

    def add(self, exchange: Exchange) -> Summary:
        """Keep an exchange: journaled before this returns, in TinyDB soon after."""
        if not self.session:
            self.start_session()
        exchange.session = self.session
        doc = exchange.to_doc()
        raw = orjson.dumps(doc)
        if self._journal_fd is None or self._shard_count >= self.shard_size:
            if self._journal_fd is not None:
                self._wake.set()  # a full shard: write it out now
            self._next_shard()
        os.write(self._journal_fd, raw + b"\n")
        self._shard_count += 1
        summary = self._index(doc, raw)
        with self._lock:
            # Already JSON: the shard is written with these bytes, not by encoding the doc again.
            self._pending.append((self._shard_no, orjson.Fragment(raw)))
        if len(self._summaries) % FREEZE_EVERY == 0:
            gc.freeze()  # kept exchanges live as long as the app: spare them the GC passes
        return summary

    def _next_shard(self) -> None:
        if self._journal_fd is not None:
            os.close(self._journal_fd)
            self._shard_no += 1
        self._shard_count = 0
        path = self._shard_path(self._shard_no, ".jsonl")
        self._journal_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def _write_loop(self) -> None:
        """Flush a shard once it is full, and the open one every `flush_interval` seconds.

        Each flush rewrites the shard's file, so flushing less often costs less;
        the journal already holds everything that is not flushed yet.
        """
        while not self._stopping:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        """Move journaled exchanges into their TinyDB shards.

        A shard's table is kept in memory until the shard is full and is written
        through TinyDB's storage layer in one piece: TinyDB's own insert rebuilds the
        whole table twice per call, which costs more than the rest of an exchange's
        handling.
        """
        with self._flushing:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return
            for number, raw in batch:
                if number != self._table_no:
                    self._write_table()
                    self._retire_journal(self._table_no)
                    self._table, self._table_no = {}, number
                self._table[str(len(self._table) + 1)] = raw
            self._write_table()

    def _write_table(self) -> None:
        if self._table:
            OrjsonStorage(str(self._shard_path(self._table_no, ".json"))).write({TABLE: self._table})

    def _retire_journal(self, number: int) -> None:
        """A full shard that reached TinyDB no longer needs its journal."""
        if 0 <= number < self._shard_no:
            self._shard_path(number, ".jsonl").unlink(missing_ok=True)

    def close(self) -> None:
        """Write everything still pending; safe to call twice."""
        self._stopping = True
        self._wake.set()
        if self._writer is not None:
            self._writer.join()
            self._writer = None
        self.flush()
        if self._journal_fd is not None:
            os.close(self._journal_fd)
            self._journal_fd = None
            for journal in (self.directory / "history" / self.session).glob("*.jsonl"):
                journal.unlink()

"""Closing shards: the writer thread turns each full journal into its shard and summary files,
lists it, checks the shard reads back, and only then removes the journal. And retention.

Retention (`keep_bytes`, `keep_days`) removes earlier sessions whole, oldest first; past
`keep_bytes` it then removes the running session's bodies, oldest first, then its oldest
closed shards, and says so through `warn`. It runs as shards close and whenever `add` has
written the bytes left under `keep_bytes` since the last pass.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from . import bodies
from .blocks import ID_SIZE, Block
from .files import size_of, write_atomic
from .format import LIST_FILE, OPAQUE_MARKS, journal_ids, list_entry, list_file, shard_file, shard_file_of, summary_file
from .search import Search

MAX_BACKOFF = 30.0
SLACK = 10  # retention frees a tenth of keep_bytes more than it must, so it does not run at every request


class Shards(Search):
    """The writer thread's side of the history."""

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
        """Write every full shard's files now, and apply retention when it is due."""
        with self._flushing:
            due = self._retain_past is not None and self._written > self._retain_past
            while self._queue:
                self._close_shard(self._queue[0])
                self._queue.popleft()
                due = True
            if due:
                self._apply_retention()

    def _write_list(self, session: str) -> None:
        write_atomic(self.root / session / LIST_FILE, list_file(self._lists.get(session, {})))

    def _close_shard(self, block: Block) -> None:
        """Write a shard and its summary from its journal (and any earlier shard file), list it,
        check the shard holds every exchange of the journal, then remove the journal."""
        session, number = block.session, block.number
        journal = self._path(session, number, ".jsonl")
        shard = self._path(session, number, ".json")
        data, built = self._as_written(block, journal, shard)
        if not data:
            docs = self._documents(session, number)
            skipped = self._journal_documents(journal)[1] if journal.exists() else 0
            if not docs:
                if journal.exists():
                    journal.rename(journal.with_name(journal.name + ".damaged"))
                    self._problem(f"{journal}: no exchange in it; kept as {journal.name}.damaged")
                return
            data = shard_file_of(docs)
            built = self._block_of(docs)
            built.session, built.number = session, number
            if skipped:  # what could not be read stays on disk, beside the shard that holds the rest
                shutil.copyfile(journal, journal.with_name(journal.name + ".damaged"))
                self._problem(f"{journal}: {len(docs)} exchanges kept in its shard, {skipped:,} bytes "
                              f"not readable kept as {journal.name}.damaged")
        write_atomic(shard, data)
        write_atomic(self._path(session, number, ".sum.json"), summary_file(built, self.facets))
        with self._lock:
            self._lists.setdefault(session, {})[number] = list_entry(built, len(data))
            self._write_list(session)
        # `docs` holds every line of the journal (closed, and locked against other writers):
        # the shard holds them all if it reads back as written.
        if self._read(shard) != data:
            raise OSError(f"{shard}: does not read back as written; its journal is kept")
        journal.unlink(missing_ok=True)
        with self._lock:
            self._blocks = [built if b is block else b for b in self._blocks]
        with self._caching:
            self._cache.pop((session, number), None)
        self._damaged.pop((session, number), None)

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
        found = list(journal_ids(raw))
        if len(found) != block.count or any(key != ids[row * ID_SIZE:(row + 1) * ID_SIZE]
                                            for row, key in enumerate(found)):
            return b"", block
        block.opaque = any(mark in raw for mark in OPAQUE_MARKS)
        return shard_file([line for line in raw.split(b"\n") if line]), block

    # -- retention --------------------------------------------------------------------

    def _apply_retention(self) -> None:
        """Remove whole sessions, oldest first, past `keep_bytes` on disk or `keep_days` old;
        then, still past `keep_bytes`, the running session's oldest bodies and shards."""
        if (self.keep_bytes is None and self.keep_days is None) or not self.root.is_dir():
            return
        written = self._written  # before measuring: what is written from here on counts next time
        sessions = sorted(d for d in self.root.iterdir()
                          if d.is_dir() and d.name != self.session and d.name not in self._refused)
        sizes = {d: self._closed_size(d) for d in sessions}
        total = sum(sizes.values()) + (size_of(self.root / self.session) if self.session else 0)
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
        if self.keep_bytes is not None and self.session:
            if total > self.keep_bytes:
                total -= self._trim_running(total - self.keep_bytes + self.keep_bytes // SLACK)
            # Still past it (the open journal alone may be): the next pass after another tenth.
            self._retain_past = written + max(self.keep_bytes - total, self.keep_bytes // SLACK)

    def _trim_running(self, wanted: int) -> int:
        """Free `wanted` bytes of the running session: its oldest bodies, then its oldest closed
        shards (never the open one). Said through `warn`; the bytes freed."""
        assert self.keep_bytes is not None
        directory, keep = self.root / self.session, bodies.shown_size(self.keep_bytes)
        count, freed = bodies.remove_oldest(directory, wanted, self.keep_bytes)
        if count:
            self.warn(f"retention: removed the {count:,} oldest bodies of the running session "
                      f"({bodies.shown_size(freed)}) to keep the history under --keep {keep}; "
                      "their exchanges remain, saying so")
        removed = 0
        for number in sorted(self._lists.get(self.session, {})):
            if freed >= wanted:
                break
            block = next((b for b in self._blocks if b.session == self.session and b.number == number), None)
            if block is None:
                continue
            for suffix in (".json", ".sum.json"):
                path = self._path(self.session, number, suffix)
                try:
                    freed += path.stat().st_size
                    path.unlink()
                except OSError:
                    continue
            freed += bodies.remove_of(directory, block.first_id, block.last_id)
            removed += block.count
            with self._lock:
                self._lists[self.session].pop(number, None)
                self._blocks = [b for b in self._blocks if b is not block]
                self._write_list(self.session)
            with self._caching:
                self._cache.pop((self.session, number), None)
        if removed:
            self.warn(f"retention: removed the {removed:,} oldest exchanges of the running session to keep "
                      f"the history under --keep {keep}")
        return freed

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

    def disk_size(self) -> int:
        """Bytes the history takes on disk."""
        if not self.root.is_dir():
            return 0
        return sum(size_of(d) if d.name == self.session else self._closed_size(d)
                   for d in self.root.iterdir() if d.is_dir())

    @property
    def trouble(self) -> str | None:
        """Why the history cannot keep requests or write its shards right now; None when it can."""
        if self._failing is not None:
            return self._failing
        if self._writer_trouble is not None:
            return f"cannot write the history's shards ({self._writer_trouble}); retrying"
        return None

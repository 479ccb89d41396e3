"""The journal: each exchange appended to the open shard's `NNNNN.jsonl` (its big bodies to
their files first) before the receiver answers, and journals a crash left folded in.

Durability: a line not fully written is cut off again and raises `HistoryUnavailable`, so
the receiver answers 503 and Segment retries; nothing acknowledged is lost. The journal is
JSON Lines, not TinyDB: one append a request, never a rewrite.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time

from ..model import Exchange, Summary, new_id
from . import bodies
from .blocks import Block, summary
from .columns import row_of
from .files import FILE_MODE, make_dir, tighten
from .format import stored
from .shards import Shards
from .summaries import HistoryUnavailable

CLOSE_ATTEMPTS = 5


class Journal(Shards):
    """Appending to the history."""

    def start_session(self) -> str:
        """Begin a new session: fold what a crash left, apply retention, start the writer."""
        self.session = new_id()
        try:
            make_dir(self.root / self.session)
        except OSError as err:
            raise HistoryUnavailable(f"cannot create {self.root / self.session}: {err.strerror}") from err
        try:
            self._write_list(self.session)  # the format's version, before any body file needs it
        except OSError:
            pass  # written again as each shard closes; until then its documents read as they are
        tighten(self.root)
        for stray in self.root.glob("*/*.tmp"):
            stray.unlink(missing_ok=True)
        with self._lock:
            self._lists[self.session] = {}
        for block in self._unfolded:
            if block.session not in self._refused:
                self._fold(block)
        self._unfolded = []
        self._apply_retention()
        if not self._recalled:
            self._recall_messages()
        self._writer = threading.Thread(target=self._write_loop, name="history-writer", daemon=True)
        self._writer.start()
        threading.Thread(target=self.warm, name="history-warm", daemon=True).start()
        return self.session

    def close(self) -> None:
        """Write everything still open; a journal is removed only once its shard holds it."""
        self._stopping = True
        self._wake.set()
        if self._writer is not None:
            self._writer.join()
            self._writer = None
        with self._adding:
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

    def add(self, exchange: Exchange) -> Summary:
        """Keep an exchange: in its journal before this returns, or HistoryUnavailable is raised.
        Called by the event loop, and by reader threads for big bodies."""
        if not self.session:
            with self._adding:
                if not self.session:
                    self.start_session()
        exchange.session = self.session
        doc, line, big = stored(exchange)
        written = 0
        if big:  # outside the lock: a big body's write must not hold the loop's small ones up
            try:
                written = bodies.write(self.root / self.session, big)
            except OSError as err:
                raise self._unavailable(err.strerror or str(err)) from err
        with self._adding:
            if self._open is not None and self._open.count >= self.shard_size:
                self._retire_open()
            if self._open is None:
                self._open_journal()
            self._append(line)
            exchange_id, when, facet, people, latency, held = row_of(doc)
            self._open.add(exchange_id, when, self.facets.number(facet), people, latency,  # type: ignore[union-attr]
                           held)
            self._written += len(line) + written
        if self._failing is not None:
            self._failing = None
            self.warn("the history is writable again: requests are answered and kept")
        if self._retain_past is not None and self._written > self._retain_past:
            self._wake.set()  # the writer applies retention
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

"""Free text's first pass: which shard files may hold every word, judged on their raw bytes.

Lower-casing and searching bytes hold the GIL, so `Scanners` hands shards to worker
processes (`python -m inspector.core.history.scan`, which imports nothing else of the
inspector: a worker starts in a few milliseconds, and never runs the caller's main
module). Only shards that pass are decoded, in the searching process, and matched with
the query itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from typing import IO, Any

# Non-ASCII characters whose lower case is ASCII: a byte search for a needle may miss them.
FOLDS_TO_ASCII = (b"\xe2\x84\xaa", b"\xc4\xb0")

Shard = tuple[tuple[str, ...], bool]  # its files, and whether it may hold a base64 body


def may_hold(paths: tuple[str, ...], needles: tuple[bytes, ...], opaque: bool) -> bool:
    """Whether the files' bytes, lower-cased, hold every needle; True when the bytes cannot
    tell: a body kept as base64 or in a file of its own (`opaque`: the shard may have one), or
    characters that fold to ASCII."""
    parts = []
    for path in paths:
        try:
            with open(path, "rb") as file:
                parts.append(file.read())
        except OSError:
            continue
    raw = b"".join(parts)
    if not raw.isascii() and any(folded in raw for folded in FOLDS_TO_ASCII):
        return True
    if opaque and (b'"bodyBase64"' in raw or b'"bodyFile"' in raw):
        return True
    raw = raw.lower()
    return all(needle in raw for needle in needles)


class Scanners:
    """Worker processes that run `may_hold`, a task of several shards at a time, a few tasks
    ahead of the caller; one search at a time. A worker that fails makes its shards candidates."""

    def __init__(self, workers: int, task: int, ahead: int) -> None:
        self.count, self.task, self.ahead = workers, task, ahead
        self._workers: list[subprocess.Popen[bytes] | None] = [None] * workers
        self._lock = threading.Lock()

    def _worker(self, number: int) -> subprocess.Popen[bytes] | None:
        worker = self._workers[number]
        if worker is None or worker.poll() is not None:
            try:
                worker = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            except OSError:
                worker = None
            self._workers[number] = worker
        return worker

    def judge(self, shards: Sequence[Shard], needles: tuple[bytes, ...]) -> Iterator[bool]:
        """For each shard in order, whether it may hold every needle."""
        with self._lock:
            tasks = [shards[at:at + self.task] for at in range(0, len(shards), self.task)]
            sent: deque[tuple[int, int, subprocess.Popen[bytes] | None]] = deque()
            words = [needle.decode("latin-1") for needle in needles]
            try:
                for number, task in enumerate(tasks):
                    worker = self._worker(number % self.count)
                    if worker is not None and not _send(worker.stdin, {"shards": task, "needles": words}):
                        worker = None
                    sent.append((number, len(task), worker))
                    if len(sent) >= self.ahead:
                        yield from _answer(*sent.popleft()[1:])
                while sent:
                    yield from _answer(*sent.popleft()[1:])
            finally:
                for _, size, worker in sent:  # the caller stopped early: read what is still owed
                    list(_answer(size, worker))

    def close(self) -> None:
        for worker in self._workers:
            if worker is not None:
                worker.stdin.close()  # type: ignore[union-attr]
                worker.wait()
        self._workers = [None] * self.count


def _send(pipe: IO[bytes] | None, job: dict[str, Any]) -> bool:
    try:
        pipe.write(json.dumps(job).encode() + b"\n")  # type: ignore[union-attr]
        pipe.flush()  # type: ignore[union-attr]
        return True
    except (OSError, ValueError):
        return False


def _answer(size: int, worker: subprocess.Popen[bytes] | None) -> Iterator[bool]:
    line = b""
    if worker is not None:
        try:
            line = worker.stdout.readline().strip()  # type: ignore[union-attr]
        except (OSError, ValueError):
            line = b""
    if len(line) != size:
        if worker is not None:
            worker.kill()
        yield from [True] * size
    else:
        yield from (char == ord("1") for char in line)


def main() -> None:
    """A worker: one JSON task a line on stdin, one line of 0/1 a shard on stdout."""
    for line in sys.stdin.buffer:
        job = json.loads(line)
        needles = tuple(needle.encode("latin-1") for needle in job["needles"])
        sys.stdout.write("".join("1" if may_hold(tuple(paths), needles, opaque) else "0"
                                 for paths, opaque in job["shards"]) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

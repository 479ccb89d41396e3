"""Bodies kept out of line: one file a body in `<session>/bodies/`, its bytes as received.

A big body in a shard makes every read of that shard read it, and enough of them make a
shard no JSON reader can load; as a file of its own it is read only by the one exchange
that has it (and by free text). Retention removes these files first, oldest first, and
says so in `bodies/removed.jsonl`, so an exchange whose body went still reads, saying why.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import orjson

from .files import FILE_MODE, make_dir, write_private
from .format import BODIES, REMOVED, Body, BodyGone, BodyReader, body_path


def write(session_dir: Path, bodies: list[Body]) -> int:
    """Write each body's file whole (like a journal line: before the request is answered);
    raises OSError. The bytes written."""
    total = 0
    for name, data in bodies:
        path = body_path(session_dir, name)
        if not path.parent.is_dir():
            make_dir(path.parent)
        write_private(path, data)
        total += len(data)
    return total


def reader(session_dir: Path) -> BodyReader:
    """Reads a session's body files; a body that is gone raises BodyGone saying why."""
    def read(name: str) -> bytes:
        path = body_path(session_dir, name)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise BodyGone(removed_why(session_dir, path.name) or f"missing: {path} is gone") from None
        except OSError as err:
            raise BodyGone(f"unreadable: {path} ({err.strerror})") from None

    return read


def removed_why(session_dir: Path, name: str) -> str | None:
    """Why retention removed a body file, from the record it left; None if it did not."""
    try:
        raw = (session_dir / BODIES / REMOVED).read_bytes()
    except OSError:
        return None
    for line in raw.splitlines():
        try:
            record = orjson.loads(line)
            if name <= str(record["through"]):
                when = time.strftime("%Y-%m-%d %H:%M", time.localtime(float(record["time"])))
                return (f"removed by retention on {when}, to keep the history under --keep "
                        f"{shown_size(int(record['keep']))}")
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            continue
    return None


def listed(session_dir: Path) -> list[tuple[str, int]]:
    """A session's body files, oldest first (their names start with the exchange's id), with sizes."""
    found = []
    try:
        with os.scandir(session_dir / BODIES) as entries:
            for entry in entries:
                if entry.name != REMOVED and entry.is_file(follow_symlinks=False):
                    found.append((entry.name, entry.stat(follow_symlinks=False).st_size))
    except OSError:
        return []
    return sorted(found)


def remove_oldest(session_dir: Path, wanted: int, keep: int) -> tuple[int, int]:
    """Remove body files, oldest first, until `wanted` bytes are freed; record what went.
    (count, bytes) removed."""
    count = freed = 0
    last = ""
    for name, size in listed(session_dir):
        if freed >= wanted:
            break
        try:
            os.unlink(session_dir / BODIES / name)
        except FileNotFoundError:
            continue
        count, freed, last = count + 1, freed + size, name
    if count:
        record = orjson.dumps({"through": last, "keep": keep, "time": time.time()}, option=orjson.OPT_APPEND_NEWLINE)
        fd = os.open(session_dir / BODIES / REMOVED, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        try:
            os.write(fd, record)
        finally:
            os.close(fd)
    return count, freed


def remove_of(session_dir: Path, first: str, last: str) -> int:
    """Remove the body files of exchanges with ids from `first` to `last`; the bytes freed."""
    freed = 0
    for name, size in listed(session_dir):
        if first <= name[:len(first)] <= last:
            (session_dir / BODIES / name).unlink(missing_ok=True)
            freed += size
    return freed


def shown_size(size: int) -> str:
    """`256 MiB`, `2 GiB`: a size as --keep takes it."""
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor:
            return f"{size / factor:.4g} {unit}"
    return f"{size} bytes"

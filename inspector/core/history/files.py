"""The history's files: private modes whatever the umask, atomic replacement, tolerant reading.

Everything here holds Authorization headers and decoded API keys: files are 0600 and
directories 0700, set explicitly because the umask only ever removes bits.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

FILE_MODE = 0o600
DIR_MODE = 0o700


def make_dir(path: Path) -> None:
    """Create `path` (and its parents) as 0700 directories."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        directory.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(directory, DIR_MODE)


def write_private(path: Path, data: bytes, *, sync: bool = False) -> None:
    """Write all of `data` to a new 0600 file at `path` (fsynced with `sync`); on any failure
    nothing is left there and the error is raised."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            if written <= 0:
                raise OSError(f"{path}: nothing written")
            view = view[written:]
        if sync:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` as 0600, all or nothing: a short write or a full disk raises."""
    tmp = path.with_name(path.name + ".tmp")
    write_private(tmp, data, sync=True)
    os.replace(tmp, path)


def tighten(root: Path) -> None:
    """Make what is already under `root` private (0700 directories, 0600 files)."""
    if not root.exists():
        return
    for directory, _, names in os.walk(root):
        try:
            os.chmod(directory, DIR_MODE)
            for name in names:
                os.chmod(os.path.join(directory, name), FILE_MODE)
        except OSError:
            continue  # not ours to change: reading still works


def read_json(path: Path) -> Any:
    """The JSON in `path`; raises OSError or orjson.JSONDecodeError."""
    return orjson.loads(path.read_bytes())


def size_of(directory: Path | str) -> int:
    """Bytes the files in `directory` (and its directories: a session's bodies) take."""
    total = 0
    try:
        for entry in os.scandir(directory):
            if entry.is_file(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_size
            elif entry.is_dir(follow_symlinks=False):
                total += size_of(entry.path)
    except OSError:
        pass
    return total


class OrjsonStorage(Storage):
    """TinyDB storage with orjson and atomic, private (0600) replacement: the history's files
    open with it, or with TinyDB's own JSONStorage (read only)."""

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

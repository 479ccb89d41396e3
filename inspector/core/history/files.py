"""The history's files: private modes whatever the umask, atomic replacement, tolerant reading.

Everything here holds Authorization headers and decoded API keys: files are 0600 and
directories 0700, set explicitly because the umask only ever removes bits.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

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


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` as 0600, all or nothing: a short write or a full disk raises."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            if written <= 0:
                raise OSError(f"{tmp}: nothing written")
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
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


def journal_lines(raw: bytes) -> Iterator[tuple[bytes, Any]]:
    """Each line of a journal with what it decodes to; a line cut short decodes to None."""
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            yield line, orjson.loads(line)
        except orjson.JSONDecodeError:
            yield line, None


def size_of(directory: Path) -> int:
    """Bytes the files directly in `directory` take."""
    total = 0
    try:
        for entry in os.scandir(directory):
            if entry.is_file(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_size
    except OSError:
        pass
    return total

"""Writing an export to disk: one file, or a directory of files, never overwriting without force.

The names come from the exporters, which build them from untrusted data through
`common.safe_name`; they are checked again here, so that no name can leave the
target directory, hide itself or carry control characters whatever an exporter does.
Every target is checked before anything is written: an export that would overwrite
a file writes nothing. Without force a file is created with O_EXCL (an existing file
or symlink is never followed); with force it is written beside and renamed over.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from . import Export
from .common import SAFE_FILE_NAME


class UnsafeName(ValueError):
    """An exporter produced a file name that is not one safe path component."""


def targets(result: Export, out: Path) -> list[tuple[Path, bytes]]:
    """Where each file of the export goes: inside `out` for a many-file export or when `out` is a
    directory, else `out` itself."""
    for name in result.files:
        if not SAFE_FILE_NAME.fullmatch(name):
            raise UnsafeName(f"unsafe file name {name!r}")
    if result.many or out.is_dir():
        return [(out / name, content) for name, content in result.files.items()]
    if len(result.files) != 1:
        raise UnsafeName(f"{len(result.files)} files cannot be written to one file")
    return [(out, next(iter(result.files.values())))]


def write_export(result: Export, out: Path | str, *, force: bool = False) -> list[Path]:
    """Write the export; returns the paths written.

    Missing parent directories are created; an export holding API keys in the clear is
    written readable by the user alone (0600, a script 0700). Raises FileExistsError (naming the first
    existing file) when a target exists and `force` is false, before writing anything;
    OSError when the disk says no.
    """
    out = Path(out)
    if result.many:
        if os.path.lexists(out) and not out.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, f"{out} is not a directory: this format writes one file "
                                     "per request", str(out))
        out.mkdir(parents=True, exist_ok=True)
    planned = targets(result, out)
    if not force:
        existing = [path for path, _ in planned if os.path.lexists(path)]
        if existing:
            more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
            raise FileExistsError(errno.EEXIST, f"{existing[0]} exists{more}", str(existing[0]))
    if not result.many:
        planned[0][0].parent.mkdir(parents=True, exist_ok=True)
    written = []
    for path, content in planned:
        mode = 0o755 if path.suffix == ".sh" else 0o644
        if result.keys:  # API keys in the clear: for the user alone
            mode &= 0o700
        if force and os.path.lexists(path):
            _replace(path, content, mode)
        else:
            _create(path, content, mode)
        written.append(path)
    return written


def _create(path: Path, content: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
    with os.fdopen(fd, "wb") as file:
        file.write(content)


def _replace(path: Path, content: bytes, mode: int) -> None:
    if path.is_dir() and not path.is_symlink():
        raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(content)
        os.chmod(temporary, mode)
        os.replace(temporary, path)  # replaces a symlink itself, never what it points at
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

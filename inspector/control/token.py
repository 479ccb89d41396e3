"""The control token: who may drive the inspector through the control API.

Made on first start (32 random bytes, URL-safe), kept at `<data-dir>/control-token`,
readable by the user alone. It is never logged, printed or kept in the history: the
start-up line names the file, not the token.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

FILE = "control-token"


def token_path(directory: Path) -> Path:
    return directory / FILE


def load_or_make(directory: Path) -> str:
    """The token of this data directory, made (0600, in a 0700 directory) if there is none."""
    path = token_path(directory)
    try:
        token = path.read_text().strip()
        if token:
            return token
    except FileNotFoundError:
        pass
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(token + "\n")
    os.chmod(path, 0o600)
    return token


def read_token(path: Path) -> str:
    """A token from a file (`attach --token-file`); OSError or ValueError when unusable."""
    token = path.read_text().strip()
    if not token:
        raise ValueError(f"{path} is empty")
    return token


def same(given: str, token: str) -> bool:
    """Compared in constant time, so the time of a refusal says nothing of the token."""
    return hmac.compare_digest(given.encode(), token.encode())

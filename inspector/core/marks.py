"""The exchanges a person marked (`m` in the TUI), kept so they outlive a restart.

`marks.json` in the data directory: a JSON list of exchange ids, 0600, written whole on
each change. A file that cannot be read is left as it is and the marks start empty; a
change that cannot be written raises OSError for the UI to say.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson

from .history.files import write_atomic

FILE = "marks.json"


class Marks:
    """Marked exchange ids; `directory` None keeps them in memory only."""

    def __init__(self, directory: Path | None) -> None:
        self.path = directory / FILE if directory is not None else None
        self._ids: set[str] = set()
        if self.path is not None:
            try:
                found = orjson.loads(self.path.read_bytes())
                self._ids = {item for item in found if isinstance(item, str)} if isinstance(found, list) else set()
            except (OSError, orjson.JSONDecodeError):
                pass

    def toggle(self, exchange_id: str) -> bool:
        """Mark it, or unmark it; True if it is marked now."""
        marked = exchange_id not in self._ids
        changed = self._ids | {exchange_id} if marked else self._ids - {exchange_id}
        if self.path is not None:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_atomic(self.path, orjson.dumps(sorted(changed)))
        self._ids = changed
        return marked

    def __contains__(self, exchange_id: object) -> bool:
        return exchange_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._ids))

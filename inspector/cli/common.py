"""What the commands share: exit codes, the two errors, reading the history and the query."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ..core.history import History
from ..core.model import Exchange
from ..core.query import Query, QueryError, parse
from ..core.text import inert

EXIT_OK, EXIT_NOT_FOUND, EXIT_USAGE, EXIT_FAILURE = 0, 1, 2, 3
EXIT_LINT_ERRORS = EXIT_NOT_FOUND


class UsageError(Exception):
    """A mistake in what the user asked for: exit 2 with this message."""


class RuntimeFailure(Exception):
    """The inspector cannot run as asked: exit 3 with this message."""


def warn(text: str) -> None:
    print(f"segment-inspector: {text}", file=sys.stderr)


def _history_warning(text: str) -> None:
    print(f"segment-inspector: warning: {inert(text)}", file=sys.stderr, flush=True)


def load_history(directory: Path, **retention: Any) -> History:
    """The history in `directory`, with damaged files and write failures reported on stderr."""
    return History(directory, warn=_history_warning, **retention).load()


def query(text: str) -> Query:
    """Parse a query, or explain on stderr where it goes wrong and exit 2."""
    try:
        return parse(text)
    except QueryError as err:
        raise UsageError(f"query error: {err.message} at position {err.position}\n"
                         f"  {inert(text)}\n  {' ' * len(inert(text[:err.position]))}^") from None


def exchanges_matching(store: History, search: Query, limit: int = 0) -> list[Exchange]:
    """The exchanges `search` matches, oldest first, as export and replay send them; with a
    `limit`, the newest that many."""
    found = store.search(search, limit or None, newest_first=True)
    return [exchange for exchange in (store.get(s.id) for s in reversed(found)) if exchange is not None]


Typed = TypeVar("Typed")


def value_of(flag: str, read: Callable[[Any], Typed], value: Any) -> Typed:
    """`read(value)` (a `core.values` reader): its ValueError is a mistake with this flag, exit 2."""
    try:
        return read(value)
    except ValueError as err:
        raise UsageError(f"{flag}: {err}") from None


def left_out(exchange_id: str, reason: str) -> None:
    warn(f"left out {exchange_id}: {inert(reason)}")

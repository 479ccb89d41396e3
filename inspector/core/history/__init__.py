"""The history of exchanges (`History`), on disk and in compact summaries in memory.

Imported lazily: the free-text scan's worker processes run `history.scan` and must start
without loading the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .facade import History, HistoryUnavailable

__all__ = ["History", "HistoryUnavailable"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import facade

        return getattr(facade, name)
    raise AttributeError(name)

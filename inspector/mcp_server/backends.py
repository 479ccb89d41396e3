"""Where the tools read the history and change the answers: a data directory, or a running
`serve` through its control API.

Both give the same things in the same shapes (summaries, exchanges, reports), so a tool is
written once. Queries are parsed here in both cases, so a bad one is explained the same way,
with its position, before anything is asked of a server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ..cli.common import exchanges_matching, load_history, query
from ..cli.history import check_prefix, look_up
from ..cli.settings import Settings
from ..control.client import ControlClient, ControlError, Unreachable
from ..core.event_delivery import DEFAULT_WINDOW, summarize
from ..core.history import History
from ..core.history.format import decode, summary_from
from ..core.model import Exchange, Summary
from ..core.text import inert

PAGE = 1000  # rows a call of the control API gives at most

Result = TypeVar("Result")


class Local:
    """The history in a data directory, read afresh by each call as `history` reads it: what a
    running `serve` keeps there meanwhile is seen by the next call. Nothing is received here."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data_dir: Path = settings.data_dir
        self.answers: ControlClient | None = None

    async def _read(self, use: Callable[[History], Result]) -> Result:
        def run() -> Result:
            store = load_history(self.data_dir)
            try:
                return use(store)
            finally:
                store.close()

        return await asyncio.to_thread(run)

    async def search(self, text: str, limit: int) -> list[Summary]:
        search = query(text)
        return await self._read(lambda store: store.search(search, limit))

    async def exchange(self, exchange_id: str) -> tuple[Exchange, bool]:
        return await self._read(lambda store: look_up(store, exchange_id)), False

    async def matching(self, text: str, limit: int, *, sources: bool = True) -> list[Exchange]:
        search = query(text)
        search = search if sources else search.without_sources()
        return await self._read(lambda store: exchanges_matching(store, search, limit))

    async def delivery(self, text: str) -> dict[str, Any]:
        search = query(text or DEFAULT_WINDOW)
        return await self._read(lambda store: summarize(store, search).to_doc())

    async def base_url(self) -> str:
        return str(self.settings.public_url or self.settings.local_url)

    async def close(self) -> None:
        pass


class Attached:
    """A running `serve`, through its control API and nothing else."""

    def __init__(self, client: ControlClient, data_dir: Path) -> None:
        self.client = client
        self.data_dir = data_dir  # where a review keeps what it sends, as `review` does
        self.answers: ControlClient | None = client

    async def search(self, text: str, limit: int) -> list[Summary]:
        query(text)
        page = await self.client.exchanges(text, min(limit, PAGE))
        return [summary_from(doc) for doc in page["exchanges"]]

    async def exchange(self, exchange_id: str) -> tuple[Exchange, bool]:
        doc = await self.client.exchange(exchange_id)
        if doc is None:
            check_prefix(exchange_id)
            raise LookupError(f"no exchange {inert(exchange_id)!r} in the history")
        return decode(doc), bool(doc.get("heldNow"))

    async def matching(self, text: str, limit: int, *, sources: bool = True) -> list[Exchange]:
        # the server searched; here only what without_sources() adds: an SDK's event once, by its delivery
        calls = sources or "kind" in query(text).uses
        rows: list[Summary] = []
        before: str | None = None
        while not limit or len(rows) < limit:
            page = await self.client.exchanges(text, PAGE, before)
            rows += [row for row in map(summary_from, page["exchanges"]) if calls or row.kind != "source"]
            before = page["next"]
            if before is None:
                break
        found = [await self.client.exchange(row.id) for row in rows[:limit or None]]
        return [decode(doc) for doc in reversed(found) if doc is not None]

    async def delivery(self, text: str) -> dict[str, Any]:
        query(text or DEFAULT_WINDOW)
        return await self.client.delivery(text or DEFAULT_WINDOW)

    async def base_url(self) -> str:
        status = await self.client.status()
        return str((status.get("publicUrls") or [status["localUrl"]])[0])

    async def close(self) -> None:
        await self.client.close()


Backend = Local | Attached

__all__ = ["Attached", "Backend", "ControlError", "Local", "Unreachable"]

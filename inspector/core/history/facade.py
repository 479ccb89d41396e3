"""The history: every exchange of every session, kept on disk, found again from small summaries.

On disk, `history/<session>/` holds its shards of `SHARD_SIZE` exchanges (TinyDB files,
written once, when the shard closes), their summary files, the session's shard list and,
for the open shard, its journal (see `format` for the files and the documents' shape, and
`bodies` for big bodies kept out of line). In memory: `Block`s of columns, about 130 bytes
per exchange, read from the summary files on first use.
"""

from __future__ import annotations

from ..model import Redelivery
from .journal import Journal
from .summaries import HistoryUnavailable


class History(Journal):
    """All exchanges of all sessions in `directory`, searchable, appended to by one session.

    `warn` is told, once each, about damaged files, about the history becoming unwritable
    and writable again, and about what retention removes; `problems` keeps the damaged
    files' list for the UIs. Retention (`keep_bytes`, `keep_days`) removes whole sessions,
    oldest first, then the running session's oldest bodies and exchanges past `keep_bytes`.
    """

    def load(self) -> History:
        super().load()
        return self

    def redelivery(self, message_ids: list[str], now: float, exchange_id: str) -> Redelivery | None:
        """Mark each messageId as seen; say which earlier exchange this one repeats."""
        if not self._recalled:
            self._recall_messages()
        result = None
        for message_id in message_ids:
            if message_id:
                known = self._memory.remember(message_id, exchange_id, now)
                if known is not None and result is None:
                    result = Redelivery(known[0], known[2], round(now - known[1], 3))
        return result


__all__ = ["History", "HistoryUnavailable"]

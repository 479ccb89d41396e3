"""Reading many whole exchanges: `History.documents` walks the matching shards once, in order."""

from __future__ import annotations

from pathlib import Path

from inspector.core.history import History
from inspector.core.query import parse

from ..factories import make_event, make_exchange

NOW = 1_800_000_000.0


def test_documents_are_the_matches_in_order_each_shard_read_once(tmp_path: Path, monkeypatch) -> None:
    history = History(tmp_path, shard_size=5)
    history.start_session()
    for index in range(23):
        name = "Apple Bought" if index % 2 == 0 else "Pear Bought"
        history.add(make_exchange(make_event(event=name), now=NOW + index))
    history.close()
    history = History(tmp_path, shard_size=5).load()
    reads: list[tuple[str, int]] = []
    documents = History._documents

    def counted(self: History, session: str, number: int) -> list:
        reads.append((session, number))
        return documents(self, session, number)

    monkeypatch.setattr(History, "_documents", counted)
    for text in ('event:"Apple Bought"', "apple", ""):
        query = parse(text)
        for newest_first in (True, False):
            reads.clear()
            history._cache.clear()
            found = [doc["id"] for doc in history.documents(query, newest_first)]
            assert len(found) == (12 if text else 23) and len(reads) == len(set(reads)) == 5
            assert found == [s.id for s in history.search(query, None, newest_first)]
    assert list(history.documents(parse("event:Nothing"))) == []

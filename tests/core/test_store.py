"""The history on disk: shards, journals, sessions, and what a crash leaves."""

from __future__ import annotations

import json

from tinydb import TinyDB

from inspector.core.history import History
from inspector.core.history.files import OrjsonStorage
from inspector.core.history.format import TABLE
from inspector.core.hub import Hub
from inspector.core.query import parse

from ..factories import make_event, make_exchange


def fill(history: History, count: int, start: int = 0) -> list[str]:
    ids = []
    for n in range(start, start + count):
        exchange = make_exchange(make_event(messageId=f"m{n}", userId=f"u{n}"))
        history.add(exchange)
        ids.append(exchange.id)
    return ids


def test_exchanges_go_to_tinydb_shards_of_bounded_size(tmp_path):
    history = History(tmp_path, shard_size=10)
    ids = fill(history, 25)
    history.close()
    shards = sorted((tmp_path / "history" / history.session).glob("0????.json"))
    assert len(shards) == 3
    sizes = [len(TinyDB(str(s), storage=OrjsonStorage).table(TABLE)) for s in shards]
    assert sizes == [10, 10, 5]
    assert not list((tmp_path / "history").rglob("*.jsonl"))  # a clean close leaves no journal
    reloaded = History(tmp_path).load()
    assert [s.id for s in reloaded.search(newest_first=False)] == ids
    assert reloaded.get(ids[7]).events[0].message_id == "m7"


def test_sessions_add_up_in_one_history(tmp_path):
    first = History(tmp_path).load()
    fill(first, 3)
    first.close()
    second = History(tmp_path).load()
    assert len(second) == 3
    fill(second, 2, start=3)
    second.close()
    third = History(tmp_path).load()
    assert len(third) == 5
    assert len({third.get(s.id).session for s in third.search()}) == 2


def test_journal_is_replayed_after_a_crash(tmp_path):
    history = History(tmp_path, shard_size=10, flush_interval=3600)
    history.start_session()
    ids = fill(history, 15)
    history.flush()  # the first shard reached TinyDB ...
    fill(history, 3, start=15)  # ... these three only the journal
    # the process dies here: no close()
    session = tmp_path / "history" / history.session
    with open(session / "00001.jsonl", "ab") as journal:
        journal.write(b'{"id": "cut short')  # a line the crash cut in the middle
    reloaded = History(tmp_path).load()
    assert len(reloaded) == 18
    assert [s.id for s in reloaded.search(newest_first=False)][:15] == ids


def test_a_journal_without_its_shard_is_read(tmp_path):
    history = History(tmp_path, flush_interval=3600)
    history.start_session()
    fill(history, 4)
    assert not list((tmp_path / "history").rglob("0????.json"))
    assert len(History(tmp_path).load()) == 4
    history.close()


def test_another_process_sees_exchanges_while_the_session_runs(tmp_path):
    history = History(tmp_path, flush_interval=3600)
    history.start_session()
    fill(history, 5)
    assert len(History(tmp_path).load()) == 5
    history.close()


def test_search_is_newest_first_with_a_limit(tmp_path):
    history = History(tmp_path)
    ids = fill(history, 10)
    assert [s.id for s in history.search(limit=3)] == ids[::-1][:3]
    assert [s.id for s in history.search(parse("user:u4 OR user:u6"))] == [ids[6], ids[4]]
    history.close()


def test_get_by_unique_prefix(tmp_path):
    history = History(tmp_path)
    [only] = fill(history, 1)
    assert history.get(only[:8]).id == only
    assert history.get(only[:8].lower()).id == only
    assert history.get("ZZZZZZZZ") is None
    assert history.get(only[:3]) is None  # too short to be meant as an id
    history.close()


def test_a_held_request_kept_after_later_ones_leaves_every_id_found(tmp_path):
    history = History(tmp_path, shard_size=10, flush_interval=3600)
    held = make_exchange(make_event(messageId="held"))
    later = [make_exchange(make_event(messageId=f"m{n}")) for n in range(3)]
    for exchange in [*later, held]:  # the held one is answered, so kept, last
        history.add(exchange)
    everything = history.rows()
    for exchange in [held, *later]:  # while the shard is open ...
        assert history.get(exchange.id).id == exchange.id
        assert everything[everything.position(exchange.id)].id == exchange.id
    history.close()
    reloaded = History(tmp_path).load()  # ... and once it is written
    assert all(reloaded.get(exchange.id).id == exchange.id for exchange in [held, *later])


def test_an_ambiguous_prefix_is_counted_and_the_short_id_names_one(tmp_path):
    history = History(tmp_path)
    # Two ids of one millisecond differ only at the end; one ten seconds later, early on.
    ids = ["01HF7YAT00AAAAAAAAAAAAAAA1", "01HF7YAT00AAAAAAAAAAAAAAA2", "01HF7YBT00AAAAAAAAAAAAAAA3"]
    for n, exchange_id in enumerate(ids):
        exchange = make_exchange(make_event(messageId=f"m{n}"))
        exchange.id = exchange_id
        history.add(exchange)
    assert history.get(ids[0][:10]) is None and history.starting(ids[0][:10]) == 2
    assert history.starting(ids[0]) == 1 and history.starting("ZZZZZZZZ") == 0
    hub = Hub(history)
    assert hub.short_id(ids[2]) == ids[2][:8]
    for exchange_id in ids:
        assert history.get(hub.short_id(exchange_id)).id == exchange_id
    history.close()


def test_redeliveries_are_counted_across_sessions(tmp_path):
    first = History(tmp_path)
    exchange = make_exchange(make_event(messageId="again"))
    assert first.redelivery(["again"], exchange.time, exchange.id) is None
    first.add(exchange)
    first.close()
    second = History(tmp_path).load()
    later = make_exchange(make_event(messageId="again"))
    redelivery = second.redelivery(["again"], later.time + 5, later.id)
    assert (redelivery.first, redelivery.n) == (exchange.id, 1)
    assert redelivery.since >= 5
    second.close()


def test_a_corrupt_shard_loses_only_itself(tmp_path):
    history = History(tmp_path, shard_size=5)
    fill(history, 10)
    history.close()
    session = tmp_path / "history" / history.session
    (session / "00000.json").write_text("{not json")
    (session / "00000.sum.json").write_text("{not json")
    reloaded = History(tmp_path).load()
    assert len(reloaded.search()) == 5
    assert len(reloaded) == 5
    assert sorted(p.split(":")[0] for p in reloaded.problems) == [
        str(session / "00000.json"), str(session / "00000.sum.json")]


def test_non_utf8_bodies_are_stored_and_searchable(tmp_path):
    history = History(tmp_path)
    exchange = make_exchange(b'\xff{"type": "track", "event": "Zebra"}')
    history.add(exchange)
    history.close()
    reloaded = History(tmp_path).load()
    assert reloaded.get(exchange.id).body == exchange.body
    assert reloaded.search(parse("zebra"))
    doc = json.loads((next((tmp_path / "history").rglob("0????.json"))).read_text())
    assert "bodyBase64" in next(iter(doc[TABLE].values()))


def test_a_full_shard_is_written_from_its_journal_lines_as_they_are(tmp_path, monkeypatch):
    history = History(tmp_path, shard_size=5, flush_interval=3600)
    history.start_session()
    exchanges = [make_exchange(make_event(userId=f"u{n}", event="Zebra")) for n in range(7)]
    for exchange in exchanges[:6]:
        history.add(exchange)
    journal = (tmp_path / "history" / history.session / "00000.jsonl").read_bytes()
    decoded = []
    monkeypatch.setattr(History, "_documents", lambda *args: decoded.append(args) or [])
    history.flush()  # the first shard: its lines were written by this run, in id order
    assert decoded == []
    shard = json.loads((tmp_path / "history" / history.session / "00000.json").read_bytes())
    assert list(shard[TABLE].values()) == [json.loads(line) for line in journal.splitlines()[:5]]
    monkeypatch.undo()
    history.add(exchanges[6])
    history.close()
    reloaded = History(tmp_path).load()
    assert [s.id for s in reloaded.search(newest_first=False)] == [e.id for e in exchanges]
    assert reloaded.get(exchanges[2].id).events[0].user_id == "u2"
    assert len(reloaded.search(parse("user:u4 zebra"))) == 1

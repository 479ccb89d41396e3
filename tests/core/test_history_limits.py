"""The history at its limits: --keep on the running session, damaged journals and shards, threads."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading

import orjson

from inspector.core.history import History
from inspector.core.query import parse

from ..factories import make_event, make_exchange
from ..waiting import until_sync

KIB = 1024


def padded(size: int, **fields) -> bytes:
    return orjson.dumps(make_event(properties={"padding": "x" * size}, **fields))


def test_keep_bounds_the_running_session_oldest_bodies_first_and_says_so(tmp_path):
    said: list[str] = []
    keep = 4 * 1024 * KIB
    history = History(tmp_path, shard_size=10, keep_bytes=keep, warn=said.append)
    ids = [history.add(make_exchange(padded(512 * KIB, messageId=f"m{n}"))).id for n in range(40)]
    until_sync(lambda: history.disk_size() <= keep * 1.25, what="retention bounds the running session")
    history.close()
    assert history.disk_size() <= keep * 1.25
    assert any("oldest bodies of the running session" in text and "--keep 4 MiB" in text for text in said), said
    reloaded = History(tmp_path).load()
    assert len(reloaded) == 40  # the exchanges stay: only their bodies went
    oldest, newest = reloaded.get(ids[0]), reloaded.get(ids[-1])
    assert oldest.body == b"" and "removed by retention" in oldest.body_gone and "--keep 4 MiB" in oldest.body_gone
    assert oldest.body_error is not None and "removed by retention" in oldest.body_error.message
    assert oldest.events[0].message_id == "m0"
    assert newest.body_size == len(newest.body) and not newest.body_gone


def test_keep_removes_the_running_sessions_oldest_exchanges_when_bodies_are_not_enough(tmp_path):
    said: list[str] = []
    keep = 64 * KIB
    history = History(tmp_path, shard_size=10, keep_bytes=keep, warn=said.append)
    ids = [history.add(make_exchange(padded(1 * KIB, messageId=f"m{n}"))).id for n in range(300)]
    history.close()
    assert history.disk_size() <= keep * 1.25, history.disk_size()
    assert any("oldest exchanges of the running session" in text for text in said), said
    reloaded = History(tmp_path).load()
    kept = [s.id for s in reloaded.search(newest_first=False)]
    assert 0 < len(kept) < 300 and kept == ids[-len(kept):]  # the newest stay, in order
    assert reloaded.problems == []


def crashed_journal(tmp_path, count: int) -> tuple[History, list[str], bytes]:
    history = History(tmp_path, shard_size=1000)
    ids = [history.add(make_exchange(make_event(messageId=f"m{n}"))).id for n in range(count)]
    journal = tmp_path / "history" / history.session / "00000.jsonl"
    os.close(history._journal_fd)  # the process dies: no close()
    return history, ids, journal.read_bytes()


def test_a_run_of_nuls_in_a_journal_loses_no_exchange_that_can_be_read(tmp_path):
    history, ids, raw = crashed_journal(tmp_path, 20)
    journal = tmp_path / "history" / history.session / "00000.jsonl"
    lines = raw.split(b"\n")
    journal.write_bytes(b"\n".join(lines[:6]) + b"\n" + b"\x00" * 20 * KIB + b"\n".join(lines[6:]))
    reader = History(tmp_path).load()
    assert len(reader) == 20
    assert any("20,480 bytes of NULs" in p for p in reader.problems), reader.problems
    writer = History(tmp_path).load()
    writer.start_session()  # folds the journal
    writer.close()
    again = History(tmp_path).load()
    assert [s.id for s in again.search(newest_first=False)] == ids


def test_a_journal_whose_lines_were_overwritten_says_what_it_lost_and_keeps_the_rest(tmp_path):
    history, ids, raw = crashed_journal(tmp_path, 20)
    journal = tmp_path / "history" / history.session / "00000.jsonl"
    start, end = raw.index(ids[5].encode()) + 3, raw.index(ids[15].encode()) + 3
    damaged = raw[:start] + b"\x00" * (end - start) + raw[end:]  # lines 5 to 15 lost
    journal.write_bytes(damaged)
    whole = [line for line in damaged.split(b"\n") if line.startswith(b'{"id"') and b"\x00" not in line]
    lost = len(damaged) - damaged.count(b"\n") - sum(map(len, whole))  # the NULs and the two lines they cut
    writer = History(tmp_path).load()
    writer.start_session()
    writer.close()
    text = "\n".join(writer.problems)
    assert len(whole) == 9 and f"2 lines not an exchange (cut short?), {lost:,} bytes skipped" in text, text
    assert "kept as 00000.jsonl.damaged" in text
    assert (journal.parent / "00000.jsonl.damaged").read_bytes()[start:end] == b"\x00" * (end - start)
    again = History(tmp_path).load()
    assert [s.id for s in again.search(newest_first=False)] == ids[:5] + ids[16:]


def test_a_truncated_shard_is_named_at_start_and_show_says_it_is_damaged(tmp_path):
    history = History(tmp_path, shard_size=5)
    ids = [history.add(make_exchange(make_event())).id for _ in range(8)]
    history.close()
    shard = tmp_path / "history" / history.session / "00000.json"
    size = shard.stat().st_size
    shard.write_bytes(shard.read_bytes()[:size // 2])
    reloaded = History(tmp_path).load()
    named = [p for p in reloaded.problems if "00000.json" in p]
    assert len(named) == 1 and f"damaged ({size // 2:,} of {size:,} bytes)" in named[0], reloaded.problems
    assert reloaded.get(ids[0]) is None and reloaded.get(ids[6]).id == ids[6]
    assert "00000.json: damaged" in reloaded.unreadable(ids[0]) and reloaded.unreadable(ids[6]) is None
    assert len(reloaded.problems) == 1  # reading it again names it no twice
    done = subprocess.run([sys.executable, "-m", "inspector", "show", ids[0], "--data-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "damaged" in done.stderr and "no exchange" not in done.stderr


def test_adds_gets_and_searches_from_many_threads_while_shards_close(tmp_path):
    history = History(tmp_path, shard_size=20, flush_interval=0.01)
    history.start_session()
    added: list[str] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def adder(worker: int) -> None:
        try:
            for n in range(150):
                body = padded(100 * KIB) if n % 25 == 0 else orjson.dumps(make_event(userId=f"u{worker}"))
                added.append(history.add(make_exchange(body)).id)
        except BaseException as err:
            failures.append(err)

    def reader() -> None:
        rng = random.Random(1)
        try:
            while not stop.is_set():
                if added:
                    exchange_id = rng.choice(added)
                    found = history.get(exchange_id)
                    assert found is not None and found.id == exchange_id, exchange_id
                history.search(parse("user:u1"), limit=10)
                len(history.rows(parse("type:track")))
        except BaseException as err:
            failures.append(err)

    adders = [threading.Thread(target=adder, args=(n,)) for n in range(3)]
    readers = [threading.Thread(target=reader) for _ in range(2)]
    for thread in readers + adders:
        thread.start()
    for thread in adders:
        thread.join()
    stop.set()
    for thread in readers:
        thread.join()
    history.close()
    assert failures == []
    assert len(history) == len(added) == 450 and len(set(added)) == 450
    reloaded = History(tmp_path).load()
    assert sorted(s.id for s in reloaded.search()) == sorted(added)
    assert all(reloaded.get(exchange_id) is not None for exchange_id in added[::17])

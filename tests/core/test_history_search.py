"""Free text over many shards: judged by worker processes, the same answers as in one thread."""

from __future__ import annotations

from inspector.core.history import History
from inspector.core.query import parse

from ..factories import make_event, make_exchange


def texts(n: int) -> bytes | dict:
    if n % 7 == 3:
        return b'\xff{"type": "track", "event": "Zebra Crossing"}'  # kept as base64
    if n % 5 == 1:
        return make_event(event="Zebra Crossing", userId=f"u{n}")
    if n == 12:
        return make_event(event="\u212aelvin zebra crossing")  # KELVIN SIGN lower-cases to k
    return make_event(event="Order Completed", userId=f"u{n}")


def test_free_text_in_worker_processes_finds_what_one_thread_finds(tmp_path):
    history = History(tmp_path, shard_size=3)
    for n in range(60):
        history.add(make_exchange(texts(n)))
    history.close()
    serial = History(tmp_path).load()
    parallel = History(tmp_path).load()
    parallel.parallel_shards = 0
    try:
        for text in ['"zebra crossing"', "zebra -order", '"kelvin zebra"', "nowhere", "crossing OR order"]:
            query = parse(text)
            expected = [s.id for s in serial.search(query)]
            assert [s.id for s in parallel.search(query)] == expected, text
            assert [s.id for s in parallel.search(query, 2)] == expected[:2], text
        assert len(parallel.search(parse('"zebra crossing"'))) == 9 + 11 + 1  # base64, plain, kelvin
        assert len(parallel.search(parse('"kelvin zebra"'))) == 1
    finally:
        parallel.close()


def test_a_search_stopped_at_its_limit_leaves_the_workers_ready_for_the_next(tmp_path):
    history = History(tmp_path, shard_size=2)
    for n in range(80):
        history.add(make_exchange(make_event(event="Order Completed" if n % 2 else "Signed Up")))
    history.close()
    reloaded = History(tmp_path).load()
    reloaded.parallel_shards = 0
    try:
        assert len(reloaded.search(parse("order"), 1)) == 1
        assert len(reloaded.search(parse('"signed up"'))) == 40
        assert len(reloaded.search(parse("order"))) == 40
    finally:
        reloaded.close()


def test_user_anon_message_and_id_terms_find_what_a_full_scan_finds(tmp_path):
    history = History(tmp_path, shard_size=4)
    users = ["u1", "U1", "u10", "\u212a1", "u\u0130", "", "user-1", "u1"]
    exchanges = []
    for n, user in enumerate(users * 3):
        event = make_event(userId=user, anonymousId=f"A{n % 3}", messageId=f"m-{n}")
        exchanges.append(make_exchange({"batch": [event, make_event(userId="other")]} if n % 5 == 0 else event))
        history.add(exchanges[-1])
    history.close()
    reloaded = History(tmp_path).load()
    everything = reloaded.search()
    some_id = exchanges[9].id
    for text in ["user:u1", "user:U1", "user:k1", "user:u1*", "user:*1", "anon:a2", "message:m-1*",
                 "message:M-17", "user:u1 anon:a0", f"id:{some_id}", f"id:{some_id[:8].lower()}*",
                 'user:""', "user:other type:track", "-user:u1"]:
        query = parse(text)
        expected = [s.id for s in everything if query.matches(s)]
        assert [s.id for s in reloaded.search(query)] == expected, text
        assert [s.id for s in reloaded.search(query, newest_first=False)] == expected[::-1], text
    assert len(reloaded.search(parse(f"id:{some_id}"))) == 1
    for text in ["user:u1", "user:k1", "anon:a2", "message:m-1*", f"id:{some_id[:8].lower()}*"]:
        assert reloaded.search(parse(text)), text  # the comparison above is not between two empty lists


def test_rows_hold_what_search_finds_and_make_summaries_only_when_read(tmp_path):
    history = History(tmp_path, shard_size=4)
    for n in range(30):
        event = make_event(event="Order Completed" if n % 3 else "Signed Up", userId=f"u{n % 4}")
        history.add(make_exchange(event, status=500 if n % 7 == 0 else 200))
    history.flush()  # some shards closed, the newest still open
    for text in [None, "type:track", 'event:"signed up"', "status>=500", "user:u1", "user:u1 status:200",
                 "order", "since:1h", "until:1h", "-type:track"]:
        query = parse(text) if text is not None else None
        expected = history.search(query, newest_first=False)
        rows = history.rows(query)
        assert len(rows) == len(expected), text
        assert list(rows) == expected, text
        assert [rows.id_at(i) for i in range(len(rows))] == [s.id for s in expected], text
        assert all(rows.position(s.id) == i for i, s in enumerate(expected)), text
        if expected:
            assert rows[-1] == expected[-1] and rows[0] == expected[0], text
    everything = history.rows()
    assert len(everything) == 30 and history.rows(parse('event:"signed up"')).position(everything.id_at(1)) is None
    held = make_exchange(make_event()).summary()
    plus = everything.plus([held])
    assert len(plus) == 31 and plus[-1] is held and plus.position(held.id) == 30
    history.close()

"""The history's stored format: one shape, versioned; TinyDB files; big bodies out of line."""

from __future__ import annotations

import gzip
import os
import stat
import subprocess
import sys

import orjson
from tinydb import TinyDB

from inspector.core.history import History
from inspector.core.history.format import BIG_BODY, LIST_FILE, TABLE, VERSION, decode, encode, stored
from inspector.core.query import parse

from ..factories import make_event, make_exchange


def big_event(word: str, size: int = BIG_BODY * 2) -> bytes:
    """A JSON event of about `size` bytes with `word` in its properties."""
    return orjson.dumps(make_event(properties={"note": word, "padding": "x" * size}))


def close_after(history: History, count: int) -> list[str]:
    ids = [history.add(make_exchange(make_event(messageId=f"m{n}"))).id for n in range(count)]
    history.close()
    return ids


def session_dir(tmp_path, history: History):
    return tmp_path / "history" / history.session


def test_encode_and_decode_are_each_others_inverse_and_stored_lines_are_the_document(tmp_path):
    exchange = make_exchange(b'\xff{"type": "track"}')
    exchange.decoded = b'{"type": "track"}'
    doc = encode(exchange)
    assert "bodyBase64" in doc and doc["decoded"]["body"] == '{"type": "track"}'
    assert encode(decode(doc)) == doc
    kept, line, bodies = stored(exchange)
    assert kept == doc and orjson.loads(line) == doc and line.endswith(b"\n") and bodies == []


def test_closed_shards_and_the_shard_list_are_plain_tinydb_files(tmp_path):
    history = History(tmp_path, shard_size=4)
    ids = close_after(history, 6)
    directory = session_dir(tmp_path, history)
    with TinyDB(directory / "00000.json", access_mode="r") as shard:
        assert [doc["id"] for doc in shard.table(TABLE).all()] == ids[:4]
    with TinyDB(directory / LIST_FILE, access_mode="r") as listed:
        assert listed.table("format").all() == [{"version": VERSION}]
        assert [(e["shard"], e["count"], e["first"]) for e in listed.table("shards").all()] == [
            (0, 4, ids[0]), (1, 2, ids[4])]


def test_a_version_1_session_is_read_as_it_is(tmp_path):
    history = History(tmp_path, shard_size=4)
    ids = close_after(history, 6)
    list_path = session_dir(tmp_path, history) / LIST_FILE
    data = orjson.loads(list_path.read_bytes())
    for entry in data["shards"].values():
        del entry["bytes"]  # version 1 entries had no size
    list_path.write_bytes(orjson.dumps({"shards": data["shards"]}))
    reloaded = History(tmp_path).load()
    assert [s.id for s in reloaded.search(newest_first=False)] == ids and reloaded.problems == []
    assert reloaded.get(ids[5]).events[0].message_id == "m5"


def test_a_session_of_a_newer_version_is_refused_never_misread(tmp_path):
    history = History(tmp_path, shard_size=4)
    close_after(history, 6)
    list_path = session_dir(tmp_path, history) / LIST_FILE
    data = orjson.loads(list_path.read_bytes())
    data["format"] = {"1": {"version": VERSION + 1}}
    list_path.write_bytes(orjson.dumps(data))
    reloaded = History(tmp_path).load()
    assert len(reloaded) == 0
    assert any("written by a newer segment-inspector: update it" in p for p in reloaded.problems)
    writer = History(tmp_path, keep_bytes=1).load()  # retention leaves what it cannot read alone
    writer.start_session()
    writer.close()
    assert list_path.exists()


def test_a_version_no_converter_reads_is_refused(tmp_path):
    history = History(tmp_path, shard_size=4)
    close_after(history, 2)
    list_path = session_dir(tmp_path, history) / LIST_FILE
    data = orjson.loads(list_path.read_bytes())
    for version, said in ((0, "format version 0, which this segment-inspector cannot read"),
                          ("2", "is not a number")):
        data["format"] = {"1": {"version": version}}
        list_path.write_bytes(orjson.dumps(data))
        reloaded = History(tmp_path).load()
        assert len(reloaded) == 0 and any(said in p for p in reloaded.problems), reloaded.problems


def test_big_bodies_are_files_of_their_own_and_read_back_found_and_private(tmp_path):
    old = os.umask(0o022)
    try:
        history = History(tmp_path, shard_size=3)
        big = make_exchange(big_event("aardvark"))
        raw = gzip.compress(big_event("zebrafish"))
        packed = make_exchange(raw, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
        packed.decoded = gzip.decompress(raw)
        small = make_exchange(make_event())
        for exchange in (big, packed, small, make_exchange(make_event())):
            history.add(exchange)
        assert history.get(big.id).body == big.body  # from the open journal ...
        history.close()
    finally:
        os.umask(old)
    directory = session_dir(tmp_path, history)
    shard = (directory / "00000.json").read_bytes()
    assert len(shard) < BIG_BODY and b"aardvark" not in shard
    files = sorted(p.name for p in (directory / "bodies").iterdir())
    assert files == sorted([f"{big.id}.body", f"{packed.id}.decoded"])
    assert stat.S_IMODE((directory / "bodies").stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in (directory / "bodies").iterdir()} == {0o600}
    reloaded = History(tmp_path).load()  # ... and from the shard
    again = reloaded.get(big.id)
    assert again.body == big.body and again.body_size == len(big.body) and not again.body_gone
    assert reloaded.get(packed.id).decoded == packed.decoded and reloaded.get(packed.id).body == raw
    assert [s.id for s in reloaded.search(parse("aardvark"))] == [big.id]
    assert [s.id for s in reloaded.search(parse("zebrafish"))] == [packed.id]
    assert reloaded.search(parse("has:body"), newest_first=False)[0].id == big.id


def test_show_of_a_small_exchange_beside_big_ones_reads_no_big_body(tmp_path, monkeypatch):
    history = History(tmp_path, shard_size=100)
    for _ in range(5):
        history.add(make_exchange(big_event("whale", 1024 * 1024)))
    small = history.add(make_exchange(make_event(event="Minnow"))).id
    history.close()
    reloaded = History(tmp_path).load()
    read: list[str] = []
    real = type(tmp_path).read_bytes

    def counting(path):
        read.append(path.name)
        return real(path)

    monkeypatch.setattr(type(tmp_path), "read_bytes", counting)
    assert reloaded.get(small).events[0].event == "Minnow"
    assert not any(name.endswith((".body", ".decoded")) for name in read)
    assert os.path.getsize(session_dir(tmp_path, history) / "00000.json") < 64 * 1024


def test_a_body_file_that_cannot_be_written_is_history_unavailable(tmp_path):
    history = History(tmp_path)
    history.start_session()
    bodies = session_dir(tmp_path, history) / "bodies"
    bodies.write_bytes(b"")  # a file where the directory must be: every body write fails
    try:
        history.add(make_exchange(big_event("lost")))
    except Exception as err:
        assert type(err).__name__ == "HistoryUnavailable" and "503" in str(err)
    else:
        raise AssertionError("a body that is not written was acknowledged")
    assert len(history) == 0
    history.add(make_exchange(make_event()))  # small bodies are still kept
    assert len(history) == 1
    history.close()


def test_json_output_carries_big_bodies_inline(tmp_path):
    history = History(tmp_path)
    exchange = make_exchange(big_event("narwhal"))
    history.add(exchange)
    history.close()
    done = subprocess.run([sys.executable, "-m", "inspector", "show", exchange.id, "--json", "--data-dir",
                           str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    doc = orjson.loads(done.stdout)
    assert doc["body"] == exchange.body.decode() and "bodyFile" not in doc

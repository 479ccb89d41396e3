"""The history under faults: full disks, short writes, crashes, damaged files, file modes."""

from __future__ import annotations

import errno
import gc
import os
import shutil
import stat
import subprocess
import sys
import uuid

import orjson
import pytest

from inspector.core.history import History, HistoryUnavailable

from ..factories import make_event, make_exchange


def journal_fd(fd: int) -> bool:
    try:
        return os.readlink(f"/proc/self/fd/{fd}").endswith(".jsonl")
    except OSError:
        return False


class Disk:
    """os.write as a disk that can fill up: journal writes fail (or write short) while `full`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, short: bool = False) -> None:
        self.full = False
        self.short = short
        real = os.write

        def write(fd: int, data: bytes) -> int:
            if self.full and journal_fd(fd):
                if self.short:
                    return real(fd, bytes(data)[:7])
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real(fd, data)

        monkeypatch.setattr(os, "write", write)


def event() -> bytes:
    return orjson.dumps(make_event(messageId=str(uuid.uuid4())))


@pytest.mark.parametrize("short", [False, True], ids=["ENOSPC", "short write"])
async def test_a_full_disk_answers_503_once_said_and_resumes(inspector, tmp_path, monkeypatch, short):
    said: list[str] = []
    inspector.history.warn = said.append
    disk = Disk(monkeypatch, short)
    ok = [await inspector.post(event()) for _ in range(3)]
    disk.full = True
    refused = [await inspector.post(event()) for _ in range(4)]
    disk.full = False
    resumed = [await inspector.post(event()) for _ in range(3)]
    assert [s for s, _, _ in ok + resumed] == [200] * 6
    assert [s for s, _, _ in refused] == [503] * 4
    message = orjson.loads(refused[0][2])["message"]
    assert "503" in message and "Segment retries" in message
    assert len(said) == 2 and "cannot keep requests" in said[0] and "writable again" in said[1]
    inspector.history.close()
    reloaded = History(tmp_path).load()
    assert len(reloaded.search()) == 6
    assert reloaded.problems == []  # no half line was left behind


def test_add_raises_a_clear_error_when_the_journal_cannot_be_written(tmp_path, monkeypatch):
    history = History(tmp_path)
    history.add(make_exchange(make_event()))
    real = os.write

    def failing(fd: int, data: bytes) -> int:
        if journal_fd(fd):
            raise OSError(errno.EIO, "I/O error")
        return real(fd, data)

    monkeypatch.setattr(os, "write", failing)
    with pytest.raises(HistoryUnavailable, match="I/O error"):
        history.add(make_exchange(make_event()))
    monkeypatch.undo()
    history.close()
    assert len(History(tmp_path).load()) == 1


def test_the_writer_retries_and_drops_nothing(tmp_path, monkeypatch):
    import inspector.core.history.shards as store

    said: list[str] = []
    history = History(tmp_path, shard_size=5, flush_interval=0.05, warn=said.append)
    real = store.write_atomic
    failures = {"left": 3}

    def flaky(path, data):
        if failures["left"]:
            failures["left"] -= 1
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(path, data)

    monkeypatch.setattr(store, "write_atomic", flaky)
    ids = [history.add(make_exchange(make_event())).id for _ in range(12)]
    history.close()
    assert failures["left"] == 0
    assert any("retrying" in text for text in said)
    session = tmp_path / "history" / history.session
    assert not list(session.glob("*.jsonl")), said
    assert sorted(p.name for p in session.glob("0????.json")) == ["00000.json", "00001.json", "00002.json"]
    assert [s.id for s in History(tmp_path).load().search(newest_first=False)] == ids


def test_close_keeps_the_journal_when_the_shard_cannot_be_written(tmp_path, monkeypatch):
    import inspector.core.history.shards as store

    said: list[str] = []
    history = History(tmp_path, warn=said.append)
    ids = [history.add(make_exchange(make_event())).id for _ in range(4)]

    def full(path, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(store, "write_atomic", full)
    history.close()
    monkeypatch.undo()
    session = tmp_path / "history" / history.session
    assert (session / "00000.jsonl").exists() and "next start" in said[-1]
    later = History(tmp_path).load()
    later.start_session()  # folds the journal into its shard
    assert not (session / "00000.jsonl").exists() and (session / "00000.json").exists()
    assert [s.id for s in later.search(newest_first=False)] == ids
    later.close()
    assert [s.id for s in History(tmp_path).load().search(newest_first=False)] == ids


def test_a_crash_journal_is_folded_once_and_stray_tmp_files_go(tmp_path):
    crashed = History(tmp_path, shard_size=10)
    ids = [crashed.add(make_exchange(make_event())).id for _ in range(4)]
    session = tmp_path / "history" / crashed.session
    os.close(crashed._journal_fd)  # the process dies: no close()
    with open(session / "00000.jsonl", "ab") as journal:
        journal.write(b'{"id": "cut short')
    (session / "00000.json.tmp").write_bytes(b"half")
    reader = History(tmp_path).load()  # a reader changes nothing
    assert len(reader) == 4 and (session / "00000.jsonl").exists()
    assert any("1 line not an exchange" in p for p in reader.problems)
    writer = History(tmp_path).load()
    writer.start_session()
    assert not (session / "00000.jsonl").exists() and not (session / "00000.json.tmp").exists()
    writer.close()
    again = History(tmp_path).load()
    assert [s.id for s in again.search(newest_first=False)] == ids and again.problems == []


def shard(path, table) -> None:
    path.write_bytes(orjson.dumps(table))


def test_damaged_records_and_files_are_skipped_and_named(tmp_path):
    history = History(tmp_path, shard_size=3)
    ids = [history.add(make_exchange(make_event())).id for _ in range(3)]
    history.close()
    good = tmp_path / "history" / history.session / "00000.json"
    damaged = tmp_path / "history" / "01OLDSESSION00000000000000"
    damaged.mkdir()
    table = orjson.loads(good.read_bytes())["exchanges"]
    table["4"], table["5"], table["6"] = None, {"id": "x"}, 1
    shard(damaged / "00000.json", {"exchanges": table})
    (damaged / "00001.json").write_bytes(b"")
    shard(damaged / "00002.json", [])
    shard(damaged / "00003.json", {"exchanges": []})
    (damaged / "00004.jsonl").write_bytes(b"1\nnull\n{}\n")
    history = History(tmp_path).load()
    found = [s.id for s in history.search(newest_first=False)]
    assert sorted(found) == sorted(ids * 2)  # the damaged session holds copies of the same three
    text = "\n".join(history.problems)
    assert "00000.json: 3 records not an exchange" in text
    assert "00001.json: empty" in text
    assert "00002.json: holds no exchanges" in text and "00003.json: holds no exchanges" in text
    assert "00004.jsonl: 3 lines not an exchange" in text
    assert history.get(ids[0]).id == ids[0]


def test_cli_reads_survive_damaged_files(tmp_path):
    history = History(tmp_path)
    [kept] = [history.add(make_exchange(make_event())).id for _ in range(1)]
    history.close()
    bad = tmp_path / "history" / "01OLDSESSION00000000000000"
    bad.mkdir()
    (bad / "00000.jsonl").write_bytes(b"1\n")
    for command in (["history"], ["show", kept], ["serve", "--port", "0", "--no-tunnel", "--help"]):
        done = subprocess.run([sys.executable, "-m", "inspector", *command, "--data-dir", str(tmp_path)],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
    assert "00000.jsonl: 1 line not an exchange" in done.stderr or command[0] == "serve"


def modes(root) -> set[tuple[str, int]]:
    found = set()
    for path in [root, *root.rglob("*")]:
        found.add(("dir" if path.is_dir() else "file", stat.S_IMODE(path.stat().st_mode)))
    return found


def test_files_are_private_whatever_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        history = History(tmp_path, shard_size=2)
        for _ in range(5):
            history.add(make_exchange(make_event()))
        history.close()
        assert modes(tmp_path / "history") == {("dir", 0o700), ("file", 0o600)}
        loose = tmp_path / "history" / history.session / "00000.json"
        os.chmod(loose, 0o644)
        os.chmod(loose.parent, 0o755)
        History(tmp_path).load().start_session()
        assert modes(tmp_path / "history") == {("dir", 0o700), ("file", 0o600)}
    finally:
        os.umask(old)


def test_retention_removes_the_oldest_sessions_first(tmp_path):
    sessions = []
    for _ in range(3):
        history = History(tmp_path, shard_size=5)
        for _ in range(10):
            history.add(make_exchange(make_event()))
        history.close()
        sessions.append(history.session)
    one = sum(p.stat().st_size for p in (tmp_path / "history" / sessions[0]).iterdir())
    kept = History(tmp_path, keep_bytes=int(one * 2.5)).load()
    kept.start_session()
    kept.close()
    assert sorted(p.name for p in (tmp_path / "history").iterdir()) == sorted([*sessions[1:], kept.session])
    assert len(History(tmp_path).load()) == 20
    fresh = History(tmp_path, keep_days=0).load()
    fresh.start_session()
    fresh.close()
    assert [p.name for p in (tmp_path / "history").iterdir()] == [fresh.session]


def test_the_history_leaves_the_gc_alone(tmp_path):
    before = gc.get_freeze_count()
    history = History(tmp_path, shard_size=10)
    for _ in range(30):
        history.add(make_exchange(make_event()))
    history.close()
    History(tmp_path).load().search()
    assert gc.get_freeze_count() == before


def test_a_redelivery_is_recorded_once_and_seen_after_a_restart(tmp_path):
    first = History(tmp_path)
    exchange = make_exchange(make_event(messageId="again"))
    assert first.redelivery(["again"], exchange.time, exchange.id) is None
    first.add(exchange)
    assert first.redelivery(["again"], exchange.time + 1, "LATER").n == 1
    first.close()
    second = History(tmp_path).load()
    second.start_session()
    found = second.redelivery(["again"], exchange.time + 2, "LATEST")
    assert (found.first, found.n) == (exchange.id, 1)  # the first session's repeat was not kept
    second.close()


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("mount") is None, reason="mounting a tmpfs needs root")
def test_a_real_full_disk_on_tmpfs(tmp_path):
    disk = tmp_path / "small"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(disk)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        history = History(disk, shard_size=10_000, keep_bytes=None)
        kept, refused = [], 0
        body = {"properties": {"pad": "x" * 2000}}
        for _ in range(1000):
            exchange = make_exchange(make_event(messageId=str(uuid.uuid4()), **body))
            try:
                history.add(exchange)
                kept.append(exchange.id)
            except HistoryUnavailable:
                refused += 1
        assert kept and refused
        history.close()  # the shard may not fit: then the journal stays, and is read
        found = {s.id for s in History(disk).load().search()}
        assert set(kept) <= found
    finally:
        subprocess.run(["umount", str(disk)])

"""File names from untrusted data, and never overwriting without force."""

from __future__ import annotations

import os

import pytest

from inspector.core.exporters import Export, export
from inspector.core.exporters.common import SAFE_FILE_NAME, safe_name
from inspector.core.exporters.output import UnsafeName, write_export

from ..factories import make_event, make_exchange

HOSTILE_NAMES = ["../../../etc/passwd", "/absolute/path", "..", ".hidden", "a\x00b", "\x1b[31mred\x1b[0m",
                 "new\nline", "C:\\Windows\\system32", "x" * 5000, "CON", "", "   ", "ünïcödé ☕", "-rf"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_safe_name_is_one_bounded_component_of_a_safe_alphabet(name):
    safe = safe_name(name)
    assert 1 <= len(safe) <= 60
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in safe)
    assert not safe.startswith((".", "-")) and safe not in (".", "..")


def test_json_export_of_hostile_event_names_stays_inside_the_directory(tmp_path):
    exchanges = [make_exchange(make_event(event=name)) for name in HOSTILE_NAMES]
    out = tmp_path / "export"
    written = write_export(export(exchanges, "json"), out)
    assert len(written) == len(HOSTILE_NAMES)
    assert sorted(os.listdir(out)) == sorted(path.name for path in written)
    assert all(path.parent == out and SAFE_FILE_NAME.fullmatch(path.name) for path in written)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]  # nothing landed beside it
    assert written[0].name == "0001-track-etc_passwd.json"
    assert written[5].name == "0006-track-31mred_0m.json"
    assert max(len(path.name) for path in written) <= 80


def test_write_export_refuses_a_name_no_exporter_should_make(tmp_path):
    for name in ("../escape.json", "sub/dir.json", ".hidden", "a\nb"):
        with pytest.raises(UnsafeName):
            write_export(Export({name: b"x"}, many=True), tmp_path / "out")
    assert not (tmp_path / "escape.json").exists()


def test_existing_file_is_never_overwritten_without_force_and_nothing_is_written(tmp_path):
    exchanges = [make_exchange(make_event(event=f"E{n}", messageId=f"m{n}")) for n in range(3)]
    result = export(exchanges, "json")
    out = tmp_path / "events"
    out.mkdir()
    (out / "0002-track-E1.json").write_bytes(b"mine")
    with pytest.raises(FileExistsError) as raised:
        write_export(result, out)
    assert "0002-track-E1.json exists" in raised.value.strerror
    assert sorted(os.listdir(out)) == ["0002-track-E1.json"]  # not even the other two
    assert (out / "0002-track-E1.json").read_bytes() == b"mine"

    written = write_export(result, out, force=True)
    assert [path.read_bytes() for path in written] == [exchange.body for exchange in exchanges]


def test_single_file_formats_write_the_file_or_into_a_directory(tmp_path):
    result = export([make_exchange()], "jsonl")
    assert write_export(result, tmp_path / "mine.jsonl") == [tmp_path / "mine.jsonl"]
    assert write_export(result, tmp_path) == [tmp_path / "segment-events.jsonl"]
    with pytest.raises(FileExistsError):
        write_export(result, tmp_path / "mine.jsonl")
    script = write_export(export([make_exchange()], "curl"), tmp_path)[0]
    assert os.access(script, os.X_OK)


def test_a_symlink_in_the_way_is_neither_followed_nor_written_through(tmp_path):
    precious = tmp_path / "precious.txt"
    precious.write_bytes(b"keep me")
    link = tmp_path / "segment-events.jsonl"
    link.symlink_to(precious)
    result = export([make_exchange()], "jsonl")
    with pytest.raises(FileExistsError):
        write_export(result, tmp_path)
    dangling = tmp_path / "dangling.jsonl"
    dangling.symlink_to(tmp_path / "nowhere.jsonl")
    with pytest.raises(FileExistsError):
        write_export(result, dangling)
    assert not (tmp_path / "nowhere.jsonl").exists()

    write_export(result, tmp_path, force=True)  # replaces the link itself
    assert not link.is_symlink() and link.read_bytes() == result.files["segment-events.jsonl"]
    assert precious.read_bytes() == b"keep me"


def test_a_file_where_the_directory_should_be_is_an_error(tmp_path):
    (tmp_path / "events").write_bytes(b"x")
    with pytest.raises(NotADirectoryError):
        write_export(export([make_exchange()], "json"), tmp_path / "events")

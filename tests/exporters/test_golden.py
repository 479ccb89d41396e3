"""Each format from fixed exchanges, compared with the files in golden/.

Regenerate after an intended change with `UPDATE_GOLDEN=1 pytest tests/exporters`, and
read the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from inspector.core.exporters import FORMATS, ExportOptions, export

from .cases import golden_exchanges

GOLDEN = Path(__file__).parent / "golden"
OPTIONS = ExportOptions(base_url="https://hooks.example.com/segment/", version="0.0.0-test")

CASES = {
    "json": ("json", OPTIONS),
    "json-pretty": ("json", ExportOptions(base_url=OPTIONS.base_url, pretty=True, version="0.0.0-test")),
    "jsonl": ("jsonl", OPTIONS),
    "jsonl-redacted": ("jsonl", ExportOptions(base_url=OPTIONS.base_url, redact=True, version="0.0.0-test")),
    "pytest": ("pytest", OPTIONS),
    "curl": ("curl", OPTIONS),
    "har": ("har", OPTIONS),
    "har-redacted": ("har", ExportOptions(base_url=OPTIONS.base_url, redact=True, version="0.0.0-test")),
}


def test_every_format_has_a_golden_case():
    assert {name for name, _ in CASES.values()} == set(FORMATS)


@pytest.mark.parametrize("case", CASES)
def test_export_matches_golden_files(case):
    name, options = CASES[case]
    result = export(golden_exchanges(), name, options)
    folder = GOLDEN / case
    if os.environ.get("UPDATE_GOLDEN"):
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
        for file_name, content in result.files.items():
            (folder / file_name).write_bytes(content)
    expected = {path.name: path.read_bytes() for path in sorted(folder.iterdir())}
    assert sorted(result.files) == sorted(expected)
    for file_name, content in result.files.items():
        assert content == expected[file_name], f"{case}/{file_name} differs from the golden file"


def test_golden_skips_are_explained():
    """What each format leaves out of the fixed exchanges, and why."""
    exchanges = golden_exchanges()
    skipped = {name: [(s.exchange_id[-2:], s.reason) for s in export(exchanges, name, OPTIONS).skipped]
               for name in FORMATS}
    not_utf8 = ("04", "body is not UTF-8: invalid byte at position 43")
    empty = ("05", "empty body: Segment always sends a JSON event")
    assert skipped == {"json": [("05", "no body (GET /health)")], "jsonl": [not_utf8, empty],
                       "pytest": [not_utf8, empty], "curl": [], "har": []}

"""A body that came compressed is the same event everywhere: replayed with its Content-Encoding,
exported as a fixture decoded, kept in the pytest module as received with the means to decode it."""

from __future__ import annotations

import asyncio
import gzip
import json
import subprocess
import sys
from pathlib import Path

import orjson

from inspector.cli import main
from inspector.core.exporters import export
from inspector.core.history import History
from inspector.core.query import parse

from ..conftest import SEGMENT_HEADERS
from ..endpoint import serving
from ..factories import make_event, make_exchange

EVENT = make_event(event="Order Completed", messageId="m-gzip")


def gzipped():
    return make_exchange(gzip.compress(orjson.dumps(EVENT)), headers={**SEGMENT_HEADERS, "Content-Encoding": "gzip"})


def test_the_json_fixture_holds_the_decoded_event():
    result = export([gzipped()], "json")
    [content] = result.files.values()
    assert json.loads(content) == EVENT


def test_the_pytest_module_of_a_gzip_request_passes_as_generated(tmp_path: Path):
    result = export([gzipped(), make_exchange(EVENT)], "pytest")
    [(name, source)] = result.files.items()
    assert b"gzip" in source and b"Content-Encoding" in source  # the request as received
    (tmp_path / name).write_bytes(source)
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", "-q",
                          "--rootdir", str(tmp_path), name], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0 and "4 passed" in run.stdout, run.stdout[-2000:] + run.stderr[-2000:]


async def test_a_gzip_request_is_replayed_with_its_content_encoding(tmp_path: Path, capsys):
    history = History(tmp_path)
    history.start_session()
    history.add(gzipped())
    history.close()
    async with serving() as endpoint:  # aiohttp decodes the body by its Content-Encoding
        code = await asyncio.to_thread(main, ["replay", "--to", endpoint.url, "--data-dir", str(tmp_path)])
    assert code == 0, capsys.readouterr()
    assert [(seen.headers.get("Content-Encoding"), seen.json()) for seen in endpoint.seen] == [("gzip", EVENT)]


def test_a_tracking_batch_posted_to_the_partner_receiver_is_summarised_by_its_events(tmp_path: Path):
    body = {"batch": [make_event(event="Product Added", userId="u4"), make_event(type="identify", userId="u5")]}
    history = History(tmp_path)
    history.start_session()
    history.add(make_exchange(body))
    for query in ('event:"Product Added"', "user:u4", "is:batch", "type:identify"):
        assert len(history.search(parse(query))) == 1, query
    [summary] = history.search()
    assert summary.types == ("track", "identify")
    history.close()

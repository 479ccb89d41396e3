"""The exported files in the tools they are for: pytest runs the module, bash and the real curl
send the requests to a real receiver, the HAR validates against the HAR 1.2 schema, and
hard bodies (quotes, newlines, NUL, bytes that are not UTF-8, a megabyte string) come
back out of every format as they went in."""

from __future__ import annotations

import asyncio
import base64
import copy
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest

from inspector.core.exporters import ExportOptions, export
from inspector.core.query import parse

from ..factories import make_exchange
from .cases import MEGABYTE_STRING, RAW_BODIES, golden_exchanges, tricky_body, tricky_events

SCHEMA = json.loads((Path(__file__).parent / "har-1.2.schema.json").read_text())
CURL = shutil.which("curl")


def tricky_exchanges():
    return [make_exchange(tricky_body(name, event)) for name, event in tricky_events().items()]


def raw_exchanges():
    return [make_exchange(body) for body in RAW_BODIES.values()]


# -- pytest ------------------------------------------------------------------------

EXPECTED_EVENT_IDS = [
    "track-Order_Completed", "identify", "page-Home", "screen-Dashboard",
    "track-It_s_quoted_back_HOME_single", "track-line_break_and_tab", "track-nul_inside",
    "track-Cafe", "track-Big",
]
EXPECTED_REQUEST_IDS = [
    "track-Order_Completed", "identify", "batch-2",
    "track-It_s_quoted_back_HOME_single", "track-line_break_and_tab", "track-nul_inside",
    "track-Cafe", "track-Big",
]


def _run_pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=",
                           "--rootdir", str(folder), *args], cwd=folder, capture_output=True, text=True,
                          timeout=300)


def test_generated_pytest_module_is_collected_and_passes_in_pytest(tmp_path):
    result = export(golden_exchanges() + tricky_exchanges(), "pytest")
    (module,) = result.files
    (tmp_path / module).write_bytes(result.files[module])

    collected = _run_pytest(tmp_path, "--collect-only", "-q", module)
    assert collected.returncode == 0, collected.stdout + collected.stderr
    ids = [line for line in collected.stdout.splitlines() if "::" in line]
    assert ids == ([f"{module}::test_event_is_a_json_object[{i}]" for i in EXPECTED_EVENT_IDS]
                   + [f"{module}::test_request_body_holds_the_events[{i}]" for i in EXPECTED_REQUEST_IDS])

    run = _run_pytest(tmp_path, "-q", module)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert f"{len(EXPECTED_EVENT_IDS) + len(EXPECTED_REQUEST_IDS)} passed" in run.stdout


def test_generated_pytest_module_fails_when_its_data_is_wrong(tmp_path):
    """The example test checks something: a body edited away from its events fails it."""
    source = export(golden_exchanges(), "pytest").files["test_segment_events.py"].decode()
    edited = source.replace('"currency":"USD"', '"currency":"EUR"', 1)  # in the body's bytes
    assert edited != source
    (tmp_path / "test_segment_events.py").write_text(edited)
    run = _run_pytest(tmp_path, "-q", "test_segment_events.py")
    assert run.returncode == 1
    assert "1 failed" in run.stdout and "test_request_body_holds_the_events[track-Order_Completed]" in run.stdout


def test_pytest_module_data_round_trips_hard_events():
    events = tricky_events()
    source = export(tricky_exchanges(), "pytest").files["test_segment_events.py"]
    namespace: dict = {}
    exec(compile(source, "test_segment_events.py", "exec"), namespace)
    assert [param.values[0] for param in namespace["EVENTS"]] == list(events.values())
    assert [param.values[0]["body"] for param in namespace["REQUESTS"]] == \
        [tricky_body(name, event) for name, event in events.items()]
    assert namespace["EVENTS"][-1].values[0]["properties"]["blob"] == MEGABYTE_STRING
    # no untrusted character reaches the source unescaped
    text = source.decode("utf-8")
    assert "\x00" not in text and "\x1b" not in text and "\u202e" not in text and "\u2028" not in text


# -- curl --------------------------------------------------------------------------


def _comparable(headers) -> list[tuple[str, str]]:
    return sorted((name.lower(), value) for name, value in headers
                  if name.lower() not in ("host", "content-length", "connection"))


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
async def test_curl_script_resends_every_request_byte_for_byte(inspector, tmp_path):
    originals = golden_exchanges() + tricky_exchanges() + raw_exchanges()
    script = export(originals, "curl", ExportOptions(base_url=inspector.url)).files["segment-requests.sh"]
    (tmp_path / "segment-requests.sh").write_bytes(script)
    process = await asyncio.create_subprocess_exec(
        "bash", "segment-requests.sh", cwd=tmp_path, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, "HOME": str(tmp_path)})
    _out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode(errors="replace")

    received = [inspector.history.get(s.id) for s in inspector.history.search(newest_first=False)]
    assert len(received) == len(originals)
    for original, again in zip(originals, received, strict=False):
        assert again.body == original.body, f"body of {original.id} changed"
        assert (again.method, again.path, again.query) == (original.method, original.path, original.query)
        assert _comparable(again.headers) == _comparable(original.headers)
    assert not list(tmp_path.glob("pwned*")), "a body ran as shell code"


def test_curl_commands_are_each_one_line_and_quote_everything():
    script = export(tricky_exchanges() + raw_exchanges(), "curl").files["segment-requests.sh"]
    commands = [line for line in script.decode().splitlines() if line and not line.startswith("#")]
    assert len(commands) == len(tricky_exchanges()) + len(RAW_BODIES)
    assert all(line.isprintable() for line in commands)
    # a raw NUL byte or a megabyte goes through printf, the others as one --data-raw argument
    # (a NUL inside a JSON string is the six characters \u0000)
    assert [line.startswith("printf ") for line in commands] == [False] * 4 + [True, False, True, True]


# -- HAR ---------------------------------------------------------------------------


def _har(exchanges) -> dict:
    return json.loads(export(exchanges, "har", ExportOptions(base_url="https://hooks.example.com/")).joined())


def _body(post_data: dict) -> bytes:
    if post_data.get("_encoding") == "base64":
        return base64.b64decode(post_data["text"])
    return post_data["text"].encode("utf-8")


def test_har_validates_against_the_har_1_2_schema():
    originals = golden_exchanges() + tricky_exchanges() + raw_exchanges()
    document = _har(originals)
    jsonschema.Draft7Validator(SCHEMA).validate(document)
    log = document["log"]
    assert log["version"] == "1.2" and log["creator"]["name"] == "segment-inspector"
    assert len(log["entries"]) == len(originals)
    for entry, original in zip(log["entries"], originals, strict=False):
        timings = entry["timings"]
        assert entry["time"] == sum(v for k, v in timings.items() if k != "comment" and v >= 0)
        assert datetime.datetime.fromisoformat(entry["startedDateTime"]).timestamp() == \
            pytest.approx(original.time, abs=0.001)
        assert urlsplit(entry["request"]["url"]).scheme == "https"
        assert entry["request"]["bodySize"] == len(original.body)
        if original.body:
            assert _body(entry["request"]["postData"]) == original.body
        assert entry["response"]["status"] == original.answer.status


def test_the_har_schema_rejects_what_the_spec_forbids():
    """The schema is strict enough to catch real mistakes, so passing it means something."""
    valid = _har(golden_exchanges()[:1])
    broken = []
    for path, change in [
        (("log", "entries", 0, "response"), lambda r: r.pop("content")),
        (("log", "entries", 0, "request"), lambda r: r.pop("headersSize")),
        (("log", "entries", 0, "timings"), lambda t: t.update(wait=-1)),
        (("log", "entries", 0), lambda e: e.update(resourceType="fetch")),  # custom fields need "_"
        (("log", "entries", 0, "request", "postData"), lambda p: p.update(params=[])),  # text xor params
        (("log", "entries", 0), lambda e: e.update(startedDateTime="yesterday")),
        (("log",), lambda log: log.pop("creator")),
    ]:
        document = copy.deepcopy(valid)
        target = document
        for key in path:
            target = target[key]
        change(target)
        broken.append(document)
    validator = jsonschema.Draft7Validator(SCHEMA)
    assert validator.is_valid(valid)
    assert [validator.is_valid(document) for document in broken] == [False] * len(broken)


# -- round trips through every format ------------------------------------------------


def test_json_files_are_the_bodies_exactly():
    originals = tricky_exchanges() + raw_exchanges()
    files = export(originals, "json").files
    assert list(files.values()) == [exchange.body for exchange in originals]
    assert all(re.fullmatch(r"\d{4}-[A-Za-z0-9._-]+\.json", name) for name in files)


def test_jsonl_lines_are_the_events_and_never_break():
    events = tricky_events()
    pretty = make_exchange(json.dumps(events["newlines"], indent=2).encode())
    data = export([*tricky_exchanges(), pretty, *raw_exchanges()], "jsonl").files["segment-events.jsonl"]
    lines = data.split(b"\n")
    assert lines[-1] == b""
    assert [json.loads(line) for line in lines[:-1]] == [*events.values(), events["newlines"]]
    # the bodies that have no line break are written as received
    assert lines[0] == tricky_body("quotes", events["quotes"])


def test_megabyte_body_exports_in_every_format_with_redaction_in_reasonable_time():
    body = tricky_body("megabyte", tricky_events()["megabyte"])
    exchange = make_exchange(body)
    for name in ("json", "jsonl", "pytest", "curl", "har"):
        result = export([exchange], name, ExportOptions(redact=True))
        assert result.count == 1 and not result.skipped
        assert max(len(content) for content in result.files.values()) >= len(MEGABYTE_STRING)


def test_truncated_bodies_are_left_out_with_the_reason():
    exchange = make_exchange()
    exchange.body_size = len(exchange.body) + 10_000
    for name in ("json", "jsonl", "pytest", "curl", "har"):
        result = export([exchange], name)
        assert result.count == 0
        assert [s.reason for s in result.skipped] == [
            f"only the first {len(exchange.body)} of its {exchange.body_size} bytes were kept (over --max-body)"]


def test_history_round_trip_keeps_non_utf8_bodies(tmp_path):
    """Exports read the history; a body that is not UTF-8 survives being kept and read back."""
    from inspector.core.history import History

    history = History(tmp_path).load()
    history.start_session()
    for exchange in raw_exchanges():
        history.add(exchange)
    history.close()
    again = History(tmp_path).load()
    exchanges = [again.get(s.id) for s in again.search(parse(""), newest_first=False)]
    assert list(export(exchanges, "json").files.values()) == list(RAW_BODIES.values())

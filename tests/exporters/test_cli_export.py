"""`segment-inspector export` as a user runs it: a real process over a real history."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.core.exporters import export
from inspector.core.history import History

from .cases import golden_exchanges


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "inspector", "export", *args], cwd=cwd,
                          capture_output=True, timeout=60)


@pytest.fixture
def captured(tmp_path: Path) -> Path:
    """A history holding the golden exchanges, and a working directory beside it."""
    history = History(tmp_path / "data").load()
    history.start_session()
    for exchange in golden_exchanges():
        history.add(exchange)
    history.close()
    (tmp_path / "work").mkdir()
    return tmp_path


def test_export_writes_the_default_file_and_never_overwrites_without_force(captured):
    work, data = captured / "work", str(captured / "data")
    first = run("--format", "jsonl", "--data-dir", data, cwd=work)
    assert first.returncode == 0, first.stderr
    assert first.stdout.decode() == "exported 3 requests as jsonl to segment-events.jsonl\n"
    written = (work / "segment-events.jsonl").read_bytes()
    assert written == export(golden_exchanges(), "jsonl").files["segment-events.jsonl"]
    assert b"left out 01KDX000000000000000000004: body is not UTF-8" in first.stderr

    (work / "segment-events.jsonl").write_bytes(b"my edits")
    again = run("--format", "jsonl", "--data-dir", data, cwd=work)
    assert again.returncode == 2
    assert b"not overwriting: segment-events.jsonl exists; --force overwrites" in again.stderr
    assert (work / "segment-events.jsonl").read_bytes() == b"my edits"

    forced = run("--format", "jsonl", "--force", "--data-dir", data, cwd=work)
    assert forced.returncode == 0 and (work / "segment-events.jsonl").read_bytes() == written


def test_export_to_stdout_is_the_bytes_exactly(captured):
    data = str(captured / "data")
    result = run("--format", "json", "--out", "-", "--data-dir", data, cwd=captured / "work")
    assert result.returncode == 0, result.stderr
    bodies = [e.body for e in golden_exchanges() if e.body]
    assert len(bodies) == 4 and b"\xff" in bodies[3] and b"\x00" in bodies[3]
    assert result.stdout == b"".join(body + b"\n" for body in bodies)
    assert list((captured / "work").iterdir()) == []


def test_export_directory_query_limit_url_and_redact(captured):
    work, data = captured / "work", str(captured / "data")
    result = run("--format", "json", "--out", "bodies", "--limit", "2", "--data-dir", data, cwd=work)
    assert result.returncode == 0, result.stderr
    # the newest two, oldest first: the body that is not UTF-8, and the GET with no body (left out)
    assert sorted(p.name for p in (work / "bodies").iterdir()) == ["0001-request.json"]
    assert b"left out 01KDX000000000000000000005: no body (GET /health)" in result.stderr

    har = run("--format", "har", "--out", "-", "--url", "https://abc.ngrok.app/", "--redact",
              "--data-dir", data, "type:identify", cwd=work)
    assert har.returncode == 0, har.stderr
    (entry,) = json.loads(har.stdout)["log"]["entries"]
    assert entry["request"]["url"] == "https://abc.ngrok.app/"
    assert "user1@example.com" in entry["request"]["postData"]["text"]
    assert b"Peter@Initech.example" not in har.stdout and b"partner-key-123" not in har.stdout

    curl = run("--format", "curl", "--out", "-", "--data-dir", data, "type:identify", cwd=work)
    assert b"'http://127.0.0.1:8686/'" in curl.stdout  # the default URL


def test_export_errors_and_exit_codes(captured):
    work, data = captured / "work", str(captured / "data")
    assert run("--format", "jsonl", "event:Nothing", "--data-dir", data, cwd=work).returncode == 1
    nothing = run("--format", "pytest", "method:GET", "--data-dir", data, cwd=work)
    assert nothing.returncode == 1 and b"nothing written" in nothing.stderr
    assert run("--format", "yaml", "--data-dir", data, cwd=work).returncode == 2
    assert run("--format", "json", "--limit", "-1", "--data-dir", data, cwd=work).returncode == 2
    assert run("--format", "curl", "--url", "not a url", "--data-dir", data, cwd=work).returncode == 2
    bad_query = run("--format", "curl", "status>=", "--data-dir", data, cwd=work)
    assert bad_query.returncode == 2 and b"query error" in bad_query.stderr
    (work / "events").write_bytes(b"")
    assert run("--format", "json", "--out", "events", "--data-dir", data, cwd=work).returncode == 3
    assert list(work.iterdir()) == [work / "events"]


def test_tracking_api_calls_are_split_into_events_and_exported_once(tmp_path: Path) -> None:
    """An SDK's batch call is exported only when asked for (kind:source), split into its events;
    a call the Tracking API refused is no event; by default each event comes once, by its delivery."""
    import orjson

    from inspector.core.model import Answer, Link

    from ..factories import make_event, make_exchange

    events = [make_event(messageId="m-1", event="One"), make_event(messageId="m-2", event="Two")]
    history = History(tmp_path / "data").load()
    history.start_session()
    call = make_exchange({"batch": events, "writeKey": "wk"})
    call.kind, call.path = "source", "/v1/batch"
    history.add(call)
    refused = make_exchange({"type": "track"}, status=400)
    refused.kind, refused.path = "source", "/v1/track"
    refused.answer = Answer(400, b'{"message": "no userId or anonymousId"}')
    history.add(refused)
    for event in events:
        delivered = make_exchange(event)
        delivered.link = Link(call.id, event["messageId"])
        history.add(delivered)
    history.close()
    data = str(tmp_path / "data")
    everything = run("--format", "jsonl", "--out", "-", "--data-dir", data, cwd=tmp_path)
    assert everything.returncode == 0, everything.stderr
    assert [json.loads(line)["messageId"] for line in everything.stdout.splitlines()] == ["m-1", "m-2"]
    sources = run("kind:source", "--format", "jsonl", "--out", "-", "--data-dir", data, cwd=tmp_path)
    assert sources.returncode == 0, sources.stderr
    assert [orjson.loads(line) for line in sources.stdout.splitlines()] == events
    assert f"left out {refused.id}: a Tracking API call refused with 400".encode() in sources.stderr

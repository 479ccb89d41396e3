"""What a stranger's refused request and a customer's API key become in an export."""

from __future__ import annotations

import base64
import json

from inspector.cli import main
from inspector.core.exporters import ExportOptions, export
from inspector.core.exporters.output import write_export
from inspector.core.history import History
from inspector.core.intake import received, refused
from inspector.replay import replayable

KEY = "sk-customer-0123456789"
HEAD = (b"POST /v1 HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + base64.b64encode(f"{KEY}:".encode())
        + b"\r\nContent-Length: abc\r\n\r\n")


def refused_request():
    return refused(peer="198.51.100.7:4000", head=HEAD, error="invalid Content-Length")


def test_redact_covers_the_raw_head_of_a_refused_request():
    for name in ("json", "har", "curl", "jsonl"):
        result = export([refused_request()], name, ExportOptions(redact=True))
        assert KEY.encode() not in result.joined(), name
        assert base64.b64encode(f"{KEY}:".encode()) not in result.joined(), name
    [doc] = json.loads(export([refused_request()], "har", ExportOptions(redact=True)).joined())["log"]["entries"]
    assert base64.b64encode(b"redacted-key-1:").decode() in json.dumps(doc)  # rebuilt as Segment builds it


def test_curl_never_sends_a_raw_head_as_a_body_and_replay_leaves_it_out():
    result = export([refused_request()], "curl", ExportOptions())
    assert result.count == 0 and "cannot be sent again" in result.skipped[0].reason
    assert b"--data" not in result.joined() and b"curl " not in result.joined()
    keep, skipped = replayable([refused_request()])
    assert keep == [] and "refused" in skipped[0][1]


def test_an_export_holding_keys_in_the_clear_is_private_and_says_so(tmp_path, capsys):
    event = b'{"type":"track","event":"A","userId":"u","messageId":"m"}'
    exchange = received(method="POST", path="/", body=event,
                        headers=[("Authorization", "Basic " + base64.b64encode(f"{KEY}:".encode()).decode())])
    clear = export([exchange], "jsonl", ExportOptions())
    [path] = write_export(clear, tmp_path / "clear.jsonl")
    assert clear.keys and path.stat().st_mode & 0o777 == 0o600
    [script] = write_export(export([exchange], "curl", ExportOptions()), tmp_path / "again.sh")
    assert script.stat().st_mode & 0o777 == 0o700
    redacted = export([exchange], "jsonl", ExportOptions(redact=True))
    [path] = write_export(redacted, tmp_path / "redacted.jsonl")
    assert not redacted.keys and path.stat().st_mode & 0o777 == 0o644

    history = History(tmp_path / "data")
    history.start_session()
    history.add(exchange)
    history.close()
    out = tmp_path / "cli.jsonl"
    assert main(["export", "--format", "jsonl", "--out", str(out), "--data-dir", str(tmp_path / "data")]) == 0
    assert "API keys in the clear" in capsys.readouterr().err and out.stat().st_mode & 0o777 == 0o600

"""Every finding the command line prints carries the page of Segment's docs it comes from."""

from __future__ import annotations

import json

import orjson

from inspector.core.checks import url_for

from ..factories import make_event
from .test_cli import Serve, run


def test_show_and_history_give_each_finding_its_url(tmp_path):
    server = Serve(tmp_path)
    server.post(orjson.dumps({"batch": [make_event(event="Purchase", properties={"revenue": "19.99"})]}))
    server.stop()
    [doc] = [json.loads(line) for line in run("history", "--json", data_dir=tmp_path).stdout.splitlines()]
    shown = json.loads(run("show", doc["id"], "--json", data_dir=tmp_path).stdout)
    for findings in (doc["findings"], shown["findings"]):
        codes = [f["code"] for f in findings]
        assert {"SPEC060", "SPEC042", "SPEC020"} <= set(codes), codes
        assert all(f["url"] == url_for(f["code"]) and f["url"].startswith("https://") for f in findings)
    text = run("show", doc["id"], data_dir=tmp_path).stdout
    lines = text.splitlines()
    vendor = next(i for i, line in enumerate(lines) if "SPEC042" in line)
    assert "$.batch[0].event" in lines[vendor] and "warning" in lines[vendor]
    assert lines[vendor + 1].strip() == "https://segment.com/docs/connections/spec/semantic/"


def test_lint_text_prints_the_url_under_each_finding(tmp_path):
    path = tmp_path / "events.json"
    path.write_text(json.dumps({"batch": [make_event(event="Purchase")]}))
    result = run("lint", str(path))
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    assert "SPEC060" in lines[1] and "Tracking-API batch of 1 event," in lines[1]
    assert lines[2].strip() == url_for("SPEC060")
    assert "SPEC042" in lines[3] and lines[4].strip() == url_for("SPEC042")
    assert lines[-1] == "1 event: 0 errors, 1 warning, 1 info"

"""`plan infer` over a kept history and `plan check` over files: what they print, write and exit."""

from __future__ import annotations

import json

import orjson

from inspector.cli import main
from inspector.core.history import History

from ..factories import make_exchange
from .test_infer import TRAFFIC


def keep(directory, events) -> list[str]:
    history = History(directory).load()
    history.start_session()
    ids = [history.add(make_exchange(event)).id for event in events]
    history.close()
    return ids


def test_infer_writes_a_plan_that_check_passes_the_traffic_with(tmp_path, capsys):
    events = [event for _, event in TRAFFIC]
    keep(tmp_path / "data", events)
    out = tmp_path / "plan.json"
    assert main(["plan", "infer", "--data-dir", str(tmp_path / "data"), "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert f"written to {out}" in said and "TRACK 'Order Completed' v1" in said and "disagrees on" in said
    plan = json.loads(out.read_text())
    assert {rule["type"] for rule in plan["rules"]} == {"TRACK", "IDENTIFY", "GROUP"}
    files = tmp_path / "events.jsonl"
    files.write_bytes(b"\n".join(orjson.dumps(event) for event in events))
    assert main(["plan", "check", str(out), str(files)]) == 0
    assert "0 errors, 0 warnings" in capsys.readouterr().out
    assert main(["plan", "infer", "--data-dir", str(tmp_path / "data"), "--out", str(out)]) == 2
    assert "--force overwrites" in capsys.readouterr().err


def test_infer_takes_a_query_and_prints_to_stdout_with_the_report_on_stderr(tmp_path, capsys):
    keep(tmp_path, [{"type": "track", "event": "A", "userId": "u", "messageId": "1", "properties": {"n": 1}},
                    {"type": "track", "event": "B", "userId": "u", "messageId": "2", "properties": {"s": "x"}}])
    assert main(["plan", "infer", "event:A", "--data-dir", str(tmp_path), "--json"]) == 0
    said = capsys.readouterr()
    assert [rule["key"] for rule in json.loads(said.out)["rules"]] == ["A"]
    assert json.loads(said.err)["samples"] == 1
    assert main(["plan", "infer", "event:Nope", "--data-dir", str(tmp_path)]) == 1
    assert "no track, identify or group event matches" in capsys.readouterr().err


def test_check_exits_1_on_a_violation_and_prints_json_with_the_rule_and_path(tmp_path, capsys):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"Signed Up": {"properties": {"properties": {"properties": {
        "plan": {"enum": ["free", "pro"]}}}}}}))
    events = tmp_path / "events.jsonl"
    events.write_text('{"type": "track", "event": "Signed Up", "properties": {"plan": "gold", "x": 1}}\n'
                      '{"type": "track", "event": "Signed Up", "properties": {"plan": "pro"}}\n')
    assert main(["plan", "check", str(plan), str(events), "--json"]) == 1
    first, second = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(f["code"], f["path"], f["severity"]) for f in first["findings"]] == [
        ("PLAN004", "$.properties.plan", "error"), ("PLAN005", "$.properties.x", "warning")]
    assert "TRACK 'Signed Up' v1" in first["findings"][0]["message"] and first["source"].endswith(":1")
    assert first["findings"][0]["url"] == "https://segment.com/docs/protocols/tracking-plan/create/"
    assert second["findings"] == []
    assert main(["plan", "check", str(plan), str(events), "--no-unplanned-properties"]) == 1
    assert "error   PLAN006  $.properties.x" in capsys.readouterr().out
    events.write_text('{"type": "track", "event": "Signed Up", "properties": {"plan": "pro", "x": 1}}\n')
    assert main(["plan", "check", str(plan), str(events)]) == 0  # a warning is not a violation
    assert main(["plan", "check", str(plan), str(tmp_path / "missing.json")]) == 2

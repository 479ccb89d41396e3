"""Reading a tracking plan: Segment's Public API form and a plain map, drafts 04 to 07, the way
out unchanged, and every plan that cannot be used refused whole, with the reason."""

from __future__ import annotations

import copy
import json

import orjson
import pytest

from inspector.cli import main
from inspector.core.plans import Checking, PlanError, load_plan, parse_plan

from ..conftest import DATA
from ..endpoint import serving

EXAMPLE = DATA / "plans" / "example.json"


def rules_plan(*schemas: object, kind: str = "TRACK") -> bytes:
    return orjson.dumps({"rules": [{"type": kind, "key": f"E{n}" if kind == "TRACK" else None, "version": 1,
                                    "jsonSchema": schema} for n, schema in enumerate(schemas)]})


def test_a_public_api_plan_round_trips_unchanged():
    document = json.loads(EXAMPLE.read_text())
    plan = load_plan(EXAMPLE)
    out = plan.to_public_api()
    assert out == document  # createdAt, updatedAt and deprecatedAt too
    again = parse_plan(orjson.dumps(out))
    assert again.to_public_api() == document
    assert [rule.name for rule in again.rules] == ["COMMON v1", "TRACK 'Order Completed' v1",
                                                     "TRACK 'Order Completed' v2", "IDENTIFY v1", "GROUP v1"]


def test_the_public_apis_answer_wrapped_in_data_is_read_too():
    document = json.loads(EXAMPLE.read_text())
    plan = parse_plan(orjson.dumps({"data": document}))
    assert plan.to_public_api() == document


def test_a_plain_map_is_one_track_rule_an_event():
    plan = parse_plan(orjson.dumps({"Signed Up": {"type": "object", "required": ["userId"]},
                                    "Order Completed": {"type": "object"}}))
    assert plan.events == ["Order Completed", "Signed Up"]
    assert [(rule.type, rule.key, rule.version) for rule in plan.rules] == [
        ("TRACK", "Signed Up", 1), ("TRACK", "Order Completed", 1)]
    checking = Checking(plan)
    assert [f.code for f in checking.event({"type": "track", "event": "Signed Up"})] == ["PLAN002"]


@pytest.mark.parametrize("draft", ["http://json-schema.org/draft-04/schema#", "http://json-schema.org/draft-06/schema#",
                                   "http://json-schema.org/draft-07/schema#", "http://json-schema.org/draft-07/schema"])
def test_drafts_04_06_and_07_are_read_each_by_its_own_rules(draft):
    # exclusiveMinimum: a boolean beside minimum in draft-04, a number of its own from draft-06
    bound = {"minimum": 0, "exclusiveMinimum": True} if "04" in draft else {"exclusiveMinimum": 0}
    plan = parse_plan(rules_plan({"$schema": draft, "properties": {"properties": {
        "properties": {"n": {"type": "number", **bound}}}}}))
    checking = Checking(plan)
    assert [f.code for f in checking.event({"type": "track", "event": "E0", "properties": {"n": 0}})] == ["PLAN004"]
    assert checking.event({"type": "track", "event": "E0", "properties": {"n": 1}}) == []


@pytest.mark.parametrize("data, reason", [
    (b"{rules: []", "not JSON"),
    (b"[]", "a plan is"),
    (b'{"rules": []}', "no rules"),
    (b'{"rules": [3]}', "rule 0"),
    (b'{"rules": [{"type": "TRACKS", "key": "x", "version": 1, "jsonSchema": {}}]}', "is not one of COMMON"),
    (b'{"rules": [{"type": "TRACK", "key": "", "version": 1, "jsonSchema": {}}]}', "the event name"),
    (b'{"rules": [{"type": "IDENTIFY", "key": "x", "version": 1, "jsonSchema": {}}]}', "has no key"),
    (b'{"rules": [{"type": "TRACK", "key": "x", "version": 0, "jsonSchema": {}}]}', "not a positive integer"),
    (b'{"rules": [{"type": "TRACK", "key": "x", "version": 1, "jsonSchema": []}]}', "not a JSON object"),
    (b'{"rules": [{"type": "TRACK", "key": "x", "version": 1, "jsonSchema": {"type": "nonsense"}}]}',
     "not a valid JSON Schema"),
    (b'{"rules": [{"type": "TRACK", "key": "x", "version": 1, "jsonSchema": {"minimum": "zero"}}]}',
     "not a valid JSON Schema"),
    (b'{"rules": [{"type": "TRACK", "key": "x", "version": 1, "jsonSchema": {"$schema": "https://json-schema.org/draft/2020-12/schema"}}]}',
     "draft-04, -06 or -07"),
    (b'{"rules": [{"type": "TRACK", "key": "x", "version": 1, "jsonSchema": {}}, '
     b'{"type": "TRACK", "key": "x", "version": 1, "jsonSchema": {}}]}', "in the plan twice"),
    (b'{"E": {"properties": {"p": {"pattern": "^(?!test)"}}}}', "look-around"),
    (b'{"E": {"properties": {"p": {"pattern": "(?<=a)b"}}}}', "look-around"),
    (b'{"E": {"properties": {"p": {"pattern": "(a)\\\\1"}}}}', "back-reference"),
    (b'{"E": {"patternProperties": {"^(?=x)": {}}}}', "look-around"),
    (b'{"E": {"properties": {"p": {"pattern": "[unclosed"}}}}', "not a valid JSON Schema"),
    (b'{"E": {"$ref": "definitions.json#/x"}}', "never fetched"),
    (b'{"E": {"$ref": "#/definitions/missing"}}', "not a valid JSON Schema"),
])
def test_a_plan_that_cannot_be_used_is_refused_with_the_reason(data, reason):
    with pytest.raises(PlanError) as raised:
        parse_plan(data, "plan.json")
    assert reason in str(raised.value) and str(raised.value).startswith("plan.json")


async def test_a_remote_ref_is_refused_and_never_fetched(tmp_path, capsys):
    async with serving() as server:
        path = tmp_path / "plan.json"
        path.write_bytes(rules_plan({"properties": {"properties": {"$ref": f"{server.url}schema.json"}}}))
        events = tmp_path / "events.jsonl"
        events.write_text('{"type": "track", "event": "E0", "userId": "u1"}\n')
        assert main(["plan", "check", str(path), str(events)]) == 2
        said = capsys.readouterr()
        assert "never fetched" in said.err and "rule 0 (TRACK 'E0')" in said.err and said.out == ""
        assert server.seen == []


def test_nothing_of_a_plan_is_used_when_one_rule_is_bad(tmp_path, capsys):
    document = json.loads(EXAMPLE.read_text())
    broken = copy.deepcopy(document)
    broken["rules"][3]["jsonSchema"]["properties"]["traits"]["properties"]["plan"] = {"type": 7}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(broken))
    events = tmp_path / "events.json"
    events.write_text('{"type": "track", "event": "Nope", "userId": "u1", "messageId": "m1"}')
    assert main(["plan", "check", str(path), str(events)]) == 2
    said = capsys.readouterr()
    assert "rule 3 (IDENTIFY)" in said.err and said.out == ""  # no event was checked
    assert main(["serve", "--plan", str(path), "--no-tunnel", "--port", "0", "--data-dir", str(tmp_path / "d")]) == 2
    assert "--plan: " in capsys.readouterr().err


def test_a_plan_file_that_is_missing_is_a_usage_error(tmp_path, capsys):
    assert main(["plan", "check", str(tmp_path / "none.json"), str(EXAMPLE)]) == 2
    assert "none.json" in capsys.readouterr().err


def test_the_protocols_flags_need_a_plan(tmp_path, capsys):
    assert main(["serve", "--block-unplanned-events", "--no-tunnel", "--data-dir", str(tmp_path)]) == 2
    assert "--block-unplanned-events: give the tracking plan with --plan" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:
        main(["serve", "--on-violation", "explode", "--no-tunnel", "--data-dir", str(tmp_path)])
    assert refused.value.code == 2 and "allow, block, omit" in capsys.readouterr().err.replace("'", "")

"""Events checked against a plan: each kind of violation with its code, path and rule, the
documented examples, versions, traits, batches, and hostile events."""

from __future__ import annotations

import json
import time

import pytest

from inspector.core.checks import CHECKS
from inspector.core.plans import Checking, load_plan, parse_plan

from ..conftest import DATA

PLAN = load_plan(DATA / "plans" / "example.json")
PLAN_CODES = sorted(code for code in CHECKS if code.startswith("PLAN"))


def order(**properties: object) -> dict:
    return {"type": "track", "event": "Order Completed", "userId": "u1", "messageId": "m1",
            "properties": {"order_id": "o1", **properties}}


def found(event: object, **options: bool) -> list[tuple[str, str]]:
    return [(f.code, f.path) for f in Checking(PLAN, **options).event(event)]


@pytest.mark.parametrize("code", PLAN_CODES)
def test_each_code_is_raised_by_its_documented_example_alone(code):
    strict = code == "PLAN006"
    checking = Checking(PLAN, unplanned_properties=not strict)
    assert {f.code for f in checking.event(json.loads(CHECKS[code].doc_bad))} == {code}
    assert checking.event(json.loads(CHECKS[code].doc_good)) == []


def test_a_conforming_event_has_no_finding():
    assert found(order(revenue=9.5, currency="EUR", products=[{"sku": "a", "price": 1}])) == []


@pytest.mark.parametrize("event, expected", [
    (order(revenue=-1), [("PLAN004", "$.properties.revenue")]),
    (order(revenue=True), [("PLAN003", "$.properties.revenue")]),
    (order(products=[{"sku": "a"}, {"price": 2}]), [("PLAN002", "$.properties.products[1].sku")]),
    (order(products=[{"sku": 5}]), [("PLAN003", "$.properties.products[0].sku")]),
    ({"type": "track", "event": "Order Completed", "userId": "u1", "messageId": "m1"},
     [("PLAN002", "$.properties")]),
    ({"type": "track", "event": "Order Completed", "userId": "u1", "properties": {"order_id": "o1"}},
     [("PLAN002", "$.messageId")]),  # the COMMON rule
    ({"type": "identify", "userId": "u1", "messageId": "m1", "traits": {"email": "not an email"}},
     [("PLAN004", "$.traits.email")]),
    ({"type": "identify", "userId": "u1", "messageId": "m1", "traits": {"plan": "gold"}},
     [("PLAN004", "$.traits.plan")]),
    ({"type": "identify", "userId": "u1", "messageId": "m1", "traits": {"created_at": "yesterday"}},
     [("PLAN004", "$.traits.created_at")]),
    ({"type": "identify", "userId": "u1", "messageId": "m1", "traits": {"nickname": "x"}},
     [("PLAN005", "$.traits.nickname")]),
    ({"type": "group", "groupId": "g1", "messageId": "m1", "traits": {"employees": 2.5}},
     [("PLAN003", "$.traits.employees")]),
    (order(products=[{"sku": "a", "color": "red"}]), [("PLAN005", "$.properties.products[0].color")]),
    ({"type": "page", "userId": "u1", "messageId": "m1", "name": "Home"}, []),  # no PAGE rule: not planned
])
def test_each_violation_names_its_field(event, expected):
    assert found(event) == expected


def test_a_finding_names_the_rule_and_its_version():
    [finding] = Checking(PLAN).event(order(revenue="9"))
    assert "TRACK 'Order Completed' v1" in finding.message and finding.severity == "error"


def test_the_event_version_picks_the_rule():
    second = {**order(), "context": {"protocols": {"event_version": 2}}}
    assert found(second) == [("PLAN002", "$.properties.total")]
    assert found({**second, "properties": {"order_id": "o1", "total": 3}}) == []
    assert found({**order(), "context": {"protocols": {"event_version": 1}}}) == []
    assert found({**order(), "context": {"protocols": {"event_version": "2"}}}) == []  # not an integer: v1


def test_an_unplanned_event_names_the_planned_one_it_resembles():
    [finding] = Checking(PLAN).event({**order(), "event": "order_completed"})
    assert finding.code == "PLAN001" and "'Order Completed'" in finding.message
    [other] = Checking(PLAN).event({**order(), "event": "Checkout Started"})
    assert other.code == "PLAN001" and "differs" not in other.message


def test_a_batch_finds_each_events_violations_with_paths_into_the_body():
    body = {"batch": [order(), order(revenue="x"), {**order(), "event": "Nope"}]}
    findings = Checking(PLAN).body(body)
    assert [(f.code, f.path) for f in findings] == [("PLAN003", "$.batch[1].properties.revenue"),
                                                    ("PLAN001", "$.batch[2].event")]
    array = Checking(PLAN).body([order(), order(revenue="x")])
    assert [(f.code, f.event) for f in array] == [("PLAN003", 1)]


def test_what_is_not_an_event_is_left_to_the_spec_linter():
    checking = Checking(PLAN)
    assert checking.body([1, "x", None, {"type": 3, "messageId": "m"}, {"type": "track", "messageId": "m"}]) == []


def test_a_hostile_event_costs_a_bounded_number_of_findings():
    plan = parse_plan(json.dumps({"E": {"properties": {"properties": {"type": "object",
                                  "additionalProperties": {"type": "integer"}}}}}).encode())
    event = {"type": "track", "event": "E", "properties": {f"p{n}": "x" for n in range(70_000)}}
    started = time.process_time()
    findings = Checking(plan).event(event)
    assert len(findings) == 21 and "only the first 20" in findings[-1].message
    assert time.process_time() - started < 10  # a generous bound: it takes milliseconds


def test_an_evil_pattern_cannot_hang_the_checker():
    plan = parse_plan(json.dumps({"E": {"properties": {"properties": {"properties": {
        "p": {"type": "string", "pattern": "^(a+)+$"}}}}}}).encode())
    event = {"type": "track", "event": "E", "properties": {"p": "a" * 100_000 + "b"}}
    started = time.process_time()
    assert [f.code for f in Checking(plan).event(event)] == ["PLAN004"]
    assert time.process_time() - started < 10  # linear-time engine: a backtracking one would never end


def test_untrusted_names_are_quoted_and_escaped_in_messages():
    [finding] = Checking(PLAN).event({**order(), "event": "\x1b[31mred\x1b[0m"})
    assert "\x1b" not in finding.message and "\\x1b" in finding.message


def test_the_one_call_path_for_a_conforming_event_finds_what_the_whole_walk_finds():
    from .test_infer import CHECKING as INFERRED, PLANNED

    cases = [order(), order(coupon="X"), order(products=[{"sku": "a", "color": "red"}]), order(revenue="1"),
             {"type": "identify", "userId": "u1", "messageId": "m1", "traits": {"email": "a@example.com"}},
             {"type": "identify", "userId": "u1", "messageId": "m1", "traits": {"nick": 1}}]
    for checking, events in ((Checking(PLAN), cases), (INFERRED, PLANNED + [
            {**event, "properties": {**event.get("properties", {}), "extra": {"deep": [1]}}} for event in PLANNED])):
        walking = Checking(checking.plan)
        walking._strict = {}
        for event in events:
            assert checking.event(event) == walking.event(event), event

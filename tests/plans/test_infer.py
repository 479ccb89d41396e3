"""A plan inferred from Segment's endpoint-tester templates: the traffic conforms to it, each
kind of change breaks it, and the report names what the traffic disagrees on."""

from __future__ import annotations

import copy
import random

import orjson
import pytest

from inspector.core.files import read_events
from inspector.core.history import History
from inspector.core.plans import Checking, infer, parse_plan, samples_of
from inspector.core.templates import fill

from ..conftest import CORPUS
from ..factories import make_exchange


def corpus(seed: int, rounds: int = 4) -> list[tuple[str, dict]]:
    """Every template filled `rounds` times with seeded fake data: (a made-up id, event)."""
    rng, found = random.Random(seed), []
    for path in sorted(CORPUS.glob("*.log")):
        for _ in range(rounds):
            for _where, event in read_events(fill(path.read_text(), rng).encode(), path.name):
                found.append((f"x{len(found):04}", event))
    return found


TRAFFIC = corpus(1)
INFERRED = infer(TRAFFIC)
CHECKING = Checking(parse_plan(orjson.dumps(INFERRED.plan.to_public_api())))  # as written to a file and read


def codes(event: dict) -> list[str]:
    return [f.code for f in CHECKING.event(event)]


def test_the_traffic_a_plan_was_inferred_from_conforms_to_it():
    assert INFERRED.samples == len([e for _, e in TRAFFIC if e.get("type") in ("track", "identify", "group")])
    assert [(sample_id, codes(event)) for sample_id, event in TRAFFIC if codes(event)] == []


def test_other_traffic_from_the_same_templates_conforms_too():
    assert [codes(event) for _, event in corpus(99, rounds=2) if codes(event)] == []


def test_one_rule_a_track_event_and_one_each_for_identify_and_group_traits():
    names = [rule.name for rule in INFERRED.plan.rules]
    assert "IDENTIFY v1" in names and "GROUP v1" in names
    tracked = {event["event"] for _, event in TRAFFIC if event.get("type") == "track"}
    assert {rule.key for rule in INFERRED.plan.rules if rule.type == "TRACK"} == tracked
    for rule in INFERRED.plan.rules:
        assert rule.schema["$schema"] == "http://json-schema.org/draft-07/schema#"


def rule_of(event: dict):
    kind = {"track": "TRACK", "identify": "IDENTIFY", "group": "GROUP"}[event["type"]]
    return INFERRED.plan.versions(kind, event.get("event") if kind == "TRACK" else None)[1]


def fields(event: dict):
    """(part, name, schema) for each top-level property or trait of the event's rule."""
    part = "properties" if event["type"] == "track" else "traits"
    inner = rule_of(event).schema["properties"][part]
    return part, inner.get("properties", {}), inner.get("required", [])


PLANNED = [event for _, event in TRAFFIC if event.get("type") in ("track", "identify", "group")]


def changed(predicate, change) -> list[dict]:
    """Each planned event that has a field `predicate` picks, with `change` made to that field."""
    out = []
    for event in PLANNED:
        part, listed, required = fields(event)
        for name, schema in listed.items():
            if name in event.get(part, {}) and predicate(name, schema, required):
                other = copy.deepcopy(event)
                change(other[part], name)
                out.append(other)
                break
    return out


@pytest.mark.parametrize("kind, predicate, change, code", [
    ("required property removed", lambda n, s, r: n in r, lambda part, n: part.pop(n), "PLAN002"),
    ("string sent as a number", lambda n, s, r: s.get("type") == "string", lambda part, n: part.update({n: 12}),
     "PLAN003"),
    ("number sent as a string", lambda n, s, r: s.get("type") in ("number", "integer"),
     lambda part, n: part.update({n: "12"}), "PLAN003"),
    ("email that is not one", lambda n, s, r: s.get("format") == "email",
     lambda part, n: part.update({n: "not an email"}), "PLAN004"),
    ("date-time that is not one", lambda n, s, r: s.get("format") == "date-time",
     lambda part, n: part.update({n: "next tuesday"}), "PLAN004"),
    ("a property the plan has not seen", lambda n, s, r: True, lambda part, n: part.update({"zz_new": 1}),
     "PLAN005"),
])
def test_each_kind_of_change_is_caught(kind, predicate, change, code):
    events = changed(predicate, change)
    assert events, f"the templates have no field for: {kind}"
    for event in events:
        assert code in codes(event), (kind, event)


def test_an_event_renamed_is_unplanned_and_named_near_its_planned_self():
    event = next(e for e in PLANNED if e["type"] == "track" and e["event"] == "Order Completed")
    findings = CHECKING.event({**event, "event": "order_completed"})
    assert [f.code for f in findings] == ["PLAN001"] and "'Order Completed'" in findings[0].message


def test_integers_stay_integer_until_a_float_is_seen_and_formats_only_when_every_sample_has_one():
    samples = [("a", {"type": "track", "event": "E", "properties": {"n": 1, "x": 1, "at": "2026-01-01T00:00:00Z",
                                                                   "mail": "a@example.com", "tags": ["a"]}}),
               ("b", {"type": "track", "event": "E", "properties": {"n": 2, "x": 1.5, "at": "2026-01-02T00:00:00Z",
                                                                   "mail": "b", "tags": ["b", "c"]}})]
    schema = infer(samples).plan.rules[0].schema["properties"]["properties"]
    assert schema["properties"]["n"] == {"type": "integer"}
    assert schema["properties"]["x"] == {"type": "number"}
    assert schema["properties"]["at"] == {"type": "string", "format": "date-time"}
    assert schema["properties"]["mail"] == {"type": "string"}
    assert schema["properties"]["tags"] == {"type": "array", "items": {"type": "string"}}
    assert sorted(schema["required"]) == ["at", "mail", "n", "tags", "x"]


def test_the_report_names_what_the_traffic_disagrees_on():
    samples = [("e1", {"type": "track", "event": "Order Completed", "properties": {"orderId": "1", "total": 5}}),
               ("e2", {"type": "track", "event": "Order Completed", "properties": {"order_id": "2", "total": "5"}}),
               ("e3", {"type": "track", "event": "Order Completed", "properties": {"order_id": "3", "total": 7}}),
               ("e4", {"type": "track", "event": "order completed", "properties": {}})]
    inferred = infer(samples)
    found = {(d.kind, d.path): d for d in inferred.disagreements}
    types = found[("types", "$.properties.total")]
    assert types.text == "seen as number 2×, string 1×" and types.ids == ["e1", "e2"]
    assert found[("missing", "$.properties.order_id")].text == "missing from 1 of 3 samples"
    assert "orderId, order_id" in found[("names", "$.properties")].text
    assert "Order Completed, order completed" in found[("names", "$.event")].text
    checking = Checking(inferred.plan)  # a plan cannot hide it, but the samples still conform
    assert [checking.event(event) for _, event in samples] == [[], [], [], []]


def test_samples_from_the_history_count_each_event_once(tmp_path):
    history = History(tmp_path).load()
    history.start_session()
    event = {"type": "track", "event": "Signed Up", "userId": "u1", "messageId": "m1", "properties": {"plan": "pro"}}
    partner = make_exchange(event)
    source = make_exchange({"event": "Signed Up", "userId": "u1", "messageId": "m1", "properties": {"plan": "pro"}})
    source.kind, source.path = "source", "/v1/track"
    batch = make_exchange({"batch": [{"type": "identify", "userId": "u2", "messageId": "m2", "traits": {"a": 1}}]})
    broken = make_exchange(b"{not json")
    for exchange in (partner, source, batch, broken):
        history.add(exchange)
    samples = list(samples_of(history.get(s.id) for s in history.search(newest_first=False)))
    assert [(sample_id, e["messageId"], e["type"]) for sample_id, e in samples] == [
        (partner.id, "m1", "track"), (batch.id, "m2", "identify")]
    history.close()

"""The Segment Spec linter: each rule's own examples, Segment's corpus, and hostile input."""

from __future__ import annotations

import json
import random
import time
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.core.checks import CHECKS, lint, lint_event, member
from inspector.core.templates import fill

from ..conftest import CORPUS

NOW = datetime.fromisoformat("2026-01-01T00:01:00Z").timestamp()
SPEC_CODES = sorted(code for code in CHECKS if code.startswith("SPEC"))


def codes(event, now=NOW) -> list[str]:
    return [finding.code for finding in lint(event, now=now)]


@pytest.mark.parametrize("code", SPEC_CODES)
def test_each_rule_raises_exactly_its_code_on_its_bad_example(code):
    assert set(codes(json.loads(CHECKS[code].doc_bad))) == {code}


@pytest.mark.parametrize("code", SPEC_CODES)
def test_each_rule_is_silent_on_its_good_example(code):
    assert code not in codes(json.loads(CHECKS[code].doc_good))


def corpus() -> list[tuple[str, dict]]:
    rng = random.Random(3)
    return [(f"{path.name}:{number}", json.loads(fill(line, rng)))
            for path in sorted(CORPUS.glob("*.log"))
            for number, line in enumerate(path.read_text().splitlines(), 1) if line.strip()]


def test_segment_own_traffic_raises_no_error():
    now = time.time()
    errors = [(where, f) for where, event in corpus() for f in lint(event, now=now) if f.severity == "error"]
    assert errors == []


def test_the_corpus_deliberate_deviations_get_their_warnings():
    now = time.time()
    found = {(where, f.code, f.path) for where, event in corpus() for f in lint(event, now=now)}
    assert found == {
        ("identify.log:6", "SPEC022", "$.traits.birthday"),  # "10-12-1988"
        ("identify.log:8", "SPEC030", "$.traits.created_at"),
        ("track.log:4", "SPEC023", "$.properties.currency"),  # "usd"
        ("user-journey.log:3", "SPEC030", "$.traits.first_name"),
        ("user-journey.log:3", "SPEC030", "$.traits.last_name"),
        ("user-journey.log:4", "SPEC040", "$.event"),  # "Signed up"
    }


@pytest.mark.parametrize("name, code, target", [
    ("order_completed", "SPEC040", "Order Completed"),
    ("Order completed", "SPEC040", "Order Completed"),
    ("OrderCompleted", "SPEC040", "Order Completed"),
    ("order-completed", "SPEC040", "Order Completed"),
    ("Signed up", "SPEC040", "Signed Up"),
    ("Completed Order", "SPEC041", "Order Completed"),
    ("Viewed Product", "SPEC041", "Product Viewed"),
    ("Added Product", "SPEC041", "Product Added"),
    ("viewed_product_category", "SPEC041", "Product List Viewed"),
    ("Purchase", "SPEC042", "Order Completed"),
    ("AddToCart", "SPEC042", "Product Added"),
    ("fb_mobile_purchase", "SPEC042", "Order Completed"),
    ("install", "SPEC042", "Application Installed"),
    ("app_open", "SPEC042", "Application Opened"),
    ("InitiateCheckout", "SPEC042", "Checkout Started"),
])
def test_near_miss_event_names_name_the_spec_event(name, code, target):
    [finding] = lint_event({"type": "track", "event": name, "userId": "u", "messageId": "m"})
    assert finding.code == code and finding.path == "$.event"
    assert repr(target) in finding.message


@pytest.mark.parametrize("name", ["Order Completed", "Registered", "Course Clicked", "Purchased Gift"])
def test_spec_and_custom_names_are_left_alone(name):
    assert codes({"type": "track", "event": name, "userId": "u", "messageId": "m"}) == []


@pytest.mark.parametrize("where, value, code", [
    ({"type": "identify", "traits": {}}, {"email": 42}, "SPEC021"),
    ({"type": "identify", "traits": {}}, {"age": "42"}, "SPEC020"),
    ({"type": "identify", "traits": {}}, {"address": "1 Main St"}, "SPEC020"),
    ({"type": "identify", "traits": {}}, {"address": {"city": 7}}, "SPEC021"),
    ({"type": "identify", "traits": {}}, {"createdAt": "yesterday"}, "SPEC022"),
    ({"type": "identify", "traits": {}}, {"company": {"employee_count": "50"}}, "SPEC020"),
    ({"type": "group", "groupId": "g", "traits": {}}, {"createdAt": 1700000000}, "SPEC022"),
    ({"type": "track", "event": "Order Completed", "properties": {}}, {"products": {"sku": "a"}}, "SPEC020"),
    ({"type": "track", "event": "Order Completed", "properties": {}}, {"products": ["sku"]}, "SPEC020"),
    ({"type": "track", "event": "Order Completed", "properties": {}}, {"products": [{"quantity": "2"}]}, "SPEC020"),
    ({"type": "track", "event": "Custom Thing", "properties": {}}, {"value": "high"}, "SPEC020"),
    ({"type": "track", "event": "Application Opened", "properties": {}}, {"from_background": "no"}, "SPEC020"),
    ({"type": "track", "event": "Video Content Playing", "properties": {}}, {"position": 10.5}, "SPEC021"),
    ({"type": "track", "event": "Trial Started", "properties": {}}, {"trial_start_date": "soon"}, "SPEC022"),
    ({"type": "page", "properties": {}}, {"keywords": "a,b"}, "SPEC020"),
    ({"type": "page", "properties": {}}, {"keywords": ["a", 2]}, "SPEC021"),
])
def test_reserved_and_semantic_types(where, value, code):
    event = {**where, "userId": "u", "messageId": "m"}
    key = "traits" if "traits" in where else "properties"
    event[key] = value
    assert codes(event) == [code]


def test_nested_paths_point_at_the_value():
    event = {"type": "track", "event": "Order Completed", "userId": "u", "messageId": "m",
             "properties": {"products": [{"price": 1}, {"price": "2"}]}}
    [finding] = lint(event)
    assert finding.path == "$.properties.products[1].price"


def test_a_batch_names_the_event_of_each_finding():
    good = {"type": "track", "event": "Signed Up", "userId": "u", "messageId": "m"}
    findings = lint([good, {**good, "event": "Purchase"}, "junk"])
    assert [(f.event, f.code) for f in findings] == [(1, "SPEC042"), (2, "SPEC001")]


def test_two_casings_of_one_trait():
    event = {"type": "identify", "userId": "u", "messageId": "m",
             "traits": {"plan": "a", "Plan": "b", "firstName": "A", "first_name": "A"}}
    assert sorted(f.path for f in lint(event)) == ["$.traits.Plan", "$.traits.first_name"]


def test_odd_keys_get_quoted_paths():
    event = {"type": "identify", "userId": "u", "messageId": "m", "traits": {"E-Mail": "a@b.c"}}
    [finding] = lint(event)
    assert (finding.code, finding.path) == ("SPEC030", '$.traits["E-Mail"]')
    assert member("$", 'say "hi"\\') == '$["say \\"hi\\"\\\\"]'


def test_delete_tolerates_what_segment_sends_and_reminds():
    event = {"type": "delete", "userId": "u", "messageId": "delete-reg-1::job-2", "context": [],
             "integrations": None, "channel": "server",
             "originalTimestamp": "2020-05-09 23:54:49.209808489 +0000 UTC m=+70366.298768264"}
    [finding] = lint(event)
    assert finding.code == "SPEC050" and finding.severity == "info"
    assert "501" in finding.message


def test_clock_checks_need_the_arrival_time():
    event = {"type": "track", "event": "Signed Up", "userId": "u", "messageId": "m",
             "timestamp": "2030-01-01T00:00:00Z"}
    assert codes(event, now=None) == []
    assert codes(event, now=NOW) == ["SPEC016"]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=30)
KEYS = st.sampled_from(["type", "event", "userId", "anonymousId", "messageId", "timestamp", "sentAt",
                        "traits", "properties", "context", "groupId", "previousId", "name", "category"])
EVENTS = st.dictionaries(KEYS, JSON | st.sampled_from(["track", "identify", "delete", "Order Completed"]))
PROPERTIES = st.fixed_dictionaries({"type": st.just("track"), "event": st.sampled_from(
    ["Order Completed", "Video Ad Started", "Install Attributed", "Purchase"]),
    "properties": st.dictionaries(st.sampled_from(["products", "revenue", "currency", "type", "campaign",
                                                   "filters", "price", "Revenue"]), JSON)})


@settings(max_examples=300, deadline=None)
@given(st.one_of(JSON, EVENTS, PROPERTIES, st.lists(EVENTS, max_size=3)))
def test_any_json_value_gets_findings_never_an_exception(value):
    findings = lint(value, now=NOW)
    assert isinstance(findings, list)
    assert all(f.code in CHECKS and f.severity == CHECKS[f.code].severity for f in findings)


def test_deep_nesting_and_huge_strings():
    deep: object = "x"
    for _ in range(5000):
        deep = {"a": deep}
    huge = "y" * 5_000_000
    event = {"type": "track", "event": huge, "userId": huge, "messageId": huge, "properties": deep,
             "context": deep, "timestamp": huge}
    found = codes(event)
    assert "SPEC012" in found and "SPEC013" in found

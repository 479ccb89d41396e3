"""The Segment Spec linter: each rule's own examples, Segment's corpus, and hostile input."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from hypothesis import given, settings, strategies as st

from inspector.core.checks import CHECKS, lint, lint_event, member
from inspector.core.jsonview import line_of, pretty

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


# -- severity by consequence --------------------------------------------------------

@pytest.mark.parametrize("code, severity", [
    ("SPEC009", "warning"),  # now also an empty userId/anonymousId, which was SPEC010 (error)
    ("SPEC010", "error"),  # an object, array or boolean id only
    ("SPEC017", "info"),  # was warning: Segment's own deliveries show it when a device clock is behind
    ("SPEC020", "warning"),  # was error: no destination rejects an event for one property's type
    ("SPEC024", "warning"),  # was error: the event is processed, its revenue not converted
    ("SPEC042", "warning"),  # was error: an event *named* so is processed as a custom event
    ("SPEC060", "info"),  # new: a Tracking-API batch
    ("ANS008", "warning"),  # was error: Segment acts on the status, it only shows no reason
    ("HDR008", "info"),  # was warning: only says the request did not come from Segment
])
def test_severity_changes(code, severity):
    import inspector.core.headers  # noqa: F401  (registers HDR codes)
    assert CHECKS[code].severity == severity


@pytest.mark.parametrize("event, code", [
    ({"type": "track", "event": "Video Content Started", "properties": {"keywords": "a,b"}}, "SPEC020"),
    ({"type": "track", "event": "Video Content Started", "properties": {"livestream": "true"}}, "SPEC020"),
    ({"type": "track", "event": "Custom Thing", "properties": {"value": "12"}}, "SPEC020"),
    ({"type": "track", "event": "Order Completed", "properties": {"currency": "dollars"}}, "SPEC024"),
    ({"type": "track", "event": "Purchase"}, "SPEC042"),
    ({"type": "track", "event": "Signed Up", "anonymousId": "a", "userId": ""}, "SPEC009"),
    ({"type": "track", "event": "Signed Up", "timestamp": "2026-01-01T00:00:30Z",
      "sentAt": "2026-01-01T00:00:00Z"}, "SPEC017"),
])
def test_what_destinations_still_process_is_no_error(event, code):
    found = lint({"userId": "u", "messageId": "m", **event}, now=NOW)
    assert [f.code for f in found] == [code]
    assert found[0].severity != "error"


@pytest.mark.parametrize("event, code", [
    ({"type": "track", "event": "Signed Up", "userId": {"id": 1}}, "SPEC010"),
    ({"type": "track", "event": "Signed Up", "userId": True}, "SPEC010"),
    ({"type": "track", "event": "Signed Up", "userId": "u", "timestamp": 1767225600}, "SPEC013"),
    ({"type": "track", "userId": "u"}, "SPEC004"),
    ({"event": "Signed Up", "userId": "u"}, "SPEC002"),
    ({"type": "track", "event": "Signed Up", "userId": ""}, "SPEC008"),
])
def test_what_nobody_can_process_stays_an_error(event, code):
    found = lint({"messageId": "m", **event}, now=NOW)
    assert code in [f.code for f in found if f.severity == "error"]


# -- wording ------------------------------------------------------------------------

def test_messages_name_a_property_and_a_trait_in_the_singular():
    event = {"type": "track", "event": "Video Content Playing", "userId": "u", "messageId": "m",
             "properties": {"totalLength": 3, "session_id": "s", "sessionId": "s"}}
    messages = [f.message for f in lint(event)]
    assert any("the reserved property `total_length`" in m for m in messages), messages
    assert any("are the same property in two casings" in m for m in messages), messages
    identify = {"type": "identify", "userId": "u", "messageId": "m", "traits": {"first_name": "A"}}
    assert "the reserved trait `firstName`" in lint(identify)[0].message
    assert all("propertie " not in m for m in messages)


@pytest.mark.parametrize("kind, article", [("identify", "an identify"), ("alias", "an alias"),
                                           ("track", "a track"), ("group", "a group")])
def test_messages_use_the_right_article(kind, article):
    event = {"type": kind, "messageId": "m"}
    assert any(f.message.startswith(article + " needs") for f in lint(event)), lint(event)


def test_a_one_second_span_is_singular():
    event = {"type": "track", "event": "Signed Up", "userId": "u", "messageId": "m",
             "timestamp": "2026-01-01T00:00:01.400Z", "sentAt": "2026-01-01T00:00:00Z"}
    [finding] = lint(event)
    assert finding.message.startswith("`sentAt` is 1 second before `timestamp`")


# -- body shapes --------------------------------------------------------------------

def test_a_tracking_api_batch_is_linted_per_element_and_named_once():
    good = {"type": "track", "event": "Signed Up", "userId": "u", "messageId": "m"}
    body = {"batch": [good, {**good, "event": "Purchase"}, "junk", {"event": "x", "userId": "u"}],
            "sentAt": "2026-01-01T00:00:00Z", "writeKey": "wk"}
    found = lint(body)
    assert [(f.code, f.path, f.event) for f in found] == [
        ("SPEC060", "$.batch", None), ("SPEC042", "$.batch[1].event", None),
        ("SPEC001", "$.batch[2]", None), ("SPEC002", "$.batch[3]", None),
        ("SPEC011", "$.batch[3]", None)]
    assert "Tracking-API batch of 4 events" in found[0].message and "partner" in found[0].message


def test_batch_findings_point_at_their_line_of_the_body():
    body = {"batch": [{"type": "track", "event": "Signed Up", "userId": "u", "messageId": "m"},
                      {"type": "track", "event": "Order Completed", "userId": "u", "messageId": "m",
                       "properties": {"revenue": "1"}}]}
    _, paths = pretty(body)
    [_, revenue] = lint(body)
    assert line_of(paths, revenue.path, revenue.event) == paths["$.batch[1].properties.revenue"]


@pytest.mark.parametrize("body, codes_expected", [
    ({"batch": []}, ["SPEC060"]),
    ({"batch": "x", "userId": "u", "messageId": "m"}, ["SPEC002"]),  # not a batch: an event without type
    ({"type": "track", "event": "Signed Up", "userId": "u", "messageId": "m", "batch": []}, []),
])
def test_only_a_batch_array_without_type_is_a_tracking_api_batch(body, codes_expected):
    assert codes(body) == codes_expected


def test_a_json_array_body_keeps_its_per_event_findings():
    good = {"type": "track", "event": "Signed Up", "userId": "u", "messageId": "m"}
    found = lint([good, {**good, "userId": 7}])
    assert [(f.code, f.path, f.event) for f in found] == [("SPEC009", "$.userId", 1)]

"""The generated corpus: every call type and Spec event, type-correct, lint-clean, flat to stream."""

from __future__ import annotations

import random
from collections import Counter

from inspector.core.checks import lint_event
from inspector.core.checks.spec import EVENTS, TYPES
from inspector.core.checks.types import iso_datetime
from inspector.core.generate import corpus, examples, stream


def test_corpus_covers_every_call_type_and_semantic_event() -> None:
    events = corpus(random.Random(1))
    assert {event["type"] for event in events} == set(TYPES)
    assert set(EVENTS) <= {event.get("event") for event in events}


def test_corpus_has_browser_mobile_and_server_shapes_and_anonymous_users() -> None:
    events = corpus(random.Random(2))
    channels = Counter(event["channel"] for event in events)
    assert {"browser", "mobile", "server"} <= set(channels)
    libraries = {event["context"]["library"]["name"] for event in events}
    assert {"analytics.js", "analytics-ios", "analytics-python"} <= libraries
    assert any("userId" not in event and event.get("anonymousId") for event in events)
    assert any(event.get("userId") and event.get("anonymousId") for event in events)
    mobile = next(event for event in events if event["channel"] == "mobile")
    assert {"app", "device", "os", "network", "screen"} <= set(mobile["context"])


def test_corpus_lints_without_errors_and_with_only_documented_variants() -> None:
    found = Counter()
    for event in corpus(random.Random(3)):
        for finding in lint_event(event):
            assert finding.severity != "error", (event, finding)
            found[finding.code] += 1
    # The casing variants of segment.md §7 and the delete notice, nothing else.
    assert set(found) <= {"SPEC023", "SPEC030", "SPEC040", "SPEC050"}
    assert found["SPEC023"] and found["SPEC030"] and found["SPEC040"]


def test_properties_have_the_spec_types() -> None:
    events: dict = {}
    for event in corpus(random.Random(4)):
        events.setdefault(event.get("event"), event)  # the variants come after the Spec's own
    order = events["Order Completed"]["properties"]
    assert isinstance(order["revenue"], float) and isinstance(order["order_id"], str)
    assert order["currency"].isupper() and order["products"]
    assert all(isinstance(p["price"], float) and isinstance(p["quantity"], int) for p in order["products"])
    assert events["Video Ad Started"]["properties"]["type"] in ("pre-roll", "mid-roll", "post-roll")
    assert isinstance(events["Application Opened"]["properties"]["from_background"], bool)


def test_timestamps_are_consistent() -> None:
    for event in corpus(random.Random(5)):
        original, sent = iso_datetime(event["originalTimestamp"]), iso_datetime(event["sentAt"])
        received, timestamp = iso_datetime(event["receivedAt"]), iso_datetime(event["timestamp"])
        assert original <= sent
        assert abs((received - (sent - original)) - timestamp).total_seconds() < 0.002
        assert event["projectId"] and event["version"] in (2, "1.1") and "integrations" in event


def test_the_same_seed_makes_the_same_corpus_but_fresh_message_ids() -> None:
    first, again = corpus(random.Random(7), now=1_800_000_000), corpus(random.Random(7), now=1_800_000_000)
    assert first == again
    ids = [event["messageId"] for event in first]
    assert len(set(ids)) == len(ids)


def test_stream_cycles_with_new_message_ids_and_stops() -> None:
    events = corpus(random.Random(8))
    sent = list(stream(events, random.Random(9), count=len(events) * 3 + 5))
    assert len(sent) == len(events) * 3 + 5
    assert len({event["messageId"] for event in sent}) == len(sent)
    assert sent[len(events)]["event" if "event" in events[0] else "type"] == \
        events[0]["event" if "event" in events[0] else "type"]
    assert len(list(stream(events, random.Random(9)))) == len(events)  # one pass by default


def test_stream_refills_each_pass_when_told_how() -> None:
    passes = iter(range(1, 100))
    refill = lambda: [{"type": "track", "messageId": f"pass-{next(passes)}"}]  # noqa: E731
    sent = list(stream([{"type": "track", "messageId": "pass-0"}], random.Random(1), count=4, refill=refill))
    assert [event["messageId"] for event in sent] == ["pass-0", "pass-1", "pass-2", "pass-3"]
    assert list(stream([{"type": "track"}], random.Random(1), count=5, refill=list)) == [{"type": "track"}]


def test_stream_is_lazy() -> None:
    source = stream(corpus(random.Random(10)), random.Random(11), count=10**9)
    assert [next(source)["type"] for _ in range(3)]  # a billion events, taken one at a time


def test_the_testers_examples_are_every_call_type_then_every_semantic_event_lint_clean() -> None:
    found = examples(random.Random(3))
    labels = [label for label, _ in found]
    assert labels[:7] == ["identify", "track", "page", "screen", "group", "alias", "delete"]
    assert len(set(labels)) == len(labels) == 7 + len(EVENTS)
    assert [event["type"] for _, event in found[:7]] == labels[:7]
    assert {event["event"] for _, event in found[7:]} == set(EVENTS)
    for label, event in found:
        assert not [f for f in lint_event(event) if f.severity == "error"], label

"""Segment's own traffic raises no error: the endpoint tester's templates and the generated corpus.

Both are linted as the receiver does (Segment's headers included), also in the shapes
real traffic adds: camelCase property names, numbers sent as strings, extra fields, and
a Tracking-API `{"batch": [...]}`. Warnings are right there; errors are not.
"""

from __future__ import annotations

import copy
import json
import random
import time
from typing import Any

import pytest

from inspector.core.checks import lint
from inspector.core.generate import corpus as generated
from inspector.core.intake import received
from inspector.core.templates import fill

from ..conftest import CORPUS, SEGMENT_HEADERS


def templates() -> list[tuple[str, dict[str, Any]]]:
    """Every line of the endpoint tester's templates, its placeholders filled."""
    rng = random.Random(3)
    return [(f"{path.name}:{number}", json.loads(fill(line, rng)))
            for path in sorted(CORPUS.glob("*.log"))
            for number, line in enumerate(path.read_text().splitlines(), 1) if line.strip()]


def both(now: float) -> list[tuple[str, dict[str, Any]]]:
    made = [(f"generated:{n}", event) for n, event in enumerate(generated(random.Random(5), now))]
    return templates() + made


def camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.title() for word in rest)


def as_real_traffic(event: dict[str, Any]) -> dict[str, Any]:
    """The event as customers really send it: camelCase keys, numbers as strings, extra fields."""
    real = copy.deepcopy(event)
    real["writeKey"] = "wk-1"
    real["_metadata"] = {"bundled": ["Segment.io"], "unbundled": []}
    for where in ("properties", "traits"):
        values = real.get(where)
        if isinstance(values, dict):
            real[where] = {camel(key): str(value) if isinstance(value, (int, float)) and not isinstance(
                value, bool) else value for key, value in values.items()}
            real[where]["customerTier"] = "gold"
    return real


def errors(findings: list[Any]) -> list[Any]:
    return [f for f in findings if f.severity == "error"]


def test_both_corpora_are_large_and_cover_every_call_type() -> None:
    events = both(time.time())
    assert len(events) > 150
    assert {event["type"] for _, event in events} >= {"identify", "track", "page", "screen", "group",
                                                       "alias", "delete"}


def test_segment_own_traffic_raises_no_error() -> None:
    now = time.time()
    assert [(where, f) for where, event in both(now) for f in errors(lint(event, now=now))] == []


def test_received_with_segments_headers_no_error_either() -> None:
    now = time.time()
    for where, event in both(now):
        body = json.dumps(event).encode()
        headers = [*SEGMENT_HEADERS.items(), ("Content-Length", str(len(body)))]
        exchange = received(method="POST", path="/", headers=headers, body=body, now=now)
        assert errors(exchange.findings) == [], where


def test_real_shapes_are_warnings_at_most() -> None:
    now = time.time()
    found = [(where, f) for where, event in both(now) for f in lint(as_real_traffic(event), now=now)]
    assert [(where, f) for where, f in found if f.severity == "error"] == []
    codes = {f.code for _, f in found}
    assert {"SPEC020", "SPEC030"} <= codes, "the changes are noticed, as warnings"


@pytest.mark.parametrize("name, value", [
    ("keywords", "news,sport"),  # Video content: an array of strings
    ("livestream", "true"),  # a boolean
    ("total_length", "360"),  # a whole number
    ("sessionId", "s-1"),  # session_id in camelCase
    ("assetId", "a-1"),  # asset_id in camelCase
])
def test_production_video_properties_are_warnings(name, value) -> None:
    event = {"type": "track", "event": "Video Content Started", "userId": "u", "messageId": "m",
             "properties": {name: value, "value": "12"}}
    found = lint(event)
    assert found and {f.severity for f in found} == {"warning"}, found


def test_the_corpus_deliberate_deviations_get_their_warnings() -> None:
    now = time.time()
    found = {(where, f.code, f.path) for where, event in templates() for f in lint(event, now=now)}
    assert found == {
        ("identify.log:6", "SPEC022", "$.traits.birthday"),  # "10-12-1988"
        ("identify.log:8", "SPEC030", "$.traits.created_at"),
        ("track.log:4", "SPEC023", "$.properties.currency"),  # "usd"
        ("user-journey.log:3", "SPEC030", "$.traits.first_name"),
        ("user-journey.log:3", "SPEC030", "$.traits.last_name"),
        ("user-journey.log:4", "SPEC040", "$.event"),  # "Signed up"
    }


def test_the_corpus_as_one_tracking_api_batch() -> None:
    now = time.time()
    events = [event for _, event in both(now)]
    findings = lint({"batch": events, "sentAt": "2026-01-01T00:00:00Z", "writeKey": "wk"}, now=now)
    assert findings[0].code == "SPEC060" and findings[0].severity == "info"
    assert errors(findings) == []
    alone = [(f"$.batch[{n}]" + f.path[1:], f.code) for n, event in enumerate(events)
             for f in lint(event, now=now)]
    assert [(f.path, f.code) for f in findings[1:]] == alone

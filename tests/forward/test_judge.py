"""The judge on its own: pure, from an exchange and the endpoint's answer."""

from __future__ import annotations

import pytest

from inspector.core.checks.answers import Limits, judge
from inspector.core.model import Destination

from ..conftest import SEGMENT_HEADERS
from ..factories import make_exchange

JSON = [("Content-Type", "application/json")]


def codes(exchange, destination, limits=Limits()) -> list[str]:
    return [f.code for f in judge(exchange, destination, limits) if f.code != "ANS014"]


@pytest.mark.parametrize("destination, expected", [
    (Destination("u", 200, JSON, b"{}", 0.05), []),
    (Destination("u", 500, JSON, b'{"message": "db down"}', 0.05), []),
    (Destination("u", 404, JSON, b'{"message": "no"}', 0.05), ["ANS001"]),
    (Destination("u", 204, [], b"", 0.05), ["ANS001"]),
    (Destination("u", 500, [("Content-Type", "text/plain")], b"oops", 0.05), ["ANS006", "ANS007"]),
    (Destination("u", 400, [], b'{"message": "x"}', 0.05), ["ANS006"]),
    (Destination("u", 500, [], b"<!DOCTYPE html><p>boom", 0.05), ["ANS008"]),
    (Destination("u", 301, [("Location", "/v2")], b"", 0.05), ["ANS010"]),
    (Destination("u", 200, JSON, b"{}", 2.5), ["ANS011"]),
    (Destination("u", 200, JSON, b"{}", 4.5), ["ANS012"]),
])
def test_answers_to_a_good_event(destination, expected):
    assert codes(make_exchange(), destination) == expected


def test_key_problems_want_401():
    headers = {k: v for k, v in SEGMENT_HEADERS.items() if k != "Authorization"}
    exchange = make_exchange(headers=headers)
    assert codes(exchange, Destination("u", 400, JSON, b'{"message": "no key"}')) == ["ANS005"]
    assert codes(exchange, Destination("u", 401, JSON, b'{"message": "no key"}')) == []
    assert codes(exchange, Destination("u", 200, JSON, b"{}")) == ["ANS004"]


def test_what_segment_does_next_is_said():
    [outcome] = [f for f in judge(make_exchange(), Destination("u", 503, JSON, b'{"message": "m"}'))
                 if f.code == "ANS014"]
    assert outcome.severity == "info" and "retried" in outcome.message
    [refused, next_step] = judge(make_exchange(), Destination("u", error="cannot connect: connection refused"))
    assert refused.code == "ANS013" and "connection refused" in refused.message
    assert "retried" in next_step.message

"""Redaction: API keys, emails and IPs become stable placeholders; nothing else changes."""

from __future__ import annotations

import base64
import json

from inspector.core.exporters import ExportOptions, export
from inspector.core.exporters.redact import redact

from ..conftest import SEGMENT_HEADERS, basic
from ..factories import make_event, make_exchange

KEY = "sk_live_4f9a8b7c6d5e"


def _exchange(**fields):
    headers = {**SEGMENT_HEADERS, "Authorization": basic(KEY)}
    return make_exchange(make_event(**fields), headers=headers)


def test_key_emails_and_ips_become_numbered_placeholders_stable_across_exchanges():
    first = _exchange(userId="ann@corp.example", context={"ip": "81.2.69.142", "note": f"key {KEY}"},
                      traits={"email": "bob@corp.example", "ipv6": "2a00:1450:4007:80e::200e"})
    second = _exchange(userId="ann@corp.example", context={"ip": "81.2.69.143"},
                       properties={"peer": "2A00:1450:4007:080e:0:0:0:200E"})
    out = redact([first, second])
    one, two = (json.loads(exchange.body) for exchange in out)
    assert one["userId"] == two["userId"] == "user1@example.com"
    assert one["traits"]["email"] == "user2@example.com"
    assert (one["context"]["ip"], two["context"]["ip"]) == ("192.0.2.1", "192.0.2.2")
    # the same IPv6 address written two ways is one address
    assert one["traits"]["ipv6"] == two["properties"]["peer"] == "2001:db8::1"
    assert one["context"]["note"] == "key redacted-key-1"
    for exchange in out:
        assert exchange.header("Authorization") == basic("redacted-key-1")
        assert exchange.auth.key == "redacted-key-1"
        assert exchange.header("Content-Length") == str(len(exchange.body))
    # everything else is as it was, and the originals are untouched
    assert {k: v for k, v in one.items() if k not in ("userId", "context", "traits")} == \
        {k: v for k, v in json.loads(first.body).items() if k not in ("userId", "context", "traits")}
    assert b"ann@corp.example" in first.body and first.auth.key == KEY


def test_redaction_is_the_same_every_time():
    exchanges = [_exchange(userId=f"u{n}@corp.example", context={"ip": f"10.0.0.{n}"}) for n in range(5)]
    options = ExportOptions(redact=True)
    assert export(exchanges, "jsonl", options).files == export(exchanges, "jsonl", options).files


def test_what_is_not_an_email_or_ip_is_left_alone():
    event = make_event(properties={"version": "1.2.3", "time": "12:30:45", "ratio": "3.14",
                                   "mac": "aa:bb:cc:dd:ee:ff", "at": "@handle", "semver": "10.20.30.40.50",
                                   "short": "segment"})
    exchange = make_exchange(event)
    assert redact([exchange])[0].body == exchange.body


def test_settings_header_is_redacted_inside_its_base64():
    settings = base64.b64encode(json.dumps({"owner": "ops@corp.example", "region": "eu"}).encode()).decode()
    exchange = make_exchange(make_event(), headers={**SEGMENT_HEADERS, "X-Segment-Settings": settings})
    value = redact([exchange])[0].header("X-Segment-Settings")
    assert json.loads(base64.b64decode(value)) == {"owner": "user1@example.com", "region": "eu"}


def test_malformed_authorization_is_replaced_whole():
    exchange = make_exchange(make_event(), headers={**SEGMENT_HEADERS, "Authorization": "Bearer s3cr3t-t0ken"})
    assert redact([exchange])[0].header("Authorization") == "redacted"


def test_bodies_that_are_not_json_are_redacted_as_bytes():
    exchange = make_exchange(b"\xff\x00 mail=eve@corp.example ip=192.168.1.20 \xfe")
    assert redact([exchange])[0].body == b"\xff\x00 mail=user1@example.com ip=192.0.2.1 \xfe"


def test_a_megabyte_of_letters_digits_or_hex_is_redacted():
    for filler in ("a" * 1_000_000, "1" * 1_000_000, "ab:" * 300_000, "a." * 500_000):
        exchange = make_exchange(make_event(properties={"blob": filler, "email": "x@corp.example"}))
        body = redact([exchange])[0].body
        assert json.loads(body)["properties"] == {"blob": filler, "email": "user1@example.com"}

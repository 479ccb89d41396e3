"""check_headers names each way a request's headers differ from the ones Segment sends."""

import base64
import json

import pytest
from hypothesis import given, strategies as st

from inspector.core.checks import CHECKS
from inspector.core.headers import SETTINGS_EXAMPLE, check_headers, decode_settings, is_json_type

SIZE = 348
SEGMENT = [
    ("Accept", "*/*"),
    ("Authorization", "Basic c2VnbWVudDo="),
    ("Cache-Control", "no-cache"),
    ("Connection", "Keep-Alive"),
    ("Content-Length", str(SIZE)),
    ("Content-Type", "application/json"),
    ("User-Agent", "Segment.io/1.0"),
]


def without(name, headers=SEGMENT):
    return [(k, v) for k, v in headers if k.lower() != name.lower()]


def replaced(name, value):
    return [(k, value if k == name else v) for k, v in SEGMENT]


def settings(obj) -> str:
    return base64.b64encode(json.dumps(obj).encode()).decode()


# (id, headers, body size, the one code expected)
CASES = [
    ("accept missing", without("Accept"), SIZE, "HDR001"),
    ("cache-control missing", without("Cache-Control"), SIZE, "HDR002"),
    ("cache-control other", replaced("Cache-Control", "max-age=0"), SIZE, "HDR002"),
    ("connection close", replaced("Connection", "close"), SIZE, "HDR003"),
    ("connection close in a list", replaced("Connection", "TE, Close"), SIZE, "HDR003"),
    ("content-length missing", [*without("Content-Length"), ("Transfer-Encoding", "chunked")], SIZE, "HDR004"),
    ("content-length differs", replaced("Content-Length", "400"), SIZE, "HDR005"),
    ("content-length smaller", replaced("Content-Length", "300"), SIZE, "HDR005"),
    ("content-length not a number", replaced("Content-Length", "348 bytes"), SIZE, "HDR005"),
    ("content-length negative", replaced("Content-Length", "-348"), SIZE, "HDR005"),
    ("content-length huge", replaced("Content-Length", "9" * 5000), SIZE, "HDR005"),
    ("content-length unicode digits", replaced("Content-Length", "٣٤٨"), SIZE, "HDR005"),
    ("content-type missing", without("Content-Type"), SIZE, "HDR006"),
    ("content-type text", replaced("Content-Type", "text/plain"), SIZE, "HDR006"),
    ("content-type form", replaced("Content-Type", "application/x-www-form-urlencoded"), SIZE, "HDR006"),
    ("content-type json in a parameter", replaced("Content-Type", "text/plain; x=application/json"), SIZE,
     "HDR006"),
    ("user-agent actions", replaced("User-Agent", "Segment (Actions)"), SIZE, "HDR007"),
    ("user-agent legacy", replaced("User-Agent", "Segment.io/1.0.0"), SIZE, "HDR007"),
    ("user-agent curl", replaced("User-Agent", "curl/8.0"), SIZE, "HDR008"),
    ("user-agent go", replaced("User-Agent", "Go-http-client/1.1"), SIZE, "HDR008"),
    ("user-agent missing", without("User-Agent"), SIZE, "HDR008"),
    ("user-agent empty", replaced("User-Agent", ""), SIZE, "HDR008"),
    ("content-length twice", [*SEGMENT, ("Content-Length", str(SIZE))], SIZE, "HDR009"),
    ("content-type twice", [*SEGMENT, ("content-type", "application/json")], SIZE, "HDR010"),
    ("authorization twice", [*SEGMENT, ("Authorization", "Basic b3RoZXI6")], SIZE, "HDR010"),
    ("settings twice", SEGMENT + [("X-Segment-Settings", SETTINGS_EXAMPLE)] * 2, SIZE, "HDR010"),
    ("settings raw json", [*SEGMENT, ("X-Segment-Settings", '{"a": 1}')], SIZE, "HDR011"),
    ("settings array", [*SEGMENT, ("X-Segment-Settings", settings([1]))], SIZE, "HDR011"),
    ("settings bad padding", [*SEGMENT, ("X-Segment-Settings", SETTINGS_EXAMPLE.rstrip("="))], SIZE, "HDR011"),
    ("settings empty", [*SEGMENT, ("X-Segment-Settings", "")], SIZE, "HDR011"),
]


@pytest.mark.parametrize("headers, size, code", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_headers_give_exactly_their_code(headers, size, code):
    findings = check_headers(headers, size)
    assert [f.code for f in findings] == [code]
    found = findings[0]
    assert found.severity == CHECKS[code].severity
    assert found.path.startswith("header:")
    assert found.message and "\n" not in found.message


GOOD = [
    ("segment", SEGMENT),
    ("lower-case names", [(k.lower(), v) for k, v in SEGMENT]),
    ("connection missing: HTTP/1.1 keeps alive", without("Connection")),
    ("connection keep-alive lower case", replaced("Connection", "keep-alive")),
    ("content-type charset", replaced("Content-Type", "application/json; charset=utf-8")),
    ("content-type vendor", replaced("Content-Type", "application/vnd.segment+json")),
    ("content-type upper case", replaced("Content-Type", "Application/JSON")),
    ("settings", [*SEGMENT, ("X-Segment-Settings", SETTINGS_EXAMPLE)]),
    ("accept twice is a list, not a conflict", [*SEGMENT, ("Accept", "application/json")]),
]


@pytest.mark.parametrize("headers", [case[1] for case in GOOD], ids=[case[0] for case in GOOD])
def test_segment_headers_give_nothing(headers):
    assert check_headers(headers, SIZE) == []


def test_every_code_is_tested():
    assert {case[3] for case in CASES} == {code for code in CHECKS if code.startswith("HDR")}


def test_severities():
    assert {code: CHECKS[code].severity for code in CHECKS if code.startswith("HDR")} == {
        "HDR001": "info", "HDR002": "info", "HDR003": "info", "HDR004": "warning", "HDR005": "error",
        "HDR006": "warning", "HDR007": "info", "HDR008": "info", "HDR009": "error",
        "HDR010": "warning", "HDR011": "warning",
    }


def test_messages_say_what_matters():
    agent = check_headers(replaced("User-Agent", "curl/8.0"), SIZE)[0].message
    assert "sent by curl/8.0, not by Segment" in agent
    content_type = check_headers(without("Content-Type"), SIZE)[0].message
    assert "accepted" in content_type and "parsed as JSON" in content_type
    length = check_headers(replaced("Content-Length", "400"), SIZE)[0].message
    assert "400" in length and str(SIZE) in length


def test_curl_defaults_are_told_apart():
    curl = [("Host", "localhost"), ("User-Agent", "curl/8.0"), ("Accept", "*/*"),
            ("Content-Type", "application/json"), ("Content-Length", "2")]
    assert [f.code for f in check_headers(curl, 2)] == ["HDR002", "HDR008"]


def test_go_tester_defaults_are_told_apart():
    go = [("Host", "localhost"), ("User-Agent", "Go-http-client/1.1"), ("Content-Length", "2"),
          ("Content-Type", "application/json"), ("Accept-Encoding", "gzip")]
    assert [f.code for f in check_headers(go, 2)] == ["HDR001", "HDR002", "HDR008"]


@pytest.mark.parametrize("value", ["application/json", "application/json;charset=UTF-8",
                                   "application/vnd.segment+json", " application/json "])
def test_json_types(value):
    assert is_json_type(value)


@pytest.mark.parametrize("value", ["", "text/json", "application/jsonx", "text/plain", "json"])
def test_not_json_types(value):
    assert not is_json_type(value)


def test_decode_settings_example():
    assert decode_settings(SETTINGS_EXAMPLE) == ({"customSettingOne": "custom setting value"}, None)
    assert decode_settings(settings({})) == ({}, None)


@pytest.mark.parametrize("value", [
    "", "   ", "not base64!", "e30", "//79", base64.b64encode(b"{").decode(), settings([]), settings("x"),
    settings(None), settings(1), base64.b64encode(b'{"a": NaN}').decode(),
    base64.b64encode(b"[" * 100_000).decode(),
])
def test_decode_settings_errors(value):
    data, error = decode_settings(value)
    assert data is None and error and "\n" not in error


HEADER_NAMES = st.sampled_from(["Accept", "Authorization", "Cache-Control", "Connection", "Content-Length",
                                "content-type", "User-Agent", "X-Segment-Settings", "Transfer-Encoding"])


@given(st.lists(st.tuples(st.one_of(HEADER_NAMES, st.text()), st.text())), st.integers())
def test_any_headers_never_raise(headers, size):
    for found in check_headers(headers, size):
        assert found.code in CHECKS and found.severity == CHECKS[found.code].severity


@given(st.text())
def test_any_settings_never_raise(value):
    data, error = decode_settings(value)
    assert (data is None) != (error is None)


@given(st.binary())
def test_any_encoded_settings_never_raise(raw):
    data, error = decode_settings(base64.b64encode(raw).decode())
    assert (data is None) != (error is None)

"""decode_basic gives one verdict per way the Authorization header can be off."""

import base64

import pytest
from hypothesis import given, strategies as st

from inspector.core.auth import CODES, auth_findings, decode_basic
from inspector.core.checks import CHECKS
from inspector.core.model import Auth


def basic(credentials: bytes) -> str:
    return "Basic " + base64.b64encode(credentials).decode("ascii")


SEGMENT = "Basic c2VnbWVudDo="

# (header, verdict, code, scheme, key, password)
CASES = [
    (None, "missing", "AUTH001", None, None, None),
    ("", "missing", "AUTH001", None, None, None),
    ("   ", "missing", "AUTH001", None, None, None),
    ("Bearer c2VnbWVudDo=", "scheme", "AUTH002", "Bearer", None, None),
    ("Digest username=segment", "scheme", "AUTH002", "Digest", None, None),
    ("c2VnbWVudDo=", "scheme", "AUTH002", None, None, None),
    ("Basic", "base64", "AUTH003", "Basic", None, None),
    ("Basic c2VnbWVudDo", "base64", "AUTH003", "Basic", None, None),
    ("Basic c2VnbWVudDo==", "base64", "AUTH003", "Basic", None, None),
    ("Basic c2Vn bWVudDo=", "base64", "AUTH003", "Basic", None, None),
    ("Basic " + base64.urlsafe_b64encode(b"\xfb\xff:").decode(), "base64", "AUTH003", "Basic", None, None),
    ("Basic c2VnbWVudDo=é", "base64", "AUTH003", "Basic", None, None),
    ("Basic //79", "utf8", "AUTH004", "Basic", None, None),
    (basic(b"\xe9t\xe9:"), "utf8", "AUTH004", "Basic", None, None),
    ("Basic c2VnbWVudA==", "colon", "AUTH005", "Basic", None, None),
    ("Basic c2VnbWVudDpzZWNyZXQ=", "password", "AUTH006", "Basic", "segment", "secret"),
    (basic(b"key:pass:word"), "password", "AUTH006", "Basic", "key", "pass:word"),
    ("Basic Og==", "empty-key", "AUTH007", "Basic", "", ""),
    (basic(b":secret"), "empty-key", "AUTH007", "Basic", "", "secret"),
]


@pytest.mark.parametrize("header, verdict, code, scheme, key, password", CASES)
def test_bad_header_gives_exactly_its_verdict(header, verdict, code, scheme, key, password):
    auth = decode_basic(header)
    assert (auth.verdict, auth.scheme, auth.key, auth.password) == (verdict, scheme, key, password)
    assert not auth.ok
    assert auth.message and "\n" not in auth.message
    findings = auth_findings(auth)
    assert [f.code for f in findings] == [code]
    assert findings[0].path == "header:Authorization"
    assert findings[0].message == auth.message


@pytest.mark.parametrize("header", [SEGMENT, "basic c2VnbWVudDo=", "BASIC  c2VnbWVudDo= ", basic(b"k\xc3\xa9y:")])
def test_segment_header_is_ok(header):
    auth = decode_basic(header)
    assert auth.ok, auth.message
    assert auth.password == ""
    assert auth.scheme.lower() == "basic"
    assert auth_findings(auth) == []


def test_segment_example_key():
    assert decode_basic(SEGMENT).key == "segment"
    assert decode_basic(basic("kéy:".encode())).key == "kéy"


def test_scheme_message_names_the_scheme():
    assert "Bearer" in decode_basic("Bearer abc").message


def test_every_verdict_is_tested_and_registered():
    assert {case[1] for case in CASES} == set(CODES)
    assert {case[2] for case in CASES} == set(CODES.values())


def test_severities():
    severities = {verdict: CHECKS[code].severity for verdict, code in CODES.items()}
    assert severities == {"missing": "error", "scheme": "error", "base64": "error", "utf8": "error",
                          "colon": "error", "empty-key": "error", "password": "warning"}


def test_unknown_verdict_gives_no_finding():
    assert auth_findings(Auth("something-new", "from a later version")) == []


@given(st.one_of(st.none(), st.text()))
def test_any_text_never_raises(header):
    auth = decode_basic(header)
    assert auth.verdict == "ok" or [f.code for f in auth_findings(auth)] == [CODES[auth.verdict]]


@given(st.sampled_from(["Basic ", "basic ", "Bearer ", ""]), st.binary())
def test_any_credentials_never_raise(prefix, raw):
    auth = decode_basic(prefix + base64.b64encode(raw).decode("ascii"))
    assert auth.verdict in {"ok", *CODES}
    if prefix.lower().startswith("basic") and auth.ok:
        assert (auth.key + ":" + auth.password).encode() == raw


@pytest.mark.parametrize("verdict, code", sorted(CODES.items()))
def test_documented_examples_hold(verdict, code):
    bad, good = CHECKS[code].doc_bad, CHECKS[code].doc_good
    if bad.startswith("Authorization: "):
        assert decode_basic(bad.removeprefix("Authorization: ")).verdict == verdict
    else:
        assert decode_basic(None).verdict == verdict
    assert decode_basic(good.removeprefix("Authorization: ")).ok

"""The values the user types: a URL, a duration, a size, read one way everywhere."""

from __future__ import annotations

import pytest

from inspector.core import values


@pytest.mark.parametrize("text, read", [
    ("http://localhost:3000/segment", "http://localhost:3000/segment"),
    ("HTTPS://api.example.com/v1?x=1", "HTTPS://api.example.com/v1?x=1"),
    ("  https://[::1]:8443/  ", "https://[::1]:8443/"),  # what the TUI's inputs hold around it is dropped
])
def test_a_url_is_http_or_https_with_a_host(text, read):
    assert values.url(text) == read


@pytest.mark.parametrize("text, words", [
    ("ftp://example.com/", "'ftp://example.com/' is not an http:// or https:// URL"),
    ("hooks.example.com", "'hooks.example.com' is not an http:// or https:// URL"),
    ("http://", "'http://' is not an http:// or https:// URL"),  # no host
    ("http://x:99999/", "'http://x:99999/' is not a URL: Port out of range"),
    ("http://x:port/", "is not a URL: Port could not be cast"),
    ("http://[::1/", "is not a URL: Invalid IPv6 URL"),
    ("http://\x1b[31mred/", r"'http://\\x1b[31mred/' is not"),  # an escape is shown, never sent to the terminal
])
def test_a_bad_url_is_named_in_the_error(text, words):
    with pytest.raises(ValueError) as raised:
        values.url(text)
    assert words in str(raised.value)
    assert "\x1b" not in str(raised.value)


def test_a_long_bad_url_is_cut_short_in_the_error():
    with pytest.raises(ValueError) as raised:
        values.url("ftp://" + "x" * 5000)
    assert len(str(raised.value)) < 300


@pytest.mark.parametrize("value, seconds", [
    ("90", 90.0), ("90s", 90.0), ("1.5m", 90.0), ("24h", 86400.0), ("7d", 7 * 86400.0),
    ("30M", 1800.0), (" 10 m ", 600.0), (".5h", 1800.0), ("2.", 2.0),
    (30, 30.0), (2.5, 2.5),  # a config file's number
])
def test_a_duration_is_seconds(value, seconds):
    assert values.duration(value) == seconds


def test_a_bare_number_counts_in_the_unit_asked_for_or_needs_one():
    assert values.duration("7", unit="d") == 7 * 86400.0
    assert values.duration(1.5, unit="d") == 1.5 * 86400.0
    assert values.duration("12h", unit="d") == 12 * 3600.0  # a unit given wins
    assert values.duration("10m", unit=None) == 600.0
    with pytest.raises(ValueError, match="not a duration: '2026'"):
        values.duration("2026", unit=None)  # in a query, a bare number could be a year


@pytest.mark.parametrize("value, words", [
    ("soon", "not a duration: 'soon' (try 24h, 30m or 90s)"),
    ("10y", "not a duration: '10y'"),
    ("", "not a duration: ''"),
    ("-5", "not a duration: '-5'"),
    ("1e3", "not a duration: '1e3'"),
    ("nan", "not a duration: 'nan'"),
    ("inf", "not a duration: 'inf'"),
    ("1" * 400 + "d", "is too long"),
    (float("inf"), "is too long"),
    (True, "not a duration: True"),
    ("0", "must be more than 0"),
    ("0s", "must be more than 0"),
    (-1, "must be more than 0"),
])
def test_a_bad_duration_says_why(value, words):
    with pytest.raises(ValueError) as raised:
        values.duration(value)
    assert words in str(raised.value)


def test_zero_is_a_duration_only_where_asked_for():
    assert values.duration("0", positive=False) == 0.0
    assert values.duration("0m", unit=None, positive=False) == 0.0
    with pytest.raises(ValueError, match="must be 0 or more"):
        values.duration(-0.5, positive=False)


@pytest.mark.parametrize("value, size", [
    ("8388608", 8388608), (8388608, 8388608), ("8MiB", 8 * 1024**2), ("8M", 8 * 1024**2), ("8mi", 8 * 1024**2),
    ("32KB", 32_000), ("32kib", 32 * 1024), ("1.5mb", 1_500_000), ("2GiB", 2 * 1024**3), ("2g", 2 * 1024**3),
    ("100b", 100), (" 64 KiB ", 64 * 1024),
])
def test_a_size_is_bytes_kib_binary_kb_decimal(value, size):
    assert values.size(value) == size


@pytest.mark.parametrize("value, words", [
    ("lots", "not a size: 'lots' (try 8MiB or 32KB)"),
    ("8TB", "not a size: '8TB'"),
    ("-1", "not a size: '-1'"),
    ("9" * 400, "is too large"),
    (True, "not a size: True"),
    (1.5, "not a size: 1.5"),
    (0, "a size must be more than 0"),
    ("0", "a size must be more than 0"),
    ("0.1b", "a size must be more than 0"),
])
def test_a_bad_size_says_why(value, words):
    with pytest.raises(ValueError) as raised:
        values.size(value)
    assert words in str(raised.value)

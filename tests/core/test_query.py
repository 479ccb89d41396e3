"""The search language: every operator, precedence, and errors that point at the problem."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, strategies as st

from inspector.core.model import Summary
from inspector.core.query import Query, QueryError, filter, parse

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC).timestamp()
BODY = '{"type":"track","event":"Order Completed","userId":"u1","properties":{"note":"a:b -x"}}'


def make_summary(**overrides: object) -> Summary:
    """One answered track event with no findings, unless the test says otherwise."""
    fields: dict[str, object] = {
        'id': "01JDXYZ0000000000000000000", 'time': NOW - 60, 'method': "POST", 'path': "/v1/track",
        'status': 200, 'types': ("track",), 'names': ("Order Completed",), 'users': ("u1",),
        'anons': ("a1",), 'messages': ("m1",), 'key': "writekey", 'codes': (), 'severities': (),
        'redelivery': 0, 'held': False, 'body': True, 'text': BODY.lower(),
    }
    fields.update(overrides)
    return Summary(**fields)  # type: ignore[arg-type]


def matches(query: str, **overrides: object) -> bool:
    return parse(query, now=lambda: NOW).matches(make_summary(**overrides))


BATCH = {'types': ("identify", "track"), 'names': ("", "Order Completed"), 'users': ("u2", "u1"),
             'anons': ("", "a1"), 'messages': ("m2", "m1")}
FINDINGS = {'codes': ("timestamp.future", "user.missing"), 'severities': ("warning", "error")}

# (query, overrides of a summary that matches, overrides of one that does not)
OPERATORS = [
    ("order", {}, {"text": "{}"}),
    ("ORDER", {}, {"text": "{}"}),
    ('"order completed"', {}, {"text": '{"event":"order"}'}),
    ('"a:b"', {}, {"text": "{}"}),
    ('"-x"', {}, {"text": "{}"}),
    ('"say \\"hi\\""', {"text": 'say "hi"'}, {"text": "say hi"}),
    ("type:track", {}, {"types": ("page",)}),
    ("type:TRACK", {}, {"types": ("page",)}),
    ("type:track", BATCH, {"types": ("identify", "page")}),
    ("event:Order*", {}, {"names": ("Checkout Started",)}),
    ('event:"order completed"', {}, {"names": ("Order",)}),
    ("event:*Completed", {}, {"names": ("Order Completed Twice",)}),
    ("event:*der*", {}, {"names": ("Checkout",)}),
    ("event:Order", {"names": ("Order",)}, {}),
    ('user:""', {"users": ("",)}, {}),
    ("user:u1", {}, {"users": ("u2",)}),
    ("user:U1", BATCH, {"users": ("u2", "u3")}),
    ("anon:a1", {}, {"anons": ("",)}),
    ("message:m1", {}, {"messages": ("m2",)}),
    ("finding:user.missing", FINDINGS, {}),
    ("finding:timestamp.*", FINDINGS, {"codes": ("user.missing",), "severities": ("error",)}),
    ("severity:error", FINDINGS, {}),
    ("severity:Warning", FINDINGS, {"codes": ("x",), "severities": ("info",)}),
    ("method:post", {}, {"method": "GET"}),
    ("path:/v1/*", {}, {"path": "/track"}),
    ("path:/v1/track", {}, {"path": "/v1/track/extra"}),
    ("key:WriteKey", {}, {"key": None}),
    ("key:*", {}, {"key": None}),
    ("id:01jdxyz*", {}, {"id": "01JE0000000000000000000000"}),
    ("status:200", {}, {"status": 201}),
    ("status:200", {}, {"status": None}),
    ("status:4xx", {"status": 429}, {"status": 500}),
    ("status:5XX", {"status": 501}, {"status": 200}),
    ("status=200", {}, {"status": 400}),
    ("status!=200", {"status": 500}, {}),
    ("status!=200", {"status": 500}, {"status": None}),
    ("status!=2xx", {"status": 400}, {"status": 204}),
    ("status!=2xx", {"status": 400}, {"status": None}),
    ("status>=400", {"status": 400}, {"status": 399}),
    ("status>=400", {"status": 503}, {"status": None}),
    ("status>400", {"status": 401}, {"status": 400}),
    ("status<500", {"status": 499}, {"status": 500}),
    ("status<500", {"status": 499}, {"status": None}),
    ("status<=299", {"status": 299}, {"status": 300}),
    ("redelivery:0", {}, {"redelivery": 1}),
    ("redelivery>0", {"redelivery": 1}, {}),
    ("redelivery>=2", {"redelivery": 2}, {"redelivery": 1}),
    ("redelivery<1", {}, {"redelivery": 1}),
    ("redelivery<=1", {"redelivery": 1}, {"redelivery": 2}),
    ("redelivery=3", {"redelivery": 3}, {}),
    ("redelivery!=0", {"redelivery": 3}, {}),
    ("since:10m", {"time": NOW - 599}, {"time": NOW - 601}),
    ("since:30s", {"time": NOW - 30}, {"time": NOW - 31}),
    ("since:2h", {"time": NOW - 7199}, {"time": NOW - 7201}),
    ("since:1.5h", {"time": NOW - 5399}, {"time": NOW - 5401}),
    ("since:1d", {"time": NOW - 86399}, {"time": NOW - 86401}),
    ("since:10M", {"time": NOW - 599}, {"time": NOW - 601}),  # values are case-insensitive, units too
    ('since:"10 m"', {"time": NOW - 599}, {"time": NOW - 601}),  # read as --dedupe-window reads it
    ("since:2026-11-26", {"time": NOW}, {"time": NOW - 12 * 3600 - 1}),
    ("since:2026-11-26T12:00:00Z", {"time": NOW}, {"time": NOW - 1}),
    ("since:2026-11-26T12:00:00", {"time": NOW}, {"time": NOW - 1}),
    ("since:2026-11-26T13:00:00+01:00", {"time": NOW}, {"time": NOW - 1}),
    ("until:10m", {"time": NOW - 601}, {"time": NOW - 600}),
    ("until:2026-11-26T12:00:00Z", {"time": NOW - 1}, {"time": NOW}),
    ("until:2026-11-27", {"time": NOW}, {"time": NOW + 12 * 3600}),
    ("has:findings", FINDINGS, {}),
    ("has:errors", FINDINGS, {"codes": ("x",), "severities": ("warning",)}),
    ("has:warnings", FINDINGS, {"codes": ("x",), "severities": ("error",)}),
    ("has:key", {}, {"key": None}),
    ("has:key", {}, {"key": ""}),
    ("has:body", {}, {"body": False, "text": ""}),
    ("HAS:Findings", FINDINGS, {}),
    ("is:redelivery", {"redelivery": 1}, {}),
    ("is:held", {"held": True}, {}),
    ("is:batch", BATCH, {}),
    ("is:delivered", {"status": 204}, {"status": 500}),
    ("is:delivered", {"status": 204}, {"status": None}),
    ("is:retried", {"status": 429}, {"status": 501}),
    ("is:retried", {"status": 503}, {"status": None}),
    ("is:dropped", {"status": 400}, {"status": 408}),
    ("is:dropped", {"status": 501}, {"status": None}),
    ('"a:b" type:track', {}, {"types": ("page",)}),
    ("-type:page", {}, {"types": ("page",)}),
    ("NOT type:page", {}, {"types": ("page",)}),
    ("- type:page", {}, {"types": ("page",)}),
    ("--type:track", {}, {"types": ("page",)}),
    ("type:track status:200", {}, {"status": 500}),
    ("type:track AND status:200", {}, {"types": ("page",)}),
    ("type:page OR status:200", {}, {"status": 500}),
    ("(type:page OR status:200)", {}, {"status": 500}),
    ("order or completed", {"text": "order or completed"}, {"text": "order"}),
    ("", {}, None),
    ("   ", {}, None),
]


@pytest.mark.parametrize(("query", "yes", "no"), OPERATORS)
def test_operator(query: str, yes: dict, no: dict | None) -> None:
    assert matches(query, **yes) is True
    if no is not None:
        assert matches(query, **no) is False


# (query, overrides, expected): NOT binds tighter than AND, and AND tighter than OR
PRECEDENCE = [
    ("type:page type:track OR status:200", {}, True),  # (page AND track) OR 200
    ("type:track OR type:page status:500", {}, True),  # track OR (page AND 500)
    ("type:track OR type:page status:500", {"types": ("page",)}, False),
    ("(type:track OR type:page) status:500", {}, False),
    ("-type:track OR status:200", {}, True),  # (NOT track) OR 200
    ("NOT type:track OR status:200", {"status": 500}, False),
    ("NOT (type:track OR status:500)", {"status": 500}, False),
    ("-(type:page OR status:500)", {}, True),
    ("NOT type:page type:track", {}, True),  # (NOT page) AND track
    ("NOT NOT type:track", {}, True),
    ("-(-type:track)", {}, True),
    ("type:page AND type:track OR status:200", {}, True),
    ("type:track AND (type:page OR status:500)", {}, False),
    ("a OR b OR order", {}, True),
    ("order completed u1 -zzz", {}, True),
    ("order completed u1 zzz", {}, False),
    ("((type:track))", {}, True),
]


@pytest.mark.parametrize(("query", "overrides", "expected"), PRECEDENCE)
def test_precedence(query: str, overrides: dict, expected: bool) -> None:
    assert matches(query, **overrides) is expected


SHOWN = [
    ("", ""),
    ("a AND b", "a b"),
    ("a b OR c", "a b OR c"),
    ("a (b OR c)", "a (b OR c)"),
    ("NOT (a b)", "-(a b)"),
    ("NOT NOT a", "a"),
    ("Event:\"Order Completed\" status>=400", 'event:"Order Completed" status>=400'),
    ('"a:b" "-x" "OR" "x y"', '"a:b" "-x" "OR" "x y"'),
    ('"plain"', "plain"),
]


@pytest.mark.parametrize(("query", "shown"), SHOWN)
def test_str_shows_the_query_as_understood(query: str, shown: str) -> None:
    parsed = parse(query)
    assert str(parsed) == shown
    assert parsed.text == query


# (query, position, part of the message)
ERRORS = [
    ("(type:track", 11, "expected ')'"),
    ("((a) b", 6, "expected ')'"),
    ("a)", 1, "unmatched ')'"),
    (")", 0, "unmatched ')'"),
    ("()", 0, "empty parentheses"),
    ('"order', 0, "unterminated quote"),
    ('type:track "order', 11, "unterminated quote"),
    ('event:"Order', 6, "unterminated quote"),
    ('a ""', 2, "empty quotes"),
    ("a OR", 2, "'OR' needs a search term after it"),
    ("a OR )", 2, "'OR' needs a search term after it"),
    ("OR a", 0, "'OR' needs a search term before it"),
    ("a AND", 2, "'AND' needs a search term after it"),
    ("AND a", 0, "'AND' needs a search term before it"),
    ("a AND OR b", 6, "'OR' needs a search term before it"),
    ("(OR a)", 1, "'OR' needs a search term before it"),
    ("a NOT", 2, "'NOT' needs a search term after it"),
    ("a -", 2, "'-' needs a search term after it"),
    ("NOT NOT", 4, "'NOT' needs a search term after it"),
    ("event:", 6, "'event:' needs a value"),
    ("a event: b", 8, "'event:' needs a value"),
    ("status>=", 8, "'status>=' needs a value"),
    ("status>=abc", 8, "expected a number, not 'abc'"),
    ("status<4xx", 7, "expected a number"),
    ("status:ok", 7, "expected a status like 200 or a class like 4xx"),
    ("status:6xx", 7, "expected a status"),
    ("redelivery>x", 11, "expected a number"),
    ("a foo:bar", 2, "unknown field 'foo'; fields are type, event"),
    ("http://example.com", 0, "unknown field 'http'"),
    ("colour=red", 0, "unknown field 'colour'"),
    ("event>=3", 5, "'>=' works only with status and redelivery"),
    ("has=findings", 3, "'=' works only with status and redelivery"),
    ("since:10x", 6, "expected a duration like 10m"),
    ("since:10", 6, "expected a duration"),
    ("until:yesterday", 6, "expected a duration"),
    ("since:2026-13-01", 6, "expected a duration"),
    ("has:nothing", 4, "unknown 'has:nothing'; has: takes findings, errors, warnings, key, body"),
    ("is:late", 3, "unknown 'is:late'; is: takes redelivery, held, batch, delivered, retried"),
    ("severity:fatal", 9, "unknown severity 'fatal'; severities are error, warning, info"),
    ("(" * 100 + "a" + ")" * 100, 64, "parentheses nested too deeply"),
]


@pytest.mark.parametrize(("query", "position", "message"), ERRORS)
def test_error_points_at_the_problem(query: str, position: int, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(query)
    assert caught.value.position == position
    assert message in caught.value.message
    assert str(caught.value) == f"{caught.value.message} at position {position}"


def test_query_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"expected '\)' at position 2"):
        parse("(a")


def test_relative_times_count_from_parse_time() -> None:
    clock = iter([NOW, NOW + 3600])
    query = parse("since:10m until:5m", now=lambda: next(clock))
    assert query.matches(make_summary(time=NOW - 400))


def test_filter_keeps_matching_summaries_in_order() -> None:
    summaries = [make_summary(id=str(n), status=status)
                 for n, status in enumerate([200, 500, None, 503, 400])]
    assert [s.id for s in filter(summaries, parse("status>=500"))] == ["1", "3"]
    assert len(list(filter(summaries, parse("")))) == 5


def test_rule_style_query_reads_the_same_as_its_str() -> None:
    query = parse('(event:"Order Completed" OR type:identify) -has:errors status!=5xx')
    again = parse(str(query))
    assert str(again) == str(query)
    assert isinstance(again, Query)


QUERY_PIECES = st.sampled_from([
    "a", "order", '"x y"', '"', "(", ")", "-", "NOT", "AND", "OR", "or", ":", "*",
    "type:track", "event:Order*", 'event:"Order Completed"', "status:", "status>=400",
    "status:4xx", "status<=x", "since:10m", "until:2026-11-26", "has:errors", "is:batch",
    "foo:bar", "\\", '\\"', "key:", 'user:""', "redelivery>0", "=", ">=",
])


@given(st.one_of(st.text(), st.lists(QUERY_PIECES).map(" ".join),
                 st.lists(QUERY_PIECES).map("".join)))
def test_any_text_parses_or_raises_query_error(text: str) -> None:
    try:
        query = parse(text, now=lambda: NOW)
    except QueryError as error:
        assert 0 <= error.position <= len(text)
        return
    assert isinstance(query.matches(make_summary()), bool)
    assert isinstance(query.matches(make_summary(**BATCH, **FINDINGS, status=None, key=None)), bool)
    assert str(parse(str(query), now=lambda: NOW)) == str(query)

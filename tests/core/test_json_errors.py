"""Our words for a text that is not JSON: the first character no JSON text can have there, the
same on every Python, checked against `json.loads` for which texts are JSON at all."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from inspector.core.headers import decode_settings
from inspector.core.intake import parse_body
from inspector.core.json_errors import first_error


def accepted(text: str) -> bool:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return False
    return True


@pytest.mark.parametrize(("text", "what", "position"), [
    ('{"a": 1,}', "a trailing comma before }", 8),
    ("[1, 2,]", "a trailing comma before ]", 6),
    ('{"type": "track",, }', "a property name must be a string in double quotes", 17),
    ("{'a': 1}", "a property name must be a string in double quotes", 1),
    ("['a']", "a string must be in double quotes", 1),
    ('{"a": }', "expected a value", 6),
    ("[1,,2]", "expected a value", 3),
    ("x", "expected a value", 0),
    ("", "expected a value, but the text ends", 0),
    ("  \n ", "expected a value, but the text ends", 4),
    ("[", "expected a value or ], but the text ends", 1),
    ("{", "expected a property name or }, but the text ends", 1),
    ('{"a": 1,', "expected a property name, but the text ends", 8),
    ('{"a"', "expected : after a property name, but the text ends", 4),
    ('{"a" 1}', "expected : after a property name", 5),
    ('{"a": 1 "b": 2}', "expected , or } after a member", 8),
    ('{"a": 1', "expected , or } after a member, but the text ends", 7),
    ("[1 2]", "expected , or ] after an element", 3),
    ('[{"a": 1}}', "expected , or ] after an element", 9),
    ("[1", "expected , or ] after an element, but the text ends", 2),
    ("{} {}", "extra data after the JSON value", 3),
    ('"abc', "an unterminated string", 4),
    ('"abc\\', "an unterminated string", 5),
    ('"\\u12', "an unterminated string", 5),
    ('"a\\x"', "an invalid escape", 3),
    ('"\\u12g4"', "an invalid escape: \\u takes four hex digits", 5),
    ('"a\nb"', "a control character in a string", 2),
    ('{"a\tb": 1}', "a control character in a string", 3),
    ("01", "a leading zero in a number", 1),
    ("[-01]", "a leading zero in a number", 3),
    ("-", "expected a digit after -, but the text ends", 1),
    ("-x", "expected a digit after -", 1),
    ("1.x", "expected a digit after the decimal point", 2),
    ("1e+", "expected a digit in the exponent, but the text ends", 3),
    ("[1E-x]", "expected a digit in the exponent", 4),
    ("tru", "expected true, but the text ends", 3),
    ("[trux]", "expected true", 4),
    ("nul l", "expected null", 3),
    ("[fals]", "expected false", 5),
    ("[-Inf]", "expected -Infinity", 5),
    ("\ufeff{}", "a byte order mark (U+FEFF) before the JSON value", 0),
])
def test_each_error_is_named_at_its_first_character(text, what, position):
    assert not accepted(text)
    found = first_error(text)
    assert (found.what, found.position) == (what, position)
    assert viable(text[:position]) and (position == len(text) or not viable(text[: position + 1]))


def test_line_and_column_count_from_one_as_an_editor_does():
    found = first_error('{\n  "type": "track",\n  oops\n}')
    assert (found.line, found.column, found.position) == (3, 3, 23)
    assert str(found) == "a property name must be a string in double quotes at line 3 column 3"
    assert first_error("\n\n").line == 3 and first_error("\n\n").column == 1


@pytest.mark.parametrize("text", ["NaN", "[Infinity, -Infinity]", '{"a": [1.5e-3, true, false, null]}', ' "\\u00e9" ',
                                  '"\\ud800"', "0", "-0.0E+0", '{"":{}}', "[[], {}, [[]]]"])
def test_what_json_loads_reads_is_no_error(text):
    assert accepted(text) and first_error(text) is None


# -- against json.loads ------------------------------------------------------------------------------

JSON_CHARS = '[]{}",:0123456789.eE+-tfnrulsaNIiy \n\t\\u'
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=8)


@st.composite
def json_texts(draw) -> str:
    """A JSON text as json.dumps writes it, in one of its layouts."""
    layout = draw(st.sampled_from([{}, {"indent": 1}, {"separators": (",", ":")}, {"ensure_ascii": False}]))
    return draw(st.sampled_from(["", " ", "\n"])) + json.dumps(draw(json_values), **layout) + draw(
        st.sampled_from(["", " ", "\r\n"]))


@st.composite
def broken_texts(draw) -> str:
    """A JSON text with a cut, an insertion, a deletion or a replacement; or JSON-like noise."""
    text = draw(json_texts())
    kind = draw(st.sampled_from(["cut", "insert", "delete", "replace", "noise"]))
    if kind == "noise":
        return draw(st.text(alphabet=JSON_CHARS, max_size=25))
    at = draw(st.integers(0, len(text)))
    char = draw(st.sampled_from(JSON_CHARS + "'\x00\x1f\ufeff/"))
    if kind == "cut":
        return text[:at]
    if kind == "insert":
        return text[:at] + char + text[at:]
    if kind == "delete":
        return text[:at] + text[at + 1:]
    return text[:at] + char + text[at + 1:]


def completions(prefix: str) -> list[str]:
    """Endings that may make `prefix` a JSON text: the token it stops in finished, then a value, a
    name or a colon where one is missing, then its open brackets closed. json.loads judges them."""
    in_string = escaped = False
    hex_left = 0
    stack: list[str] = []
    for char in prefix:
        if hex_left:
            hex_left -= 1
        elif escaped:
            escaped, hex_left = False, 4 if char == "u" else 0
        elif in_string:
            in_string, escaped = char != '"', char == "\\"
        elif char == '"':
            in_string = True
        elif char in "[{":
            stack.append("]" if char == "[" else "}")
        elif char in "]}" and stack:
            stack.pop()
    closers = "".join(reversed(stack))
    if in_string:
        heads = ["0" * hex_left + '"'] if hex_left else ['n"'] if escaped else ['"']
    else:
        heads = ["", "0"] + [word[cut:] for word in ("true", "false", "null", "NaN", "Infinity", "-Infinity")
                             for cut in range(1, len(word)) if prefix.endswith(word[:cut])]
    middles = ["", "0", ":0", '"":0', '"', '":0']
    return [head + middle + closers for head in heads for middle in middles]


def viable(prefix: str) -> bool:
    """Whether some JSON text starts with `prefix` (found by trying the likely endings)."""
    return any(accepted(prefix + ending) for ending in completions(prefix))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broken_texts())
def test_an_error_is_reported_where_the_text_stops_being_json(text):
    found = first_error(text)
    assert (found is None) == accepted(text), (text, found)
    if found is not None:
        assert 0 <= found.position <= len(text)
        assert viable(text[: found.position]), ("JSON could still go on before", text, found)
        if found.position < len(text):
            assert not viable(text[: found.position + 1]), ("JSON could still go on at", text, found)


@settings(max_examples=500, deadline=None)
@given(json_texts())
def test_valid_json_is_never_an_error(text):
    assert first_error(text) is None


# -- large and deep --------------------------------------------------------------------------------


def test_nesting_100k_deep_costs_no_recursion():
    deep = "[" * 100_000 + "]" * 100_000
    assert first_error(deep) is None
    assert first_error(deep[:-1] + "x").position == 199_999
    objects = '{"a":' * 100_000 + "1" + "}" * 100_000
    assert first_error(objects) is None and first_error(objects + ",").position == len(objects)


def test_an_8_mib_body_is_read_to_its_error():
    flat = "[" + "1, " * (8 * 1024 * 1024 // 3) + "]"
    assert first_error(flat).what == "a trailing comma before ]" and first_error(flat).position == len(flat) - 1
    events = json.dumps({"batch": [{"type": "track", "event": "Order Completed", "messageId": f"m{i}",
                                     "properties": {"products": [{"sku": "a", "price": 1.5}]},
                                     "context": {"library": {"name": "x"}}} for i in range(40_000)]})
    assert len(events) > 6_000_000 and first_error(events) is None
    assert first_error(events[:-1] + ",}").what == "a trailing comma before }"


# -- where the words are shown -------------------------------------------------------------------


def test_a_body_that_is_not_json_is_named_in_our_words():
    data, error = parse_body(b'{"type": "track", "event": "A",}')
    assert data is None and error.message == "malformed JSON: a trailing comma before } at line 1 column 32"
    assert (error.line, error.column, error.position) == (1, 32, 31)
    assert parse_body(b'{"nan": NaN, "big": 123456789012345678901234567890}')[1] is None


def test_a_body_deeper_than_json_loads_reaches_is_still_named():
    assert parse_body(b"[" * 100_000 + b"]" * 100_000)[1].message == "malformed JSON: nested too deeply"
    error = parse_body(b"[" * 100_000 + b"}")[1]
    assert error.message == "malformed JSON: expected a value or ] at line 1 column 100001"


def test_settings_that_are_not_json_are_named_in_our_words():
    _, error = decode_settings(base64.b64encode(b'{"region": "eu",}').decode())
    assert error == "decodes to text that is not JSON (a trailing comma before } at line 1 column 17)"

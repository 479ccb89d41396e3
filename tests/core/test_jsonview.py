"""pretty() writes a body as json.dumps does and knows the line of every JSON path in it."""

import json

from hypothesis import given, settings, strategies as st

from inspector.core.checks import member
from inspector.core.intake import received
from inspector.core.jsonview import MAX_DEPTH, compact, in_body, line_of, pretty, pretty_lines

from ..conftest import SEGMENT_HEADERS

_string = json.encoder.encode_basestring

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=40,
)


def walk(value, path="$", key=None, depth=0):
    """Every (path, key, depth) in a value, the slow recursive way, to check pretty() against."""
    yield path, key, depth
    if isinstance(value, dict):
        for name, item in value.items():
            yield from walk(item, member(path, name), name, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}[{index}]", None, depth + 1)


@settings(max_examples=300)
@given(json_values)
def test_text_is_json_dumps_and_every_path_is_on_its_line(value):
    text, paths = pretty(value)
    assert text == json.dumps(value, indent=2, ensure_ascii=False)
    lines = text.split("\n")  # not splitlines(): U+2028 inside a string is not a line break
    walked = list(walk(value))
    assert set(paths) == {path for path, _, _ in walked}
    for path, key, depth in walked:
        line = lines[paths[path]]
        assert line.startswith("  " * depth)
        if key is not None:
            assert line[2 * depth:].startswith(_string(key) + ": ")


def test_a_small_body_line_by_line():
    text, paths = pretty({"type": "track", "properties": {"products": [{"price": "9"}], "odd key": 1}})
    lines = text.split("\n")
    assert lines[paths["$.properties.products[0].price"]] == '        "price": "9"'
    assert lines[paths['$.properties["odd key"]']] == '    "odd key": 1'
    assert lines[paths["$.properties.products[0]"]] == "      {"
    assert paths["$"] == 0


def test_scalars_and_empty_containers():
    for value in (None, True, 0, -1.5, 10**30, "é\x1b", [], {}, [[]], {"a": {}}):
        text, paths = pretty(value)
        assert text == json.dumps(value, indent=2, ensure_ascii=False)
        assert paths["$"] == 0


def test_non_finite_floats_and_scalar_keys_as_json_dumps_writes_them():
    value = {1: float("nan"), None: float("inf"), False: float("-inf"), 2.5: []}
    text, paths = pretty(value)
    assert text == json.dumps(value, indent=2, ensure_ascii=False)
    assert set(paths) == {"$", '$["1"]', "$.null", "$.false", '$["2.5"]'}


def test_deep_nesting_stays_linear_and_never_recurses():
    deep = inner = []
    for _ in range(50_000):
        child = [1]
        inner.append(child)
        inner = child
    text, paths = pretty(deep)
    assert len(paths) <= 2 * MAX_DEPTH + 1
    assert len(text) < 20 * 50_000 + 2 * MAX_DEPTH ** 2
    assert text.count("\n") < 3 * MAX_DEPTH
    assert "[1, [1, [1, " in text


def test_below_the_depth_limit_the_text_is_still_json_dumps():
    deep = inner = {}
    for _ in range(MAX_DEPTH - 1):
        inner["a"] = {}
        inner = inner["a"]
    text, paths = pretty(deep)
    assert text == json.dumps(deep, indent=2, ensure_ascii=False)
    assert paths["$" + ".a" * (MAX_DEPTH - 1)] == MAX_DEPTH - 1


def test_compact_matches_json_dumps():
    value = {"a": [1, {"b": None}, [], {}], "c d": "x"}
    assert compact(value) == json.dumps(value, ensure_ascii=False)


def test_a_huge_string_is_one_line():
    text, paths = pretty({"s": "x" * 1_000_000})
    assert text.split("\n")[paths["$.s"]] == '  "s": "' + "x" * 1_000_000 + '"'


def test_batch_findings_are_relative_to_their_event():
    assert in_body("$.properties.price", 2) == "$[2].properties.price"
    assert in_body("$", 0) == "$[0]"
    assert in_body("$.a") == "$.a"
    assert in_body("header:Accept", 1) == "header:Accept"


def test_line_of_falls_back_to_the_enclosing_value():
    _, paths = pretty({"a": [{"b": 1}], 'x"y': {}})
    assert line_of(paths, "$.a[0].b") == 3
    assert line_of(paths, "$.a[0].missing") == 2
    assert line_of(paths, '$["x\\"y"].missing[3]') == paths['$["x\\"y"]']
    assert line_of(paths, "$.nothing.here") == 0
    assert line_of(paths, "header:Accept") is None
    assert line_of(paths, "$[unclosed") is None


def test_every_finding_of_the_linter_has_a_line():
    event = {"type": "track", "event": "order completed", "userId": 7, "timestamp": "yesterday",
             "properties": {"products": [{"price": "9.99"}], "Revenue": "x"}}
    body = json.dumps([event, event]).encode()
    exchange = received(method="POST", path="/", headers=list(SEGMENT_HEADERS.items()), body=body)
    _, paths = pretty(exchange.data)
    spec = [f for f in exchange.findings if f.path.startswith("$")]
    assert spec and {f.event for f in spec} == {0, 1}
    for finding in spec:
        assert line_of(paths, finding.path, finding.event) is not None
    price = next(f for f in spec if "price" in f.path and f.event == 1)
    assert line_of(paths, price.path, price.event) == paths["$[1].properties.products[0].price"]


@settings(max_examples=200, deadline=None)
@given(json_values, st.integers(min_value=0, max_value=8))
def test_pretty_lines_cut_long_strings_and_count_what_they_left_out(value, longest):
    """Each line is pretty()'s line with its long string cut, and says by how many characters."""
    whole, paths = pretty(value)
    lines, cut_paths, cut = pretty_lines(value, longest)
    assert cut_paths == paths
    full = whole.split("\n")
    assert len(lines) == len(full)
    for index, (line, original) in enumerate(zip(lines, full, strict=True)):
        if index in cut:
            assert cut[index] > 0 and len(line) < len(original)
        else:
            assert line == original


def test_a_string_of_megabytes_is_written_only_as_far_as_it_is_shown():
    lines, _, cut = pretty_lines({"blob": "b" * 8_000_000, "after": 1}, longest=100)
    assert lines[1] == '  "blob": "' + "b" * 100 + '",'
    assert cut == {1: 8_000_000 - 100} and lines[2] == '  "after": 1'

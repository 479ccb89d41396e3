"""Where a text stops being JSON and what is wrong there, in our words, the same on every Python.

The standard library words its errors differently from one release to the next (3.13 says
"Illegal trailing comma before end of object" where 3.11 says "Expecting property name
enclosed in double quotes", at another position), so its text is never shown. This scanner
follows the grammar `json.loads` accepts (RFC 8259, plus NaN, Infinity and -Infinity) and
stops at the first character that no JSON text can have there: the text before the error's
position is the start of some JSON text, the text up to and including it is not.

It keeps its nesting in a list, not on the call stack, and skips strings, whitespace and runs
of small values with regular expressions, so a body nested 100,000 deep or of 8 MiB costs
time in proportion to its length and no recursion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPACE = re.compile(r"[ \t\n\r]*")
_DIGITS = re.compile(r"[0-9]*")
_HEX = frozenset("0123456789abcdefABCDEF")
_WORDS = {"t": "true", "f": "false", "n": "null", "N": "NaN", "I": "Infinity"}
_NUMBER_START = frozenset("-0123456789")
# Runs of items each followed by a comma (`1, "a", [], {"k": [null]},` in an array, `"k": 1,
# "l": [2],` in an object) are skipped in one match, an item being a scalar or an array or
# object nested at most two deep: a flat array of 4 million numbers, or a batch of small
# events, is read without a Python step per value. Every group is atomic or possessive: nothing
# is kept to backtrack into.
_W = r"[ \t\n\r]*"
_STRING_BODY = r'[^"\\\x00-\x1f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*)*+'
_STRING_START = re.compile('"' + _STRING_BODY)  # a string up to its closing quote or its first error
_STRING = rf'"{_STRING_BODY}"'
_SCALAR = rf"(?>{_STRING}|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null|NaN|-?Infinity)"


def _containing(item: str) -> str:
    """An array of `item`s or an object whose values are `item`s, or a scalar."""
    member = rf"{_STRING}{_W}:{_W}{item}{_W}"
    return (rf"(?>{_SCALAR}|\[{_W}(?:(?:{item}{_W},{_W})*+{item}{_W})?\]"
            rf"|\{{{_W}(?:(?:{member},{_W})*+{member})?\}})")


_ITEM = _containing(_containing(_SCALAR))
_ELEMENTS = re.compile(rf"(?:{_ITEM}{_W},{_W})*+")
_MEMBERS = re.compile(rf"(?:{_STRING}{_W}:{_W}{_ITEM}{_W},{_W})*+")

# What may come next.
_VALUE, _FIRST_VALUE, _NAME, _FIRST_NAME, _COLON, _AFTER = range(6)
_AT_END = {
    _VALUE: "expected a value",
    _FIRST_VALUE: "expected a value or ]",
    _NAME: "expected a property name",
    _FIRST_NAME: "expected a property name or }",
    _COLON: "expected : after a property name",
}
_AFTER_ITEM = {"]": "expected , or ] after an element", "}": "expected , or } after a member"}


@dataclass(frozen=True, slots=True)
class JSONSyntaxError:
    """The first syntax error of a text: `position` is a 0-based character offset,
    `line` and `column` count from 1, as an editor does."""

    what: str
    position: int
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.what} at line {self.line} column {self.column}"


def _past(pattern: re.Pattern[str], text: str, pos: int) -> int:
    """Where `pattern`, which may match nothing, stops matching from `pos`."""
    match = pattern.match(text, pos)
    return pos if match is None else match.end()


class _Found(Exception):
    def __init__(self, what: str, position: int) -> None:
        self.what, self.position = what, position


def first_error(text: str) -> JSONSyntaxError | None:
    """The first syntax error in `text`, or None when `json.loads` would read it."""
    try:
        _scan(text)
    except _Found as found:
        position = found.position
        line_start = text.rfind("\n", 0, position) + 1
        return JSONSyntaxError(found.what, position, text.count("\n", 0, position) + 1,
                               position - line_start + 1)
    return None


def _scan(text: str) -> None:
    end = len(text)
    closers: list[str] = []  # the bracket each open array or object waits for, innermost last
    pos = _past(_SPACE, text, 0)
    expecting = _VALUE
    if text.startswith("\ufeff"):
        raise _Found("a byte order mark (U+FEFF) before the JSON value", 0)
    while True:
        if pos == end:
            if expecting == _AFTER:
                if closers:
                    raise _Found(_AFTER_ITEM[closers[-1]] + ", but the text ends", pos)
                return
            raise _Found(_AT_END[expecting] + ", but the text ends", pos)
        char = text[pos]
        if expecting == _AFTER:
            if not closers:
                raise _Found("extra data after the JSON value", pos)
            if char == ",":
                expecting = _VALUE if closers[-1] == "]" else _NAME
            elif char == closers[-1]:
                closers.pop()
            else:
                raise _Found(_AFTER_ITEM[closers[-1]], pos)
            pos = _past(_SPACE, text, pos + 1)
        elif expecting <= _FIRST_VALUE:
            if closers and closers[-1] == "]":
                run = _past(_ELEMENTS, text, pos)
                if run != pos:
                    pos, expecting = run, _VALUE
                    continue
            if char == "{":
                closers.append("}")
                expecting = _FIRST_NAME
                pos += 1
            elif char == "[":
                closers.append("]")
                expecting = _FIRST_VALUE
                pos += 1
            elif char == "]" and expecting == _FIRST_VALUE:
                closers.pop()
                expecting = _AFTER
                pos += 1
            else:
                pos = _scalar(text, pos, char, closers, expecting)
                expecting = _AFTER
            pos = _past(_SPACE, text, pos)
        elif expecting == _COLON:
            if char != ":":
                raise _Found("expected : after a property name", pos)
            expecting = _VALUE
            pos = _past(_SPACE, text, pos + 1)
        else:  # a property name, or the end of an object
            run = _past(_MEMBERS, text, pos)
            if run != pos:
                pos, expecting = run, _NAME
                continue
            if char == '"':
                pos = _string(text, pos)
                expecting = _COLON
            elif char == "}" and expecting == _FIRST_NAME:
                closers.pop()
                expecting = _AFTER
                pos += 1
            elif char == "}":
                raise _Found("a trailing comma before }", pos)
            else:
                raise _Found("a property name must be a string in double quotes", pos)
            pos = _past(_SPACE, text, pos)


def _scalar(text: str, pos: int, char: str, closers: list[str], expecting: int) -> int:
    """The position after the string, number or word at `pos`."""
    if char == '"':
        return _string(text, pos)
    if char in _NUMBER_START:
        return _number(text, pos)
    if char in _WORDS:
        return _word(text, pos, _WORDS[char])
    if char == "]" and closers and closers[-1] == "]":
        raise _Found("a trailing comma before ]", pos)
    if char == "'":
        raise _Found("a string must be in double quotes", pos)
    raise _Found("expected a value or ]" if expecting == _FIRST_VALUE else "expected a value", pos)


def _string(text: str, pos: int) -> int:
    """The position after the string whose opening quote is at `pos`."""
    end = len(text)
    pos = _past(_STRING_START, text, pos)
    if pos == end:
        raise _Found("an unterminated string", pos)
    char = text[pos]
    if char == '"':
        return pos + 1
    if char != "\\":
        raise _Found("a control character in a string", pos)
    pos += 1
    if pos == end:
        raise _Found("an unterminated string", pos)
    if text[pos] != "u":
        raise _Found("an invalid escape", pos)
    digit = pos + 1  # a \u escape the pattern did not take has fewer than four hex digits
    while digit < end and text[digit] in _HEX:
        digit += 1
    if digit == end:
        raise _Found("an unterminated string", digit)
    raise _Found("an invalid escape: \\u takes four hex digits", digit)


def _digits(text: str, pos: int, what: str) -> int:
    """The position after the one or more digits at `pos`."""
    if pos == len(text):
        raise _Found(what + ", but the text ends", pos)
    if not "0" <= text[pos] <= "9":
        raise _Found(what, pos)
    return _past(_DIGITS, text, pos + 1)


def _number(text: str, pos: int) -> int:
    """The position after the number (or -Infinity) at `pos`."""
    end = len(text)
    if text[pos] == "-":
        pos += 1
        if pos < end and text[pos] == "I":
            return _word(text, pos - 1, "-Infinity")
    if pos < end and text[pos] == "0":
        pos += 1
        if pos < end and "0" <= text[pos] <= "9":
            raise _Found("a leading zero in a number", pos)
    else:
        pos = _digits(text, pos, "expected a digit after -")
    if pos < end and text[pos] == ".":
        pos = _digits(text, pos + 1, "expected a digit after the decimal point")
    if pos < end and text[pos] in "eE":
        pos += 1
        if pos < end and text[pos] in "+-":
            pos += 1
        pos = _digits(text, pos, "expected a digit in the exponent")
    return pos


def _word(text: str, pos: int, word: str) -> int:
    """The position after `word` (true, false, null, NaN, Infinity, -Infinity) at `pos`."""
    if text.startswith(word, pos):
        return pos + len(word)
    for offset, expected in enumerate(word):
        at = pos + offset
        if at == len(text):
            raise _Found(f"expected {word}, but the text ends", at)
        if text[at] != expected:
            raise _Found(f"expected {word}", at)
    return pos + len(word)

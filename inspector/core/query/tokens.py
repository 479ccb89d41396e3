"""Tokens: the words, phrases, fields and keywords a query is read as, and how a value is
written back so that it reads the same."""

from __future__ import annotations

import re
from typing import NamedTuple


class QueryError(ValueError):
    """A query that cannot be read, with where in it the problem starts."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at position {position}")
        self.message = message
        self.position = position


_FIELD = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)(>=|<=|!=|:|>|<|=)")
_WORD_END = re.compile(r'[\s()"]')
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_ESCAPE = re.compile(r'\\(["\\])')
_KEYWORDS = ("AND", "OR", "NOT")


class Token(NamedTuple):
    kind: str  # "word", "phrase", "field", "(", ")", "AND", "OR", "NOT" or "end"
    pos: int
    text: str = ""  # the word, the phrase, or the field's value
    name: str = ""  # the field name as typed
    op: str = ""
    value_pos: int = 0
    quoted: bool = False


def _quoted(text: str, start: int) -> tuple[str, int]:
    found = _QUOTED.match(text, start)
    if not found:
        raise QueryError("unterminated quote", start)
    return _ESCAPE.sub(r"\1", found[1]), found.end()


def tokenize(text: str) -> list[Token]:
    tokens = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i == n:
            tokens.append(Token("end", n))
            return tokens
        char = text[i]
        if char in "()":
            tokens.append(Token(char, i))
            i += 1
        elif char == "-":
            tokens.append(Token("NOT", i, "-"))
            i += 1
        elif char == '"':
            phrase, end = _quoted(text, i)
            tokens.append(Token("phrase", i, phrase))
            i = end
        else:
            stop = _WORD_END.search(text, i)
            end = stop.start() if stop else n
            field = _FIELD.match(text, i, end)
            if field:
                start = field.end()
                quoted = text.startswith('"', start)
                if quoted:
                    value, end = _quoted(text, start)
                else:
                    value = text[start:end]
                tokens.append(Token("field", i, value, field[1], field[2], start, quoted))
            else:
                word = text[i:end]
                tokens.append(Token(word if word in _KEYWORDS else "word", i, word))
            i = end



def show(value: str, *, word: bool = False) -> str:
    """The value as it would be typed: bare when that reads back the same, else quoted."""
    bare = value and not re.search(r'[\s()"]', value)
    if word and bare:
        bare = not value.startswith("-") and value not in _KEYWORDS and not _FIELD.match(value)
    if bare:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


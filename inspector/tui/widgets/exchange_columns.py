"""The exchange list's columns: their widths, and one exchange drawn as a line of them.

Column widths depend on the width only, never on the data: the event column takes what
is spare; the user column, then the findings column, go before the event name is cut.

Every field shown comes from an untrusted request, so lines are built from `Segment`s
holding `inert()` text: nothing is parsed as markup and no escape sequence reaches the
terminal.
"""

from __future__ import annotations

import functools
import time

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from inspector.core import naming
from inspector.core.model import Summary, segment_outcome
from inspector.core.text import inert

OUTCOME_WORD = {"delivered": "ok", "retried": "retry", "dropped": "drop"}

_TIME, _ANSWER, _TYPE, _MARKS = 8, 9, 9, 3
_USER, _USER_MAX, _FINDINGS = 20, 36, 8
_EVENT_WANTED, _EVENT_MIN, _EVENT_MAX = 24, 16, 40
_BASE = _TIME + _ANSWER + _TYPE + _MARKS + 4  # and one space after each of the first four
_GAP = Segment(" ")

_STATUS_STYLES = {
    2: Style(color="green"),
    3: Style(color="cyan"),
    4: Style(color="yellow"),
    5: Style(color="red"),
}
_HELD_STYLE = Style(color="magenta", bold=True)
_WAITING_STYLE = Style(dim=True)
_OUTCOME_STYLES = {"ok": Style(dim=True), "retry": Style(color="yellow"), "drop": Style(color="red")}
_SEVERITY_MARKS = (
    ("error", "E", Style(color="red")),
    ("warning", "W", Style(color="yellow")),
    ("info", "I", Style(dim=True)),
)
_MARK_STYLE = Style(color="magenta")

LEGEND = (
    ("time", "when the request arrived (local time)"),
    ("answer", "the status we answered, then what Segment does with it: ok (delivered), "
               "retry (it sends again), drop (it gives up)"),
    ("HELD 23s", "held: answer it with a digit or r; the default answer goes in 23 s"),
    ("...", "not answered yet"),
    ("type", "the call: track, identify, page, screen, group, alias, delete; batch(N) for N events"),
    ("event", "the event name; for other calls what identifies them; METHOD /path for a request "
              "with no event"),
    ("user", "userId, else anonymousId (hidden first when the list is narrow)"),
    ("findings", "2E 1W 3I: errors, warnings and notes found (hidden next)"),
    ("●", "marked with m, for export"),
    ("↻2", "Segment's 2nd redelivery of a messageId seen before"),
    ("3 new ↑", "arrivals out of view since you moved the cursor; n jumps to the newest"),
)
"""What each column and symbol means, for the help screen and the README."""


def fit(text: str, width: int) -> str:
    """Untrusted text made inert and cut or padded to exactly `width` cells."""
    if width <= 0:
        return ""
    text = inert(text).replace("\t", " ")
    if cell_len(text) > width:
        text = set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)


@functools.lru_cache(maxsize=64)
def columns(width: int) -> tuple[int, int, int]:
    """Widths of the event, user and findings columns (0: not shown) in this many cells."""
    spare = max(0, width - _BASE)
    findings = _FINDINGS if spare - _FINDINGS - 1 >= _EVENT_MIN else 0
    spare -= findings + (1 if findings else 0)
    user = 0
    if spare - _USER - 1 >= _EVENT_WANTED:
        user = min(_USER_MAX, max(_USER, spare - 1 - _EVENT_MAX))
        spare -= user + 1
    return spare, user, findings


@functools.lru_cache(maxsize=1024)
def _clock(second: int) -> str:
    return time.strftime("%H:%M:%S", time.localtime(second))


def row_segments(summary: Summary, width: int, *, marked: bool, held_for: int | None) -> list[Segment]:
    """One exchange as segments of plain, inert text, column by column; `held_for`: the
    seconds left before a held request gets the default answer."""
    event_width, user_width, findings_width = columns(width)
    kind, what, user = naming.kind(summary), naming.title(summary), naming.person(summary)
    marks = ("●" if marked else "") + (f"↻{summary.redelivery}" if summary.redelivery else "")
    segments = [
        Segment(_clock(int(summary.time))), _GAP,
        *_answer(summary, held_for), _GAP,
        Segment(fit(kind, _TYPE)), _GAP,
        Segment(fit(what, event_width)), _GAP,
    ]
    if user_width:
        segments += [Segment(fit(user, user_width)), _GAP]
    if findings_width:
        segments += [*_finding_counts(summary), _GAP]
    segments.append(Segment(fit(marks, _MARKS), _MARK_STYLE))
    return segments


def header_strip(width: int, unseen: int, newest_first: bool) -> Strip:
    """The column names for rows `width` cells wide, and how many arrivals are out of view."""
    event_width, user_width, findings_width = columns(width)
    names = [("time", _TIME), ("answer", _ANSWER), ("type", _TYPE), ("event", event_width),
             ("user", user_width), ("findings", findings_width)]
    text = " ".join(fit(name, size) for name, size in names if size)
    if unseen:
        note = f" {unseen:,} new {'↑' if newest_first else '↓'} n "
        strip = Strip([Segment(fit(text, max(0, width - cell_len(note)))),
                       Segment(note, Style(reverse=True, bold=True))])
    else:
        strip = Strip([Segment(fit(text, width))])
    return strip.crop_extend(0, width, None)


def _answer(summary: Summary, held_for: int | None) -> list[Segment]:
    """`200 ok`: our status and what Segment does then; `HELD 23s` while held."""
    if summary.status is not None:
        outcome = OUTCOME_WORD[segment_outcome(summary.status)]
        return [Segment(fit(str(summary.status), 3), _STATUS_STYLES.get(summary.status // 100)),
                _GAP, Segment(fit(outcome, _ANSWER - 4), _OUTCOME_STYLES.get(outcome))]
    if held_for is not None:
        return [Segment(fit(f"HELD {held_for}s", _ANSWER), _HELD_STYLE)]
    if summary.held:
        return [Segment(fit("HELD", _ANSWER), _HELD_STYLE)]
    return [Segment(fit("...", _ANSWER), _WAITING_STYLE)]


def _finding_counts(summary: Summary) -> list[Segment]:
    """`2E 1W 3I`, each count in its severity's color, padded to the column."""
    segments: list[Segment] = []
    used = 0
    for severity, letter, style in _SEVERITY_MARKS:
        count = summary.severities.count(severity)
        if count:
            text = f"{count}{letter}" if not segments else f" {count}{letter}"
            segments.append(Segment(text, style))
            used += len(text)
    if used > _FINDINGS:
        return [Segment(fit("".join(s.text for s in segments), _FINDINGS), _SEVERITY_MARKS[0][2])]
    segments.append(Segment(" " * (_FINDINGS - used)))
    return segments

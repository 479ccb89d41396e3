"""The detail pane: each tab shows what arrived and what we answered, safely and quickly."""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import TabbedContent

from inspector.core.intake import received
from inspector.core.jsonview import pretty
from inspector.core.model import OUTCOME_TEXT, Answer, Exchange, Redelivery
from inspector.tui.widgets.detail.body import HIGHLIGHT_LINES, BodyView
from inspector.tui.widgets.detail.findings import FindingsView
from inspector.tui.widgets.detail.pane import AUTH_TAB, BODY_TAB, FINDINGS_TAB, HEADERS_TAB, RESPONSE_TAB, DetailPane

from ..conftest import SEGMENT_HEADERS, basic
from ..waiting import pilot_until

NOW = 1_704_067_200.0  # 2024-01-01T00:00:00Z
SIZE = (110, 40)




def event(n: int = 0, **fields: Any) -> dict[str, Any]:
    value = {"type": "track", "event": "Order Completed", "userId": f"user-{n}", "messageId": f"msg-{n}",
             "timestamp": "2024-01-01T00:00:00.000Z", "properties": {"revenue": 19.99}}
    value.update(fields)
    return value


def exchange(body: Any, headers: dict[str, str] | None = None, *, extra: list[tuple[str, str]] = (),
             answer: Answer | None = None) -> Exchange:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    pairs = list((SEGMENT_HEADERS if headers is None else headers).items())
    pairs.append(("Content-Length", str(len(raw))))
    result = received(method="POST", path="/", headers=pairs + list(extra), body=raw, now=NOW)
    result.answer = answer or Answer(200, b'{"ok": true}')
    return result


class Host(App[None]):
    """Just the detail pane, recording the jumps that reach the app."""

    def __init__(self) -> None:
        super().__init__()
        self.jumps: list[FindingsView.Jump] = []

    def compose(self) -> ComposeResult:
        yield DetailPane()

    def on_findings_view_jump(self, message: FindingsView.Jump) -> None:
        self.jumps.append(message)


def screen_text(app: App[Any], tmp_path: Path, name: str) -> str:
    """The screen as text, read back from the SVG screenshot, one row per line."""
    path = app.save_screenshot(path=str(tmp_path), filename=f"{name}.svg")
    svg = Path(path).read_text()
    rows: dict[int, list[tuple[float, str]]] = {}
    for match in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="[\d.]+" textLength="[\d.]+" '
                             r'clip-path="url\(#[\w-]+-line-(\d+)\)">([^<]*)</text>', svg):
        rows.setdefault(int(match.group(2)), []).append(
            (float(match.group(1)), html.unescape(match.group(3)).replace("\xa0", " ")))
    lines = []
    for row in sorted(rows):
        line = ""
        for x, text in sorted(rows[row]):
            line = line.ljust(round(x / 12.2)) + text
        lines.append(line.rstrip())
    return "\n".join(lines)


async def show_tab(pilot: Any, tab: str) -> None:
    pilot.app.query_one(TabbedContent).active = tab
    await pilot.pause()


async def test_without_an_exchange_the_pane_shows_a_hint(tmp_path: Path) -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app, tmp_path, "empty")
        assert "Select an exchange" in text
        assert "Findings" not in text


async def test_every_tab_shows_its_part_of_the_exchange(tmp_path: Path) -> None:
    settings = base64.b64encode(json.dumps({"region": "eu", "apiKey": "k-1"}).encode()).decode()
    headers = dict(SEGMENT_HEADERS, Authorization=basic("segment-key"), **{"User-Agent": "curl/8.4.0"})
    del headers["Accept"]
    sent = exchange(event(userId=7), headers, extra=[("X-Segment-Settings", settings)],
                    answer=Answer(200, b'{"accepted": 1}', "rule 2", "type == track", delay=0.5))
    sent.duration = 0.0123
    sent.redelivery = Redelivery("01HFIRST", 2, 3.5)
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(DetailPane).show(sent)
        await pilot.pause()

        body = screen_text(app, tmp_path, "body")
        assert "Findings (3)" in body
        assert '"event": "Order Completed",' in body
        assert '"userId": 7,' in body
        assert re.search(r"^ +1 +\{$", body, re.M), "line numbers in a gutter"

        await show_tab(pilot, HEADERS_TAB)
        headers_text = screen_text(app, tmp_path, "headers")
        assert "Not Segment's headers: 2 differences" in headers_text
        lines = headers_text.splitlines()
        agent = next(i for i, line in enumerate(lines) if "User-Agent: curl/8.4.0" in line)
        assert "HDR008" in lines[agent + 1] and "info" in lines[agent + 1]
        assert lines.index(" Missing") > agent
        assert "HDR001" in headers_text.split(" Missing")[1]
        assert "Authorization: " + basic("segment-key") in headers_text

        await show_tab(pilot, AUTH_TAB)
        auth_text = screen_text(app, tmp_path, "auth")
        assert re.search(r"API key +segment-key", auth_text)
        assert re.search(r"Scheme +Basic", auth_text)
        assert re.search(r"Password +\(empty\)", auth_text)
        assert '"region": "eu",' in auth_text and '"apiKey": "k-1"' in auth_text

        await show_tab(pilot, FINDINGS_TAB)
        findings_text = screen_text(app, tmp_path, "findings")
        for code in ("SPEC009", "HDR001", "HDR008"):
            assert code in findings_text
        assert "$.userId" in findings_text
        assert findings_text.index("warning") < findings_text.index("info"), "worse findings first"

        await show_tab(pilot, RESPONSE_TAB)
        response_text = screen_text(app, tmp_path, "response")
        assert re.search(r"Status +200 OK", response_text)
        assert re.search(r"Chosen by +rule 2: type == track", response_text)
        assert re.search(r"Delay +0.5 s", response_text)
        assert re.search(r"Duration +12.3 ms", response_text)
        assert "2nd redelivery of 01HFIRST, 3.5 s after the first" in response_text
        assert OUTCOME_TEXT["delivered"] in response_text
        assert '"accepted": 1' in response_text


async def test_segments_own_headers_are_said_to_be_sent_by_segment(tmp_path: Path) -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(DetailPane).show(exchange(event(), answer=Answer(503, b"")))
        await show_tab(pilot, HEADERS_TAB)
        assert "Sent by Segment: every header is as Segment sends it" in screen_text(app, tmp_path, "h")
        await show_tab(pilot, AUTH_TAB)
        assert "not sent" in screen_text(app, tmp_path, "a")
        await show_tab(pilot, RESPONSE_TAB)
        response_text = screen_text(app, tmp_path, "r")
        assert re.search(r"Status +503 Service Unavailable", response_text)
        assert OUTCOME_TEXT["retried"] in response_text


async def test_choosing_a_finding_scrolls_the_body_to_its_line(tmp_path: Path) -> None:
    batch = [event(n) for n in range(60)]
    batch[30] = event(30, properties={"revenue": 1, "products": [{"price": "x"}]})
    sent = exchange(batch)
    _, paths = pretty(batch)
    line = paths["$[30].properties.products[0].price"]
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(DetailPane).show(sent)
        await show_tab(pilot, FINDINGS_TAB)
        findings = app.query_one(FindingsView)
        target = next(i for i, f in enumerate(findings.findings) if f.code == "SPEC020")
        findings.focus()
        findings.highlighted = target
        await pilot.press("enter")
        await pilot.pause()

        assert app.query_one(TabbedContent).active == BODY_TAB
        body = app.query_one(BodyView)
        assert body.has_focus
        assert body.marked_line == line
        assert body.scroll_offset.y == line - 3
        assert body.visible_lines()[3] == '          "price": "x"'
        text = screen_text(app, tmp_path, "jump")
        assert re.search(rf"^ *{line + 1:,}▸ +\"price\": \"x\"$", text, re.M), text
        assert not app.jumps, "the pane handles the jump; it does not reach the app"


async def test_clicking_a_header_finding_opens_the_headers_tab() -> None:
    headers = dict(SEGMENT_HEADERS)
    del headers["Accept"]
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(DetailPane).show(exchange(event(), headers))
        await show_tab(pilot, FINDINGS_TAB)
        assert [f.code for f in app.query_one(FindingsView).findings] == ["HDR001"]
        await pilot.click(FindingsView, offset=(4, 1))
        await pilot.pause()
        assert app.query_one(TabbedContent).active == HEADERS_TAB


async def test_a_malformed_body_shows_where_the_json_breaks(tmp_path: Path) -> None:
    broken = b'{"type": "track",\n  "event": "Order Completed"\n  "userId": "u1"}'
    sent = exchange(broken)
    assert sent.body_error is not None and sent.body_error.line == 3
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(DetailPane).show(sent)
        await pilot.pause()
        body = app.query_one(BodyView)
        assert body.raw
        text = screen_text(app, tmp_path, "malformed")
        assert "✗ malformed JSON: expected , or } after a member at line 3 column 3" in text
        assert re.search(r'^ +3▸ +"userId": "u1"}$', text, re.M), text
        assert "v: pretty JSON" not in text
        body.focus()
        await pilot.press("v")
        assert body.raw, "there is no JSON to switch to"
        await show_tab(pilot, FINDINGS_TAB)
        shown = screen_text(app, tmp_path, "malformed-findings")
        assert "Findings (1)" in shown and "REQ003" in shown


async def test_the_raw_view_shows_the_exact_text_received(tmp_path: Path) -> None:
    raw = b'{"type":"track",\t"event":"caf\xc3\xa9","name":"\xff"}'
    sent = exchange(raw)
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(DetailPane).show(sent)
        await pilot.pause()
        body = app.query_one(BodyView)
        assert body.raw, "not UTF-8, so not JSON"
        text = screen_text(app, tmp_path, "raw")
        assert "not UTF-8" in text
        assert '{"type":"track",    "event":"café","name":"\ufffd"}' in text

        app.query_one(DetailPane).show(exchange(b'{"a":\r\n 1}'))
        await pilot.pause()
        assert not body.raw
        body.focus()
        await pilot.press("v")
        assert body.raw
        assert body.visible_lines() == ['{"a":\\x0d', " 1}"]
        await pilot.press("v")
        assert body.visible_lines() == ["{", '  "a": 1', "}"]


async def test_a_one_megabyte_body_shows_without_hanging(tmp_path: Path) -> None:
    batch = [event(n, properties={"revenue": n, "note": "x" * 300}) for n in range(2_400)]
    sent = exchange(batch)
    assert len(sent.body) > 1_000_000
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(DetailPane).show(sent)
        assert any(worker.group == "body-layout" for worker in app.workers), \
            "large bodies are laid out off the UI thread"
        body = app.query_one(BodyView)
        await pilot_until(pilot, lambda: body.laid_out is not None, what="the body is laid out")
        await pilot_until(pilot, lambda: f"Colours stop after line {HIGHLIGHT_LINES:,}"
                          in screen_text(app, tmp_path, "large"), what="the laid-out body is shown")
        assert len(body.laid_out.json) > 20_000

        body.focus()
        await pilot.press("end")
        await pilot_until(pilot, lambda: body.visible_lines()[-1:] == ["]"], what="the end is shown")
        assert app.query_one(DetailPane).show(sent) is None


async def test_a_jump_into_a_body_still_being_laid_out_lands_when_it_is_ready() -> None:
    batch = [event(n, properties={"note": "x" * 500}) for n in range(200)]
    sent = exchange(batch)
    _, paths = pretty(batch)
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(DetailPane).show(sent)
        body = app.query_one(BodyView)
        assert body.show_path("$.properties.note", 150) is False
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert body.marked_line == paths["$[150].properties.note"]


async def test_a_long_line_is_cut_and_says_how_much_is_left() -> None:
    sent = exchange(event(properties={"note": "y" * 50_000}))
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(DetailPane).show(sent)
        await pilot.pause()
        body = app.query_one(BodyView)
        body.focus()
        await pilot.press("v")
        line = body.visible_lines()[0]
        assert line.endswith(" more characters")
        assert len(line) < 10_100


async def test_request_text_is_shown_literally_and_never_acted_on(tmp_path: Path) -> None:
    evil = "\x1b]0;pwned\x07"
    csi = "\x9b2J"
    properties = {csi: "[bold]x[/bold]", "[/]": 1, "[/]x\x1b": 1, "[/]X\x1b": 2}
    sent = exchange(
        event(event="[@click=app.quit]x[/]", messageId=evil, properties=properties),
        dict(SEGMENT_HEADERS, Authorization=basic(f"key{evil}{csi}[/]")),
        extra=[("X-Markup", "[bold]x[/bold]"), ("X-Escape", f"{evil} {csi}"), ("[/]", "[@click=app.quit]")],
        answer=Answer(200, b"", "rule 1", 'event == "[/]"'),
    )
    assert sent.auth.key == f"key{evil}{csi}[/]"

    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(DetailPane).show(sent)
        await pilot.pause()
        shown = {}
        for tab in (BODY_TAB, HEADERS_TAB, AUTH_TAB, FINDINGS_TAB, RESPONSE_TAB):
            await show_tab(pilot, tab)
            shown[tab] = screen_text(app, tmp_path, tab)
            svg = app.export_screenshot()
            assert "\x1b" not in svg and "\x9b" not in svg and "\x07" not in svg

        assert '"event": "[@click=app.quit]x[/]",' in shown[BODY_TAB]
        assert '"messageId": "\\u001b]0;pwned\\u0007",' in shown[BODY_TAB]
        assert '"\\u009b2J": "[bold]x[/bold]",' in shown[BODY_TAB]
        assert '"[/]": 1' in shown[BODY_TAB]
        assert "X-Markup: [bold]x[/bold]" in shown[HEADERS_TAB]
        assert "X-Escape: \\x1b]0;pwned\\x07 \\x9b2J" in shown[HEADERS_TAB]
        assert "[/]: [@click=app.quit]" in shown[HEADERS_TAB]
        assert "key\\x1b]0;pwned\\x07\\x9b2J[/]" in shown[AUTH_TAB]
        assert '$.properties["[/]X\\x1b"]' in shown[FINDINGS_TAB]
        assert 'rule 1: event == "[/]"' in shown[RESPONSE_TAB]

        await show_tab(pilot, BODY_TAB)
        body = app.query_one(BodyView)
        row = next(i for i, line in enumerate(body.visible_lines()) if "@click" in line)
        await pilot.click(BodyView, offset=(20, row + 1))
        await pilot.pause()
        assert app.is_running
        assert app.return_code is None

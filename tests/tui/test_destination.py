"""The Destination tab and the forwarding keys: what Segment sent beside what the endpoint said."""

from __future__ import annotations

from pathlib import Path

from inspector.core.checks.answers import judge
from inspector.core.history import History
from inspector.core.hub import Hub
from inspector.core.model import Answer, Destination
from inspector.core.policy import Forward, Policy
from inspector.tui.app import InspectorApp
from inspector.tui.screens.forward import ForwardScreen
from inspector.tui.widgets.detail.pane import DESTINATION_TAB, DetailPane

from .test_detail import SIZE, Host, event, exchange, screen_text, show_tab


def forwarded(answer_headers, body: bytes, status: int | None = 500, error: str | None = None):
    sent = exchange(event(), answer=Answer(status or 503, body, "forward", "http://localhost:3000/"))
    sent.destination = Destination("http://localhost:3000/", status, answer_headers, body, 0.0421, error)
    sent.findings += judge(sent, sent.destination)
    return sent


async def test_request_and_response_side_by_side_with_the_answer_findings(tmp_path: Path) -> None:
    sent = forwarded([("Content-Type", "text/html"), ("X-Evil", "\x1b]0;pwned\x07[bold]x[/]")],
                     b"<html>[@click=app.quit]boom</html>")
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(DetailPane).show(sent)
        await show_tab(pilot, DESTINATION_TAB)
        text = screen_text(app, tmp_path, "destination")
        assert "\x1b" not in app.export_screenshot()
    request_row = next(line for line in text.splitlines() if "Request from Segment" in line)
    assert "Response from destination" in request_row  # two columns, one row
    assert "500 Internal Server Error" in text and "42.1 ms" in text
    assert "X-Evil: \\x1b]0;pwned\\x07[bold]x[/]" in text
    assert "<html>[@click=app.quit]boom</html>" in text
    assert "ANS008" in text and "retried" in text
    assert "Findings on the answer (2)" in text


async def test_a_narrow_pane_stacks_the_response_under_the_request(tmp_path: Path) -> None:
    sent = forwarded([("Content-Type", "application/json")], b'{"message": "a long message that would wrap"}')
    app = Host()
    async with app.run_test(size=(80, 40)) as pilot:
        app.query_one(DetailPane).show(sent)
        await show_tab(pilot, DESTINATION_TAB)
        text = screen_text(app, tmp_path, "stacked")
    rows = text.splitlines()
    request = next(n for n, line in enumerate(rows) if "Request from Segment" in line)
    response = next(n for n, line in enumerate(rows) if "Response from destination" in line)
    assert response > request and "Response" not in rows[request]
    assert '"message": "a long message that would wrap"' in text, "the JSON is not cut mid-value"


async def test_not_forwarded_says_how_to_forward(tmp_path: Path) -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(DetailPane).show(exchange(event()))
        await show_tab(pilot, DESTINATION_TAB)
        assert "Press f to forward" in screen_text(app, tmp_path, "none")


async def test_no_answer_is_shown_with_why(tmp_path: Path) -> None:
    sent = forwarded([], b"", status=None, error="cannot connect: connection refused")
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(DetailPane).show(sent)
        await show_tab(pilot, DESTINATION_TAB)
        text = screen_text(app, tmp_path, "down")
    assert "no answer" in text and "connection refused" in text and "ANS013" in text


async def test_f_sets_and_clears_the_forward_url(tmp_path: Path) -> None:
    history = History(tmp_path).load()
    history.start_session()
    hub = Hub(history, Policy())
    app = InspectorApp(hub)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f")
        assert isinstance(app.screen, ForwardScreen)
        await pilot.press(*"http://localhost:3000/s", "enter")
        await pilot.pause()
        assert hub.forward == Forward("http://localhost:3000/s")
        await pilot.press("f")
        await pilot.press("tab", "space")  # the mirror checkbox
        await pilot.click("#ok")
        await pilot.pause()
        assert hub.forward == Forward("http://localhost:3000/s", mirror=True)
        await pilot.press("f", "ctrl+u", "enter")
        await pilot.pause()
        assert hub.forward is None
        await pilot.press("F")  # nothing held: only a notice
        await pilot.pause()
    history.close()

"""Review from the palette: the form, the checks as they complete, a failure opened, the report saved."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input, Static

from inspector.core.hub import Hub
from inspector.core.policy import Policy
from inspector.core.store import History
from inspector.tui.app import InspectorApp
from inspector.tui.commands import COMMANDS
from inspector.tui.screens.review import ReviewRunScreen, ReviewScreen
from inspector.tui.widgets.detail.pane import DetailPane

from ..review.endpoints import KEY, serving
from .test_delivery import until


async def test_a_review_runs_from_the_palette_and_opens_its_failures(tmp_path: Path) -> None:
    assert ("review: run against URL…", "review") in [(title, action) for title, action, _ in COMMANDS]
    history = History(tmp_path).load()
    history.start_session()
    app = InspectorApp(Hub(history, Policy()))
    try:
        async with serving("no-delete") as url, app.run_test(size=(160, 45)) as pilot:
            await app.run_action("review")
            await until(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.query("#url"),
                        "the review form opens")
            app.screen.query_one("#url", Input).value = url
            app.screen.query_one("#key", Input).value = KEY
            app.screen.submit()
            await until(pilot, lambda: isinstance(app.screen, ReviewRunScreen), "the run screen opens")
            screen = app.screen
            await until(pilot, lambda: screen.report is not None, "the review finishes", timeout=60)
            checks = screen.query_one("#checks", DataTable)
            assert checks.row_count == len(screen.report.checks) == 13
            assert "failed" in str(screen.query_one("#progress", Static).render())
            row = [check.id for check in screen.report.checks].index("delete")
            checks.move_cursor(row=row)
            pane = screen.query_one(DetailPane)
            await until(pilot, lambda: pane.exchange is not None, "the failure opens")
            assert pane.exchange.destination.status == 501 and pane.exchange.events[0].type == "delete"
            await pilot.press("ctrl+s")
            saved = tmp_path / f"review-{screen.report.session}.md"
            await until(pilot, saved.exists, "the report is written")
            assert "| FAIL |" in saved.read_text()
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, ReviewRunScreen), "escape closes")
    finally:
        history.close()
    kept = History(tmp_path).load()
    assert len(kept) == screen.report.sent  # every request of the review, in a session of its own

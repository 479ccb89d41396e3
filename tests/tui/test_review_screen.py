"""Review from the palette: the form, the checks as they complete, a failure opened, the report saved."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input, Static

from inspector.core.history import History
from inspector.core.hub import Hub
from inspector.core.policy import Policy
from inspector.core.query import parse
from inspector.tui.app import InspectorApp
from inspector.tui.commands import COMMANDS
from inspector.tui.screens.delivery import DeliveryScreen
from inspector.tui.screens.review import ReviewRunScreen, ReviewScreen
from inspector.tui.widgets.detail.pane import DetailPane
from inspector.tui.widgets.exchange_list import ExchangeList

from ..review.endpoints import KEY, serving
from ..waiting import pilot_until


async def start_review(app: InspectorApp, pilot, url: str) -> ReviewRunScreen:
    """Open the review form from the palette's action, fill it in for `url` and send it."""
    await app.run_action("review")
    await pilot_until(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.query("#url"),
                      what="the review form opens")
    app.screen.query_one("#url", Input).value = url
    app.screen.query_one("#key", Input).value = KEY
    app.screen.submit()
    await pilot_until(pilot, lambda: isinstance(app.screen, ReviewRunScreen), what="the run screen opens")
    assert isinstance(app.screen, ReviewRunScreen)
    return app.screen


async def test_a_review_runs_from_the_palette_and_opens_its_failures(tmp_path: Path) -> None:
    assert ("review: run against URL…", "review") in [(title, action) for title, action, _ in COMMANDS]
    history = History(tmp_path).load()
    history.start_session()
    app = InspectorApp(Hub(history, Policy()))
    try:
        async with serving("no-delete") as url, app.run_test(size=(160, 45)) as pilot:
            screen = await start_review(app, pilot, url)
            await pilot_until(pilot, lambda: screen.report is not None, what="the review finishes", timeout=60)
            checks = screen.query_one("#checks", DataTable)
            assert checks.row_count == len(screen.report.checks) == 14
            assert "failed" in str(screen.query_one("#progress", Static).render())
            row = [check.id for check in screen.report.checks].index("delete")
            checks.move_cursor(row=row)
            pane = screen.query_one(DetailPane)
            await pilot_until(pilot, lambda: pane.exchange is not None, what="the failure opens")
            assert pane.exchange.destination.status == 501 and pane.exchange.events[0].type == "delete"
            await pilot.press("ctrl+s")
            saved = tmp_path / f"review-{screen.report.id}.md"
            await pilot_until(pilot, saved.exists, what="the report is written")
            assert "| FAIL |" in saved.read_text() and saved.stat().st_mode & 0o777 == 0o600
            await pilot.press("escape")
            await pilot_until(pilot, lambda: not isinstance(app.screen, ReviewRunScreen), what="escape closes")
            # The running app shows the review's requests without a restart: in the list...
            listed = app.query_one(ExchangeList)
            await pilot_until(pilot, lambda: listed.row_count == screen.report.sent,
                              what="the list holds every request")
            failure = pane.exchange.id
            assert failure in {summary.id for summary in app.hub.search(parse("kind:review"))}
            # ...and in Event Delivery, where the endpoint's 501 to a delete is a group of its own.
            await pilot.press("D")
            await pilot_until(pilot, lambda: isinstance(app.screen, DeliveryScreen) and app.screen.report is not None,
                              what="Event Delivery counts")
            groups = [group for group in app.screen.report.groups if failure in group.ids]
            assert len(groups) == 1 and groups[0].status == 501
            assert app.screen.report.total == screen.report.sent
    finally:
        history.close()
    kept = History(tmp_path).load()
    assert len(kept) == screen.report.sent  # every request of the review, in the running session
    sent = [kept.get(summary.id) for summary in kept.search(None)]
    assert {e.kind for e in sent} == {"review"} and {e.session for e in sent} == {screen.report.session}
    assert all(e.peer.startswith(f"review {screen.report.id}: ") for e in sent)


async def test_a_review_that_cannot_run_says_why_on_its_screen(tmp_path: Path, monkeypatch) -> None:
    from inspector.review import tester

    monkeypatch.setattr(tester, "TEMPLATES", tmp_path / "gone")  # the package changed under the running app
    history = History(tmp_path / "data").load()
    history.start_session()
    app = InspectorApp(Hub(history, Policy()))
    try:
        async with serving() as url, app.run_test(size=(160, 45)) as pilot:
            progress = (await start_review(app, pilot, url)).query_one("#progress", Static)
            await pilot_until(pilot, lambda: "the review stopped: FileNotFoundError" in str(progress.render()),
                              what="the error on the screen, not starting…")
    finally:
        history.close()

"""The Findings tab shows each finding's page of Segment's docs, and `l` opens it."""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult

from inspector.core.checks import url_for
from inspector.tui.widgets.detail.findings import FindingsView
from inspector.tui.widgets.detail.pane import FINDINGS_TAB, DetailPane

from ..waiting import until
from .test_detail import SIZE, event, exchange, screen_text, show_tab


class Browser(App[None]):
    """The detail pane, with the browser replaced by a list of the URLs it was asked to open."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    def compose(self) -> ComposeResult:
        yield DetailPane()

    def open_url(self, url: str, *, new_tab: bool = True) -> None:
        self.opened.append(url)


async def test_each_finding_shows_its_link_and_l_opens_it(tmp_path: Path) -> None:
    sent = exchange(event(event="Purchase", properties={"revenue": "19.99"}))
    app = Browser()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(DetailPane).show(sent)
        await show_tab(pilot, FINDINGS_TAB)
        findings = app.query_one(FindingsView)
        text = screen_text(app, tmp_path, "links")
        for finding in findings.findings:
            assert url_for(finding.code) in text, finding.code
        target = next(i for i, f in enumerate(findings.findings) if f.code == "SPEC042")
        findings.focus()
        findings.highlighted = target
        await pilot.press("l")
        await until(lambda: app.opened, 10, "the link to be opened")
        assert app.opened == ["https://segment.com/docs/connections/spec/semantic/"]


async def test_l_without_findings_opens_nothing(tmp_path: Path) -> None:
    app = Browser()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(DetailPane).show(exchange(event()))
        await show_tab(pilot, FINDINGS_TAB)
        findings = app.query_one(FindingsView)
        assert findings.findings == []
        findings.focus()
        await pilot.press("l")
        await pilot.press("enter")
        assert "No findings." in screen_text(app, tmp_path, "none")
        assert app.opened == []

"""The hub is the UIs' only door: the TUI never reaches the history or the policy behind it."""

from __future__ import annotations

import re
from pathlib import Path

import inspector
from inspector.core.history import History
from inspector.core.hub import Hub

TUI = Path(inspector.__file__).parent / "tui"


def test_the_tui_talks_to_the_hub_only() -> None:
    behind = [f"{path.relative_to(TUI)}:{number}: {line.strip()}"
              for path in sorted(TUI.rglob("*.py"))
              for number, line in enumerate(path.read_text().splitlines(), 1)
              if re.search(r"hub\.(history|policy)\b", line)]
    assert behind == []


def test_the_hub_names_the_session_and_the_data_directory(tmp_path: Path) -> None:
    history = History(tmp_path)
    session = history.start_session()
    hub = Hub(history)
    assert hub.session == session and hub.data_dir == tmp_path
    history.close()

"""The real app with a real receiver on port 0 and a real history in a temp dir."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_animations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")

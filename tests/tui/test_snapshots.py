"""Snapshot tests: what the main screens look like, over the fixed scene of tests/tui/scenes.py.

The Pilot tests check behaviour; these catch what they cannot see: a column that
moved, a tab that lost its label, a colour that changed. The scene's ids, times and
clock are fixed and times are shown in UTC, so a difference is a change in the app
(or in Textual, which is pinned for that reason). After a deliberate change, look at
the new pictures and accept them with `pytest tests/tui/test_snapshots.py --snapshot-update`.

`snap_compare` runs the app itself, so these are plain functions and the driving
happens in `run_before`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from inspector.tui.app import InspectorApp

from .scenes import SHOTS, make_scene_app

SIZE = (160, 45)


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The list shows local times: make local time UTC for these tests only."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def scene_app(tmp_path: Path) -> Iterator[Callable[..., InspectorApp]]:
    """Build the scene's app over a history in tmp_path; the history is closed afterwards."""
    apps: list[InspectorApp] = []

    def make(*, held: bool = False) -> InspectorApp:
        app = make_scene_app(tmp_path / f"scene-{len(apps)}", held=held)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.hub.history.close()


def shoot(snap_compare, scene_app, name: str, size: tuple[int, int] = SIZE) -> bool:
    shot = SHOTS[name]
    return snap_compare(scene_app(held=shot.held), terminal_size=size, run_before=shot.setup)


def test_main_screen_lists_the_scene_and_shows_the_newest_body(snap_compare, scene_app):
    assert shoot(snap_compare, scene_app, "main")


def test_main_screen_at_80x24_stacks_the_list_above_the_body(snap_compare, scene_app):
    assert shoot(snap_compare, scene_app, "main", (80, 24))


def test_answer_dialog_with_headers_and_a_body_over_a_held_request(snap_compare, scene_app):
    assert shoot(snap_compare, scene_app, "answer")


def test_answer_dialog_fits_80x24(snap_compare, scene_app):
    assert shoot(snap_compare, scene_app, "answer", (80, 24))


def test_findings_tab_of_the_vendor_named_purchase(snap_compare, scene_app):
    assert shoot(snap_compare, scene_app, "findings")


def test_headers_tab_of_the_request_refused_for_its_api_key(snap_compare, scene_app):
    assert shoot(snap_compare, scene_app, "headers")


def test_help_screen(snap_compare, scene_app):
    assert shoot(snap_compare, scene_app, "help")


def test_held_request_counts_down(snap_compare, scene_app):
    assert shoot(snap_compare, scene_app, "held")


def test_event_tester_with_a_semantic_event_picked(snap_compare, scene_app):
    assert shoot(snap_compare, scene_app, "tester")


def test_event_delivery_with_an_error_group_opened(snap_compare, scene_app):
    assert shoot(snap_compare, scene_app, "delivery")

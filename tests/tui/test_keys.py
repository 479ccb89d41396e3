"""The `[keys]` table in both TOML forms, its errors, and the help screen listing every key by screen."""

from __future__ import annotations

import io
import tomllib

import pytest
from rich.console import Console

from inspector.tui.app import InspectorApp
from inspector.tui.keys import KeymapError, checked_keymap, key_groups


def keys(toml: str) -> dict[str, str]:
    return checked_keymap(tomllib.loads(toml)["keys"])


def test_dotted_and_quoted_ids_mean_the_same_binding():
    assert keys('[keys]\nanswer.500 = "f5"\n"answer.503" = "f6"\n') == {"answer.500": "f5", "answer.503": "f6"}


def test_an_unknown_id_is_an_error_naming_it():
    with pytest.raises(KeymapError, match=r"answer\.999"):
        keys('[keys]\nanswer.999 = "f5"\n')


def test_a_key_bound_twice_names_both_ids():
    with pytest.raises(KeymapError, match=r"answer\.200 and quit|quit and answer\.200"):
        keys('[keys]\n"answer.200" = "q"\n')


def test_the_same_key_on_different_screens_is_fine():
    assert keys('[keys]\nrules.close = "x"\n') == {"rules.close": "x"}


async def test_help_lists_every_key_by_screen_and_the_list_symbols(tmp_path):
    from .test_sizes import running, until

    async with running(tmp_path, (100, 30)) as (app, pilot, _):
        await pilot.press("question_mark")
        await until(pilot, lambda: type(app.screen).__name__ == "HelpScreen", "the help screen")
        console = Console(width=200, record=True, file=io.StringIO())
        for static in app.screen.query("Static"):
            console.print(static.content)
        text = console.export_text()
        for title, _bindings in key_groups():
            assert title.split(" (")[0] in text
        for binding_id in ("body.toggle_raw", "detail.next_tab", "pane.maximize", "list.newest", "rules.toggle",
                           "findings.open_link"):
            assert binding_id in text
        assert "↻2" in text and "findings" in text
        assert isinstance(app, InspectorApp)

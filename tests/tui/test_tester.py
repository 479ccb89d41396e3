"""The event tester in the real app: events go out over real HTTP, as Segment sends them."""

from __future__ import annotations

import socket

import orjson
from aiohttp import web
from textual.widgets import Input, OptionList, Static, TextArea

from inspector.tui.screens.tester import EventTesterScreen, lint_text

from ..endpoint import Endpoint, serving
from ..factories import make_event
from ..waiting import pilot_until
from .test_app import list_text, running


def answer(app) -> str:
    return str(app.screen.query_one("#answer", Static).content)


def lint_shown(app) -> str:
    return str(app.screen.query_one("#lint", Static).content)


async def open_tester(app, pilot) -> EventTesterScreen:
    await pilot.press("t")
    await pilot.pause()
    assert isinstance(app.screen, EventTesterScreen)
    return app.screen


async def send(app, pilot) -> str:
    await pilot.press("ctrl+s")
    await app.screen.workers.wait_for_complete()
    await pilot.pause()
    return answer(app)


async def pick(screen: EventTesterScreen, pilot, label: str) -> None:
    templates = screen.query_one("#templates", OptionList)
    templates.focus()
    templates.highlighted = [name for name, _ in screen.templates].index(label)
    await pilot.press("enter")
    await pilot.pause()


async def test_a_semantic_event_picked_and_sent_arrives_as_segment_sends_it(tmp_path):
    async with running(tmp_path) as (app, pilot, _):
        screen = await open_tester(app, pilot)
        labels = [name for name, _ in screen.templates]
        assert labels[:7] == ["identify", "track", "page", "screen", "group", "alias", "delete"]
        await pick(screen, pilot, "Order Completed · E-commerce v2")
        editor = screen.query_one("#event", TextArea)
        edited = orjson.loads(editor.text)
        assert edited["event"] == "Order Completed" and edited["type"] == "track"
        await pilot_until(pilot, lambda: lint_shown(app) == str(lint_text(editor.text)),
                          what="the edited event is linted")
        assert "Spec findings (0)" in lint_shown(app)
        shown = await send(app, pilot)
        assert "200 OK" in shown and "delivered" in shown
        await pilot.press("escape")
        await pilot_until(pilot, lambda: "Order Completed" in list_text(app))
        [summary] = app.hub.search()
        exchange = app.hub.get(summary.id)
        assert exchange.header("User-Agent") == "Segment.io/1.0"
        assert exchange.auth.key == "segment" and exchange.events[0].message_id == edited["messageId"]
        assert not [f for f in exchange.findings if f.severity == "error"]


async def test_malformed_json_is_flagged_and_sent_as_typed(tmp_path):
    async with running(tmp_path) as (app, pilot, _):
        screen = await open_tester(app, pilot)
        screen.query_one("#event", TextArea).load_text('{"type": "track",, }')
        await pilot_until(pilot, lambda: "not JSON: malformed JSON" in lint_shown(app),
                          what="the edited event is linted")
        assert "line 1 column 18" in lint_shown(app)
        shown = await send(app, pilot)
        assert "400 Bad Request" in shown and "dropped" in shown and '"message": "malformed JSON' in shown
        await pilot.press("escape")
        await pilot_until(pilot, app.hub.search)
        [summary] = app.hub.search()
        assert app.hub.get(summary.id).body == b'{"type": "track",, }'


async def test_a_bad_url_and_an_endpoint_that_is_down(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    async with running(tmp_path) as (app, pilot, _):
        screen = await open_tester(app, pilot)
        screen.query_one("#url", Input).value = "ftp://example.com/"
        await pilot.press("ctrl+s")
        await pilot_until(pilot, lambda: "URL: 'ftp://example.com/' is not an http:// or https:// URL"
                          in answer(app), what="the tester refuses a URL that is not http(s)")
        screen.query_one("#url", Input).value = "http://"  # no host: refused before anything is sent
        await pilot.press("ctrl+s")
        await pilot_until(pilot, lambda: "URL: 'http://' is not an http:// or https:// URL" in answer(app),
                          what="the tester refuses a URL without a host")
        screen.query_one("#url", Input).value = f"http://127.0.0.1:{closed}/"
        shown = await send(app, pilot)
        assert "no answer" in shown and "retried" in shown and "ANS013" in shown
        assert app.hub.search() == []


async def test_what_an_endpoint_answers_is_shown_inert(tmp_path):
    async def hostile(request: web.Request, _: Endpoint) -> web.Response:
        return web.Response(status=500, headers={"X-Note": "[bold]loud[/bold]"},
                            body=b'{"message": "[red]boom[/red] \x1b[31mred\x1b[0m"}',
                            content_type="application/json")

    async with serving(hostile) as endpoint, running(tmp_path) as (app, pilot, _):
        screen = await open_tester(app, pilot)
        screen.query_one("#url", Input).value = endpoint.url
        shown = await send(app, pilot)
        assert "500 Internal Server Error" in shown and "retried" in shown
        assert "[red]boom[/red]" in shown and "[bold]loud[/bold]" in shown
        assert "\x1b" not in shown and "\\x1b[31m" in shown


async def test_the_selected_request_can_be_edited_and_sent_again(tmp_path):
    async with running(tmp_path) as (app, pilot, client):
        await client.post(make_event(event="Signed Up", properties={"note": "\x1b[2J wiped"}))
        await pilot_until(pilot, lambda: "Signed Up" in list_text(app))
        await pilot.press("home")
        screen = await open_tester(app, pilot)
        assert screen.templates[0][0] == "the selected request"
        editor = screen.query_one("#event", TextArea)
        assert "\x1b" not in editor.text and "\\u001b[2J wiped" in editor.text
        first = orjson.loads(editor.text)["messageId"]
        await pilot.press("ctrl+n")
        await pilot.pause()
        again = orjson.loads(editor.text)
        assert again["messageId"] != first and again["event"] == "Signed Up"
        assert "200 OK" in await send(app, pilot)
        await pilot.press("escape")
        await pilot_until(pilot, lambda: len(app.hub.search()) == 2)


async def test_the_target_and_key_are_kept_between_openings(tmp_path):
    async with running(tmp_path) as (app, pilot, _):
        app.hub.policy.api_keys = frozenset({"wk_live_1"})
        screen = await open_tester(app, pilot)
        assert screen.query_one("#key", Input).value == "wk_live_1"
        assert screen.query_one("#url", Input).value == app.local_url
        assert "200 OK" in await send(app, pilot)  # the key the receiver expects
        screen.query_one("#key", Input).value = "wrong"
        assert "401" in await send(app, pilot)
        await pilot.press("escape")
        await pilot.pause()
        screen = await open_tester(app, pilot)
        assert screen.query_one("#key", Input).value == "wrong"


async def test_the_whole_target_url_shows_at_120_columns(tmp_path):
    async with running(tmp_path, size=(120, 36)) as (app, pilot, _):
        screen = await open_tester(app, pilot)
        url = screen.query_one("#url", Input)
        url.value = "https://inspector.example.ngrok.app/v1/segment"
        await pilot.pause()
        assert url.content_region.width > len(url.value), url.content_region
        assert screen.query_one("#event", TextArea).region.width > 40

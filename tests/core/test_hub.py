"""The hub as the UIs use it: every change is announced, held requests are found like stored ones."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from inspector.core.hub import Hub, Notice, TunnelState
from inspector.core.policy import Forward, Reply, parse_rule
from inspector.core.query import parse

from ..factories import make_event
from ..waiting import until


def notices(hub: Hub) -> list[Notice]:
    seen: list[Notice] = []
    hub.subscribe(seen.append)
    return seen


async def test_every_change_of_the_answer_is_announced(inspector):
    hub = inspector.hub
    seen = notices(hub)
    hub.set_default(Reply(503))
    hub.add_rule(parse_rule("event:A => 400"))
    hub.add_rule(parse_rule("event:B => 501"))
    assert hub.move_rule(1, -1) == 0
    hub.toggle_rule(1)
    hub.set_forward(Forward("http://localhost:3000/", mirror=True))
    hub.start_holding(parse("event:C"))
    hub.stop_holding()
    hub.set_local_url("http://127.0.0.1:1/")
    hub.set_tunnel(TunnelState("external", public_url="https://hooks.example/"))
    hub.remove_rule(0)
    assert [n.kind for n in seen] == ["answer", "rules", "rules", "rules", "rules", "forward",
                                      "holding", "holding", "urls", "tunnel", "rules"]
    assert all(n.exchange is None for n in seen)
    assert [str(rule) for rule in hub.rules] == ["event:A => 400"] and not hub.rules[0].enabled
    assert hub.answering() == "503, mirror to http://localhost:3000/"
    assert hub.receiving_url() == "https://hooks.example/"
    # the receiver answers by what the hub says
    status, _, _ = await inspector.post(orjson.dumps(make_event(event="A")))
    assert status == 503  # the only rule is disabled: the default answers


async def test_held_requests_are_found_and_read_like_stored_ones(inspector):
    hub = inspector.hub
    await inspector.post(orjson.dumps(make_event(event="Stored")))
    hub.start_holding()
    posted = asyncio.ensure_future(inspector.post(orjson.dumps(make_event(event="Held"))))
    await until(hub.held, what="the request is held")
    [(held, _)] = hub.held()
    assert hub.get(held.id) is held and hub.held_exchange(held.id) is held
    assert [s.names[0] for s in hub.search()] == ["Stored"]
    assert [s.names[0] for s in hub.search(held=True)] == ["Held", "Stored"]
    assert [s.names[0] for s in hub.search(held=True, newest_first=False)] == ["Stored", "Held"]
    assert [s.names[0] for s in hub.search(parse("event:Held"), held=True)] == ["Held"]
    assert hub.stored() == 1
    assert hub.resolve(held.id, Reply(202))
    assert (await posted)[0] == 202
    assert hub.held_exchange(held.id) is None and hub.get(held.id).answer.status == 202
    assert hub.stored() == 2


async def test_what_the_history_says_from_its_writer_thread_reaches_subscribers_on_the_loop(inspector):
    import dataclasses
    import threading

    heard: list[tuple[Notice, int]] = []
    inspector.hub.subscribe(lambda notice: heard.append((notice, threading.get_ident())))
    writer = threading.Thread(target=inspector.history.warn, args=("the disk is full",))
    writer.start()
    writer.join()
    await until(lambda: heard, what="the history's notice")
    [(notice, thread)] = heard
    assert notice.kind == "history" and thread == threading.get_ident()  # this test runs on the loop
    with pytest.raises(dataclasses.FrozenInstanceError):
        notice.kind = "answer"  # type: ignore[misc]  (a notice is the same for every subscriber)

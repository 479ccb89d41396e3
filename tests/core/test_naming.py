"""A call without an event name is still named in the lists: by what the call is about."""

from __future__ import annotations

import pytest

from inspector.core.history import History
from inspector.core.naming import title

from ..factories import make_event, make_exchange

CALLS = [
    ({"type": "identify", "traits": {"email": "ada@example.com", "name": "Ada"}}, "ada@example.com"),
    ({"type": "identify", "traits": {"name": "Ada"}}, "Ada"),
    ({"type": "identify", "context": {"traits": {"email": "c@example.com"}}}, "c@example.com"),
    ({"type": "identify", "traits": "not an object", "context": "nor this"}, "user-1"),
    ({"type": "group", "groupId": "acme-42"}, "acme-42"),
    ({"type": "alias", "previousId": "anon-7", "userId": "user-7"}, "anon-7 → user-7"),
    ({"type": "delete"}, "delete user-1"),
    ({"type": "page", "name": "Pricing"}, "Pricing"),
]


@pytest.mark.parametrize("fields,named", CALLS)
def test_identify_group_alias_and_delete_are_named_here_and_after_a_restart(tmp_path, fields, named):
    event = make_event(**fields)
    if fields["type"] != "track":
        event.pop("event")
    exchange = make_exchange(event)
    assert title(exchange.summary()) == named
    history = History(tmp_path)
    history.add(exchange)
    history.close()
    reopened = History(tmp_path).load()
    [summary] = reopened.search()
    assert title(summary) == named
    reopened.close()

"""Segment's own SDKs as the clients: analytics-python and analytics-node post to the
inspector's Tracking API, and every event reaches the destination once, in Segment's envelope."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from segment.analytics import Client

from inspector.core.checks import lint_event
from inspector.local_segment.options import TrackingOptions
from inspector.local_segment.pipeline import parse_time

from .conftest import NODE_CLIENTS, Local, node_available, open_local

CALLS = ("track", "identify", "page", "screen", "group", "alias")


def python_sdk(url: str, **options: object) -> Client:
    return Client("wk", host=url.rstrip("/"), max_retries=1, upload_interval=0.05, **options)


def make_calls(client: Client, ids: dict[str, str]) -> None:
    """One call of each type, with the messageIds given, then wait until all are sent."""
    client.track("u1", "Order Completed", {"revenue": 19.99, "currency": "USD"}, message_id=ids["track"])
    client.identify("u1", {"email": "ada@example.com"}, message_id=ids["identify"])
    client.page("u1", name="Home", properties={"title": "Home"}, message_id=ids["page"])
    client.screen("u1", name="Settings", message_id=ids["screen"])
    client.group("u1", "g1", {"name": "Acme"}, message_id=ids["group"])
    client.alias("anon-1", "u1", message_id=ids["alias"])
    client.flush()


def assert_envelope(delivered: dict, before: float, after: float) -> None:
    """Segment's envelope: receivedAt at arrival, originalTimestamp as sent, skew-corrected
    timestamp, sentAt kept, no writeKey, context.library as the SDK sent it."""
    received = parse_time(delivered["receivedAt"])
    assert received is not None and before - 1 <= received.timestamp() <= after + 1
    assert "writeKey" not in delivered
    assert parse_time(delivered["originalTimestamp"]) is not None
    assert parse_time(delivered["sentAt"]) is not None
    skew = parse_time(delivered["sentAt"]) - parse_time(delivered["originalTimestamp"])
    assert abs((received - skew) - parse_time(delivered["timestamp"])) <= timedelta(milliseconds=2)
    assert delivered["context"]["library"]["name"]
    # what Segment adds on the way, as the generated corpus carries it (partners/spec.md)
    assert delivered["channel"] == "server" and delivered["version"] == 2
    assert len(delivered["projectId"]) == 10 and delivered["projectId"].isalnum()


async def assert_each_delivered_once(local: Local, ids: dict[str, str], library: str, before: float) -> None:
    await local.until(lambda: len(local.delivered()) >= len(ids), "every call type delivered")
    await local.tracking.settle()
    delivered = local.delivered()
    after = datetime.now(UTC).timestamp()
    assert sorted(e.events[0].message_id for e in delivered) == sorted(ids.values())
    sources = local.exchanges("source")
    assert sources and all(s.answer.status == 200 for s in sources)
    for exchange in delivered:
        event = orjson.loads(exchange.body)
        assert event["type"] == next(call for call, mid in ids.items() if mid == event["messageId"])
        assert event["context"]["library"]["name"] == library
        assert_envelope(event, before, after)
        assert exchange.link.source in {s.id for s in sources}
        assert exchange.auth.key == "segment" and exchange.answer.status == 200
        assert [f for f in exchange.findings if f.severity == "error"] == []
        assert [f for f in lint_event(event, now=after) if f.severity == "error"] == []


@pytest.mark.parametrize("gzip", [False, True], ids=["plain", "gzip"])
async def test_analytics_python_every_call_type_delivered_once(local: Local, gzip: bool) -> None:
    ids = {call: f"py-{call}-{uuid.uuid4()}" for call in CALLS}
    before = datetime.now(UTC).timestamp()
    client = python_sdk(local.url, gzip=gzip)
    await asyncio.to_thread(make_calls, client, ids)
    await assert_each_delivered_once(local, ids, "analytics-python", before)
    for source in local.exchanges("source"):
        assert source.path == "/v1/batch"
        assert (source.header("Content-Encoding") == "gzip") is gzip
        assert json.loads(source.content)["batch"]  # read as JSON whatever the encoding
        assert (source.body[:2] == b"\x1f\x8b") is gzip  # kept as sent, for exports and replay
        assert [f for f in source.findings if f.severity == "error"] == []


async def test_analytics_python_repeated_message_id_delivered_once(local: Local) -> None:
    client = python_sdk(local.url)
    message_id = f"again-{uuid.uuid4()}"

    def twice() -> None:
        client.track("u1", "Signed Up", message_id=message_id)
        client.flush()
        client.track("u1", "Signed Up", message_id=message_id)
        client.flush()

    await asyncio.to_thread(twice)
    await local.until(lambda: sum(len(s.pipeline) for s in local.exchanges("source")) == 2, "both calls kept")
    await local.tracking.settle()
    assert [e.events[0].message_id for e in local.delivered()] == [message_id]
    fates = [fate.fate for s in local.exchanges("source") for fate in s.pipeline]
    assert fates == ["delivering", "deduplicated"]


async def test_analytics_python_all_false_not_delivered(local: Local) -> None:
    client = python_sdk(local.url)
    kept, off, on = (f"{name}-{uuid.uuid4()}" for name in ("kept", "off", "on"))

    def calls() -> None:
        client.track("u1", "Kept", message_id=kept)
        client.track("u1", "Off", message_id=off, integrations={"All": False})
        client.track("u1", "On", message_id=on, integrations={"All": False, "Segment Inspector": True})
        client.flush()

    await asyncio.to_thread(calls)
    await local.until(lambda: sum(len(s.pipeline) for s in local.exchanges("source")) == 3, "three events kept")
    await local.tracking.settle()
    await local.until(lambda: len(local.delivered()) == 2, "two delivered")
    assert sorted(e.events[0].message_id for e in local.delivered()) == sorted([kept, on])
    fates = {fate.message_id: fate for s in local.exchanges("source") for fate in s.pipeline}
    assert fates[off].fate == "filtered" and '"All": false' in fates[off].detail


NODE_SCRIPT = """
const { Analytics } = require('@segment/analytics-node')
const [host, ids] = [process.argv[2], JSON.parse(process.argv[3])]
const analytics = new Analytics({ writeKey: 'wk', host, flushInterval: 50, maxRetries: 1 })
analytics.track({ userId: 'u1', event: 'Order Completed', properties: { revenue: 19.99 }, messageId: ids.track })
analytics.identify({ userId: 'u1', traits: { email: 'ada@example.com' }, messageId: ids.identify })
analytics.page({ userId: 'u1', name: 'Home', properties: { title: 'Home' }, messageId: ids.page })
analytics.screen({ userId: 'u1', name: 'Settings', messageId: ids.screen })
analytics.group({ userId: 'u1', groupId: 'g1', traits: { name: 'Acme' }, messageId: ids.group })
analytics.alias({ previousId: 'anon-1', userId: 'u1', messageId: ids.alias })
analytics.track({ userId: 'u1', event: 'Again', messageId: ids.track })
analytics.closeAndFlush().then(() => process.exit(0), (err) => { console.error(err); process.exit(1) })
"""


@pytest.mark.skipif(node_available() is not None, reason=node_available() or "")
async def test_analytics_node_every_call_type_delivered_once(local: Local, tmp_path) -> None:
    ids = {call: f"node-{call}-{uuid.uuid4()}" for call in CALLS}
    script = tmp_path / "calls.js"
    script.write_text(NODE_SCRIPT)
    before = datetime.now(UTC).timestamp()
    process = await asyncio.create_subprocess_exec(
        "node", str(script), local.url.rstrip("/"), json.dumps(ids), cwd=NODE_CLIENTS,
        env={**os.environ, "NODE_PATH": str(NODE_CLIENTS / "node_modules")},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    await assert_each_delivered_once(local, ids, "@segment/analytics-node", before)
    fates = [fate.fate for s in local.exchanges("source") for fate in s.pipeline]
    assert fates.count("deduplicated") == 1  # the second track with the same messageId


async def test_analytics_python_under_the_rate_limit_retries_and_event_delivery_counts_each_event_once(
        tmp_path) -> None:
    from inspector.core.query import parse

    async with open_local(tmp_path, TrackingOptions(time_scale=0.001), rate_limit=2) as local:  # a burst of 4
        client = Client("wk", host=local.url.rstrip("/"), max_retries=10, upload_interval=0.05)
        ids = [f"limited-{n}-{uuid.uuid4()}" for n in range(8)]

        def eight() -> None:
            for message_id in ids:
                client.track("u1", "Signed Up", message_id=message_id)
                client.flush()

        await asyncio.to_thread(eight)
        await local.until(lambda: len(local.delivered()) == 8, "all eight delivered, after the SDK's retries")
        await local.tracking.settle()
        refused = [s for s in local.exchanges("source") if s.answer.status == 429]
        assert refused, "the SDK was answered 429 at least once"
        report = local.hub.delivery(parse("since:1h"))
        assert report.counts == {"delivered": 8, "retried": 0, "dropped": 0}

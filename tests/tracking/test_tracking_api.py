"""The Tracking API's answers, limits and envelope, and Segment's delivery with retries, over real HTTP."""

from __future__ import annotations

import asyncio
import gzip
import uuid
import zlib
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from inspector.cli import main
from inspector.core.policy import Policy
from inspector.local_segment.api import READ_LIMIT
from inspector.local_segment.calls import MAX_BATCH, MAX_EVENT
from inspector.local_segment.options import TrackingOptions
from inspector.local_segment.pipeline import iso, parse_time
from inspector.local_segment.trace import trace

from ..core.test_history_faults import Disk
from ..endpoint import Endpoint
from .conftest import Local, open_local


def track(**extra: object) -> dict:
    return {"type": "track", "event": "Signed Up", "userId": "u1", "messageId": f"m-{uuid.uuid4()}", **extra}


async def test_answers_success_and_keeps_the_call(local: Local) -> None:
    status, body = await local.call("/v1/track", {"event": "Signed Up", "userId": "u1"})
    assert (status, body) == (200, {"success": True})
    source = local.exchanges("source")[0]
    assert source.answer.status == 200 and source.events[0].type == "track"
    await local.until(lambda: len(local.delivered()) == 1, "delivered")
    delivered = orjson.loads(local.delivered()[0].body)
    assert delivered["type"] == "track" and delivered["messageId"].startswith("api-")
    assert delivered["timestamp"] == delivered["receivedAt"]  # no timestamp sent: arrival time


@pytest.mark.parametrize("path, body, raw, message", [
    ("/v1/track", None, b'{"event": "Signed Up",', "malformed JSON"),
    ("/v1/batch", None, b"", "empty body"),
    ("/v1/batch", {"batch": "nope"}, None, '"batch": an array'),
    ("/v1/batch", {"batch": [track(), 3]}, None, "event 1 of the batch is not a JSON object"),
    ("/v1/track", track(properties={"blob": "x" * MAX_EVENT}), None, "over Segment's limit of 32 KB"),
    ("/v1/batch", {"batch": [track(properties={"blob": "x" * (MAX_EVENT + 1)})]}, None,
     "event 0 of the batch is"),
    ("/v1/batch", {"batch": [track(properties={"blob": "x" * 30_000}) for _ in range(18)]}, None,
     "over Segment's limit of 500 KB"),
    ("/v1/batch", {"batch": [track() for _ in range(2501)]}, None, "2501 events"),
])
async def test_400_with_a_message_for_what_segment_refuses(local: Local, path, body, raw, message) -> None:
    status, answer = await local.call(path, body, raw=raw)
    assert status == 400 and message in answer["message"]
    source = local.exchanges("source")[0]
    assert source.answer.status == 400 and "TRK001" in [f.code for f in source.findings]
    assert source.pipeline == [] and local.delivered() == []


async def test_limits_are_segments_exactly(local: Local) -> None:
    """An event of exactly 32 KB and a batch just under 500 KB are accepted."""
    event = track(properties={"blob": ""})
    event["properties"]["blob"] = "x" * (MAX_EVENT - len(orjson.dumps(event)))
    assert len(orjson.dumps(event)) == MAX_EVENT
    assert (await local.call("/v1/track", event, raw=orjson.dumps(event)))[0] == 200
    batch = {"batch": [track(properties={"blob": "x" * 30_000}) for _ in range(16)]}
    assert len(orjson.dumps(batch)) < MAX_BATCH
    assert (await local.call("/v1/batch", batch))[0] == 200


async def test_write_keys_401_for_others_basic_or_body(tmp_path) -> None:
    async with open_local(tmp_path, TrackingOptions(write_keys=frozenset({"right"}))) as local:
        assert (await local.call("/v1/track", track(), key="right"))[0] == 200
        assert (await local.call("/v1/batch", {"batch": [track()], "writeKey": "right"}, key=None))[0] == 200
        status, body = await local.call("/v1/track", track(), key="wrong")
        assert status == 401 and "unknown write key 'wrong'" in body["message"]
        status, body = await local.call("/v1/track", track(), key=None)
        assert status == 401 and "no write key" in body["message"]
        refused = [e for e in local.exchanges("source") if e.answer.status == 401]
        assert len(refused) == 2 and all("TRK002" in [f.code for f in e.findings] for e in refused)


async def test_gzip_body_read(local: Local) -> None:
    event = track()
    status, _ = await local.call("/v1/batch", None, headers={"Content-Encoding": "gzip"},
                                 raw=gzip.compress(orjson.dumps({"batch": [event]})))
    assert status == 200
    await local.until(lambda: len(local.delivered()) == 1, "the gzipped event delivered")
    assert local.delivered()[0].events[0].message_id == event["messageId"]


async def test_gzip_kept_as_sent_and_read_by_the_receivers_decoder(local: Local) -> None:
    """One decoder for both sides: deflate and br too; the bytes kept are those sent."""
    sent = zlib.compress(orjson.dumps(track()))
    assert (await local.call("/v1/track", None, headers={"Content-Encoding": "deflate"}, raw=sent))[0] == 200
    source = local.exchanges("source")[0]
    assert source.body == sent and source.body_size == len(sent)
    assert orjson.loads(source.content)["event"] == "Signed Up"
    status, body = await local.call("/v1/track", None, headers={"Content-Encoding": "gzip"}, raw=b"not gzip")
    assert status == 400 and "does not decode" in body["message"]
    bomb = gzip.compress(b" " * (READ_LIMIT + 10))
    status, body = await local.call("/v1/batch", None, headers={"Content-Encoding": "gzip"}, raw=bomb)
    assert status == 400 and "decodes to more than" in body["message"]
    await local.until(lambda: len(local.exchanges("source")) == 3, "every call kept, refused ones too")


async def test_a_call_the_history_cannot_keep_gets_503_not_success(local: Local, monkeypatch) -> None:
    disk = Disk(monkeypatch)
    disk.full = True
    status, body = await local.call("/v1/batch", {"batch": [track()]})
    disk.full = False
    assert status == 503 and "Segment retries" in body["message"]
    assert local.exchanges("source") == []
    await local.tracking.settle()
    assert local.delivered() == []  # nothing acknowledged, nothing delivered
    assert (await local.call("/v1/batch", {"batch": [track()]}))[0] == 200


async def test_the_rate_limit_answers_429_on_the_tracking_api_too(tmp_path) -> None:
    async with open_local(tmp_path, TrackingOptions(time_scale=0.001), rate_limit=0.01) as local:
        assert (await local.call("/v1/track", track()))[0] == 200
        status, body = await local.call("/v1/batch", {"batch": [track()]})
        assert status == 429 and "rate limit" in body["message"]
        [refused] = [e for e in local.exchanges() if e.answer.status == 429]
        assert refused.path == "/v1/batch" and "WIRE004" in [f.code for f in refused.findings]
        assert refused.kind == "source" and len(local.exchanges("source")) == 2  # an SDK's call, refused


async def test_skew_correction_with_a_client_clock_hours_ahead(local: Local) -> None:
    """The client's clock is 5 hours ahead: the event happened 10 s before it was sent."""
    now = datetime.now(UTC)
    client_sent = now + timedelta(hours=5)
    happened = client_sent - timedelta(seconds=10)
    event = track(timestamp=happened.isoformat())
    assert (await local.call("/v1/batch", {"batch": [event], "sentAt": client_sent.isoformat(),
                                           "context": {"library": {"name": "test", "version": "1"}}}))[0] == 200
    await local.until(lambda: len(local.delivered()) == 1, "delivered")
    delivered = orjson.loads(local.delivered()[0].body)
    received = parse_time(delivered["receivedAt"])
    assert abs(received - now) < timedelta(seconds=30)
    assert parse_time(delivered["timestamp"]) == received - timedelta(seconds=10)
    assert delivered["originalTimestamp"] == happened.isoformat()
    assert delivered["sentAt"] == client_sent.isoformat()
    assert delivered["context"]["library"] == {"name": "test", "version": "1"}  # batch context applied
    assert not [f for f in local.delivered()[0].findings if f.code == "SPEC016"]  # not in the future


async def test_integrations_destination_off_and_invalid_events_not_delivered(local: Local) -> None:
    off, anonymous, nameless, kept = track(), track(userId=None), track(event=None), track()
    off["integrations"] = {"Segment Inspector": False}
    status, _ = await local.call("/v1/batch", {"batch": [off, anonymous, nameless, kept]})
    assert status == 200
    await local.until(lambda: len(local.delivered()) == 1, "one delivered")
    await local.tracking.settle()
    source = local.exchanges("source")[0]
    assert [fate.fate for fate in source.pipeline] == ["filtered", "invalid", "invalid", "delivering"]
    assert local.delivered()[0].events[0].message_id == kept["messageId"]
    states = [item.state for item in trace(source, local.hub.deliveries(source.id))]
    assert states == ["filtered", "invalid", "invalid", "delivered"]


async def test_dedupe_window_forgets(tmp_path) -> None:
    async with open_local(tmp_path, TrackingOptions(dedupe_window=0.05)) as local:
        event = track()
        await local.call("/v1/track", event)
        await local.until(lambda: len(local.delivered()) == 1, "first delivered")
        first = local.delivered()[0].time
        await local.until(lambda: datetime.now(UTC).timestamp() > first + 0.1, "the window passed")
        await local.call("/v1/track", event)
        await local.until(lambda: len(local.delivered()) == 2, "delivered again after the window")


async def test_retries_of_a_failing_destination(tmp_path, endpoint: Endpoint) -> None:
    endpoint.statuses = [503, 500, 429]
    options = TrackingOptions(deliver_to=endpoint.url, time_scale=0.001, api_key="dest-key",
                              settings="eyJhIjoxfQ==")
    async with open_local(tmp_path, options) as local:
        event = track()
        assert (await local.call("/v1/track", event))[0] == 200
        await local.until(lambda: len(endpoint.seen) == 4, "three retries, then delivered")
        await local.tracking.settle()
        bodies = [seen.json() for seen in endpoint.seen]
        assert {b["messageId"] for b in bodies} == {event["messageId"]}  # the same event every time
        headers = endpoint.seen[0].headers
        assert headers["Authorization"] == "Basic ZGVzdC1rZXk6"  # dest-key:
        assert headers["X-Segment-Settings"] == "eyJhIjoxfQ==" and headers["User-Agent"] == "Segment.io/1.0"
        attempts = local.exchanges("delivery")
        assert [a.answer.status for a in attempts] == [503, 500, 429, 200]
        assert [a.link.attempt for a in attempts] == [1, 2, 3, 4]
        source = local.exchanges("source")[0]
        [item] = trace(source, local.hub.deliveries(source.id))
        assert item.state == "delivered" and item.text.startswith("delivered after 3 retries: 200")
        assert not [f for f in attempts[-1].findings if f.severity == "error"]


async def test_a_destination_that_keeps_failing_fails_with_its_message(tmp_path, endpoint: Endpoint) -> None:
    endpoint.statuses = [500] * 3 + [400]
    options = TrackingOptions(deliver_to=endpoint.url, time_scale=0.001, retries=2)
    async with open_local(tmp_path, options) as local:
        first, second = track(), track()
        await local.call("/v1/track", first)
        await local.until(lambda: len(endpoint.seen) == 3, "retries used up")
        await local.tracking.settle()
        await local.call("/v1/track", second)
        await local.until(lambda: len(endpoint.seen) == 4, "dropped at once")
        await local.tracking.settle()
        traces = [trace(s, local.hub.deliveries(s.id))[0] for s in local.exchanges("source")]
        assert [t.state for t in traces] == ["failed", "dropped"]
        assert traces[0].text.startswith("failed after 2 retries: 500") and "failing with 500" in traces[0].text
        assert "failing with 400" in traces[1].text


async def test_own_partner_side_rules_drive_retries_and_show_links(tmp_path, capsys) -> None:
    """Delivered to its own partner side, a --rule answering 503 makes Segment retry; `show`
    lists each event's fate on the source call and the source call on each delivery."""
    from inspector.core.policy import parse_rule

    policy = Policy(rules=[parse_rule('kind:"" event:"Order Completed" => 503')])  # the deliveries, not the call
    async with open_local(tmp_path, TrackingOptions(time_scale=0.001, retries=1), policy) as local:
        ok, failing = track(), track(event="Order Completed")
        await local.call("/v1/batch", {"batch": [ok, failing]})
        await local.until(lambda: len(local.delivered()) == 3, "one delivery, and two attempts of the other")
        await local.tracking.settle()
        source = local.exchanges("source")[0]
        assert all(d.link.source == source.id for d in local.delivered())
        assert not any(d.redelivery for d in local.delivered() if d.link.attempt == 1)
        local.history.flush()
        data_dir = str(local.history.directory)
    assert main(["show", source.id, "--data-dir", data_dir]) == 0
    out = capsys.readouterr().out
    assert f"{ok['messageId']}  delivered: 200" in out
    assert f"{failing['messageId']}  failed after 1 retry: 503" in out
    delivery = next(d for d in local.delivered() if d.events[0].message_id == ok["messageId"])
    assert main(["show", delivery.id, "--data-dir", data_dir]) == 0
    assert f"of source call {source.id}, attempt 1 of at most 2" in capsys.readouterr().out


def test_iso_is_segments_format() -> None:
    assert iso(0) == "1970-01-01T00:00:00.000Z"


async def test_analytics_js_short_paths_and_write_key_in_the_body(tmp_path) -> None:
    """analytics.js posts `text/plain` to /v1/<first letter> with writeKey in the body."""
    async with open_local(tmp_path, TrackingOptions(write_keys=frozenset({"js"}))) as local:
        page = {"type": "page", "name": "Home", "anonymousId": "a1", "writeKey": "js", "messageId": "ajs-1"}
        status, _ = await local.call("/v1/p", page, key=None, headers={"Content-Type": "text/plain"})
        assert status == 200
        await local.until(lambda: len(local.delivered()) == 1, "delivered")
        delivered = orjson.loads(local.delivered()[0].body)
        assert delivered["type"] == "page" and "writeKey" not in delivered


async def test_own_deliveries_are_not_rate_limited(tmp_path) -> None:
    """A 300-event batch under a low --rate-limit: the SDK's calls are limited, the deliveries are not."""
    async with open_local(tmp_path, TrackingOptions(time_scale=0.001, retries=0), rate_limit=0.01) as local:
        assert (await local.call("/v1/batch", {"batch": [track() for _ in range(300)]}))[0] == 200
        await local.until(lambda: len(local.delivered()) == 300, "300 deliveries", timeout=120)
        await local.tracking.settle()
        assert [e for e in local.exchanges() if e.answer.status == 429] == []
        assert {e.answer.status for e in local.delivered()} == {200}
        assert not [name for d in local.delivered() for name, _ in d.headers if "inspector" in name.lower()]
        status, _ = await local.call("/v1/batch", {"batch": [track()]},
                                     headers={"X-Segment-Inspector-Delivery": "guessed"})
        assert status == 429  # only this process's own token lifts the limit


async def test_header_values_read_as_the_partner_receiver_reads_them(local: Local) -> None:
    """A Latin-1 header value (not UTF-8) is shown as sent, not as replacement characters."""
    import asyncio

    body = orjson.dumps(track())
    reader, writer = await asyncio.open_connection("127.0.0.1", int(local.url.rstrip("/").rsplit(":", 1)[1]))
    writer.write(b"POST /v1/track HTTP/1.1\r\nHost: x\r\nX-City: Z\xfcrich\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    answer = await asyncio.wait_for(reader.read(), 15)
    writer.close()
    assert b" 200 " in answer.split(b"\r\n")[0]
    assert local.exchanges("source")[0].header("X-City") == "Z\u00fcrich"


async def test_show_and_the_list_tell_a_source_call_by_its_fates_not_a_partner_verdict(tmp_path, capsys) -> None:
    """`show` on a source call says what became of its events; the list names it by its path."""
    from inspector.core import naming
    from inspector.core.policy import parse_rule

    policy = Policy(rules=[parse_rule('kind:"" event:"Order Completed" => 503')])
    async with open_local(tmp_path, TrackingOptions(time_scale=0.001, retries=2), policy) as local:
        ok, failing = track(), track(event="Order Completed")
        await local.call("/v1/batch", {"batch": [ok, failing]})
        await local.call("/v1/track", track())
        await local.until(lambda: len(local.delivered()) == 5, "two deliveries, and three attempts of one")
        await local.tracking.settle()
        batch, single = local.exchanges("source")
        kinds = {s.id: naming.kind(s) for s in local.history.search()}
        local.history.flush()
        data_dir = str(local.history.directory)
    assert (kinds[batch.id], kinds[single.id]) == ("v1/batch", "v1/track")
    assert {kinds[d.id] for d in local.delivered()} == {"track"}
    assert main(["show", batch.id, "--data-dir", data_dir]) == 0
    out = capsys.readouterr().out
    assert "pipeline: 2 events: 1 delivered, 1 failed after 2 retries" in out
    assert "Segment counts the event" not in out and "Segment:" not in out
    assert main(["history", "--data-dir", data_dir]) == 0
    listed = capsys.readouterr().out.splitlines()
    sources = [line for line in listed if " v1/" in line]
    assert len(sources) == 2 and all("200 accepted" in line for line in sources)  # not "delivered"


async def test_batch_findings_have_paths_into_the_body(local: Local) -> None:
    nameless = track(event=None)
    del nameless["event"]
    await local.call("/v1/batch", {"batch": [track(), track(), nameless]})
    source = local.exchanges("source")[0]
    found = [f for f in source.findings if f.path.startswith("$.batch[2]")]
    assert found and all(f.event is None for f in source.findings)
    assert not [f for f in source.findings if f.path == "$" or f.code == "SPEC060"]


async def test_an_unknown_type_is_the_reason_given_first(local: Local) -> None:
    assert (await local.call("/v1/batch", {"batch": [{"type": "nope"}, {"userId": "u1"}]}))[0] == 200
    source = local.exchanges("source")[0]
    assert [fate.fate for fate in source.pipeline] == ["invalid", "invalid"]
    assert source.pipeline[0].detail.startswith("type 'nope', not one of track, identify")
    assert source.pipeline[1].detail.startswith("no type, not one of")


@pytest.mark.parametrize("path, raw", [
    ("/v1/track", b'{"type": "track", "event": "A\\udfff", "userId": "u1", "messageId": "\\udfff x"}'),
    ("/v1/batch", b'{"batch": [{"type": "identify", "userId": "\\ud800"}]}'),
])
async def test_lone_surrogates_are_answered_kept_flagged_and_delivered(local: Local, path, raw) -> None:
    """Valid JSON that is not Unicode text: Segment's answer, the call kept as sent, a finding, a delivery."""
    status, answer = await local.call(path, None, raw=raw)
    assert (status, answer) == (200, {"success": True})
    source = local.exchanges("source")[0]
    assert source.body == raw and "WIRE001" in [f.code for f in source.findings]
    await local.until(lambda: len(local.delivered()) == 1, "delivered")
    assert b"\\ud" in local.delivered()[0].body  # the escape, as text, not a broken string


async def test_the_sdks_answer_is_chosen_like_a_partner_requests(tmp_path) -> None:
    """--respond, a rule and a hold answer the SDK's call; a call not answered 2xx is not accepted."""
    from inspector.core.policy import Reply, parse_rule
    from inspector.core.query import parse

    policy = Policy(default=Reply(200), rules=[parse_rule("kind:source event:Refused => 503:try later")])
    async with open_local(tmp_path, TrackingOptions(time_scale=0.001), policy) as local:
        status, body = await local.call("/v1/track", track(event="Refused"))
        assert (status, body) == (503, {"message": "try later"})
        refused = local.exchanges("source")[-1]
        assert refused.answer.chosen_by == "rule 1" and refused.pipeline == []
        assert "not accepted" in refused.answer.detail
        assert (await local.call("/v1/track", track()))[0] == 200  # the default: Segment's {"success": true}
        local.hub.set_default(Reply(500))
        assert (await local.call("/v1/track", track()))[0] == 500
        local.hub.set_default(Reply(200))
        local.hub.start_holding(parse("kind:source"))
        call = asyncio.ensure_future(local.call("/v1/track", track(event="Held")))
        await local.until(lambda: local.hub.held(), "the SDK's call held")
        [(held, _)] = local.hub.held()
        assert held.kind == "source" and not local.hub.resolve_forward(held.id, "http://127.0.0.1:9/")
        local.hub.resolve(held.id, Reply(429, "slow down"))
        assert (await call)[0] == 429
        local.hub.stop_holding()
        await local.tracking.settle()
        assert [e.events[0].event for e in local.delivered()] == ["Signed Up"]


async def test_a_browser_may_call_the_tracking_api_from_any_page(local: Local) -> None:
    """analytics.js's retry carries X-Retry-Count, so the browser asks first (a CORS preflight)."""
    origin = {"Origin": "http://shop.example:3000"}
    preflight = {**origin, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type,x-retry-count"}
    async with local.session.options(local.url.rstrip("/") + "/v1/batch", headers=preflight) as response:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == origin["Origin"]
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        allowed = response.headers["Access-Control-Allow-Headers"].lower()
        assert all(name in allowed for name in ("content-type", "x-retry-count", "authorization"))
    status, _ = await local.call("/v1/batch", {"batch": [track()]}, headers=origin)
    async with local.session.post(local.url.rstrip("/") + "/v1/t", data=orjson.dumps(track()),
                                  headers={**origin, "Content-Type": "text/plain"}) as response:
        assert response.status == 200 and response.headers["Access-Control-Allow-Origin"] == origin["Origin"]
    assert status == 200
    await local.tracking.settle()
    preflights = [e for e in local.exchanges() if e.method == "OPTIONS"]
    assert [(e.kind, e.answer.status) for e in preflights] == [("source", 204)]  # kept, never a delivery
    assert len(local.delivered()) == 2


def test_the_envelope_adds_what_segment_adds_on_the_way() -> None:
    from inspector.local_segment.calls import Call
    from inspector.local_segment.pipeline import envelope

    browser = {"type": "track", "event": "A", "userId": "u", "messageId": "m1",
               "context": {"library": {"name": "analytics.js", "version": "next-1.70.0"}}}
    out = envelope(browser, Call([browser], write_key="wk1"), 1_700_000_000.0, "203.0.113.9")
    assert (out["channel"], out["version"], out["context"]["ip"]) == ("browser", 2, "203.0.113.9")
    assert out["projectId"] == envelope(browser, Call([browser], write_key="wk1"), 0.0)["projectId"]  # stable
    mobile = {**browser, "context": {"library": {"name": "analytics-ios"}, "ip": "198.51.100.1"}}
    assert envelope(mobile, Call([mobile]), 0.0, "203.0.113.9")["context"]["ip"] == "198.51.100.1"  # its own kept
    server = {**browser, "context": {"library": {"name": "analytics-python"}}, "channel": "server"}
    assert "ip" not in envelope(server, Call([server]), 0.0, "203.0.113.9")["context"]  # servers collect none

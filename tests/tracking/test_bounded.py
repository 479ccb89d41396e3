"""Local Segment under a flood: the delivery queue is bounded, each event counts against the rate
limit, and every event answered 200 is delivered or kept with why it was not."""

from __future__ import annotations

from inspector.core.policy import Policy
from inspector.core.query import parse
from inspector.local_segment.deliveries import STOPPED
from inspector.local_segment.options import TrackingOptions

from .conftest import open_local
from .test_tracking_api import track


async def test_a_full_delivery_queue_answers_429_with_retry_after_and_accepts_nothing(tmp_path) -> None:
    # Every delivery to our own partner side is held, so the first four events stay queued or under way.
    policy = Policy()
    options = TrackingOptions(time_scale=0.001, retries=0, concurrency=2, queued_events=4)
    async with open_local(tmp_path, options, policy) as local:
        local.hub.start_holding(parse("-kind:source"), timeout=60)
        assert (await local.call("/v1/batch", {"batch": [track() for _ in range(4)]}))[0] == 200
        await local.until(lambda: len(local.hub.held()) == 2, "two deliveries under way, held")
        status, body = await local.call("/v1/track", track())
        assert status == 429 and "queue is full (4 events waiting)" in body["message"]
        [refused] = [e for e in local.exchanges("source") if e.answer.status == 429]
        assert ("Retry-After", "5") in refused.answer.headers
        assert "TRK003" in [f.code for f in refused.findings] and refused.pipeline == []
        local.hub.stop_holding()
        local.hub.release_all()
        await local.tracking.settle()
        assert (await local.call("/v1/track", track()))[0] == 200  # room again once delivered
        await local.tracking.settle()
        assert len(local.delivered()) == 5


async def test_an_event_accepted_but_never_delivered_is_kept_saying_why(tmp_path) -> None:
    options = TrackingOptions(time_scale=1.0, retries=9, deliver_to="http://127.0.0.1:9/hook")
    async with open_local(tmp_path, options) as local:
        assert (await local.call("/v1/batch", {"batch": [track() for _ in range(3)]}))[0] == 200
        await local.until(lambda: len(local.exchanges("delivery")) == 3, "a first attempt each (refused)")
    # stopped during the backoff: each accepted event has a last record saying it was not delivered
    deliveries = [e for e in local.exchanges("delivery") if e.destination.error == STOPPED]
    [source] = local.exchanges("source")
    assert sorted(e.link.message_id for e in deliveries) == sorted(f.message_id for f in source.pipeline)


async def test_each_event_of_a_call_counts_against_the_rate_limit(tmp_path) -> None:
    async with open_local(tmp_path, TrackingOptions(time_scale=0.001), rate_limit=1) as local:
        assert (await local.call("/v1/track", track()))[0] == 200  # 1 of a burst of 2
        status, body = await local.call("/v1/batch", {"batch": [track(), track()]})
        assert status == 429 and "each event of a call counts" in body["message"]
        [refused] = [e for e in local.exchanges("source") if e.answer.status == 429]
        assert refused.pipeline == [] and ("Retry-After", "1") in refused.answer.headers

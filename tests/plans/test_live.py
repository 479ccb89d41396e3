"""A plan in a running inspector (`serve --plan`, built by the factory): every arriving event
checked and kept with its findings, and local Segment acting as Protocols' Schema Configuration."""

from __future__ import annotations

import orjson

from inspector.core.event_delivery import text as delivery_text
from inspector.core.query import parse
from inspector.local_segment.trace import links_text

from ..conftest import DATA, basic, running
from ..waiting import until

PLAN = str(DATA / "plans" / "example.json")


def order(message_id: str, **properties: object) -> dict:
    return {"type": "track", "event": "Order Completed", "userId": "u1", "messageId": message_id,
            "properties": {"order_id": "o1", **properties}}


async def test_serve_checks_each_partner_event_and_keeps_the_findings_searchable(tmp_path):
    async with running(tmp_path, plan=PLAN) as inspector:
        status, _, _ = await inspector.post(orjson.dumps(order("m1", revenue="9")))
        assert status == 200  # the plan reports; it does not change our answer
        await inspector.post(orjson.dumps([order("m2"), {**order("m3"), "event": "Refunded"}]))
        await inspector.post(orjson.dumps(order("m4", revenue=3)))
        found = inspector.history.search(parse("finding:PLAN003"))
        assert len(found) == 1
        kept = inspector.history.get(found[0].id)
        [violation] = [f for f in kept.findings if f.code.startswith("PLAN")]
        assert (violation.path, violation.severity) == ("$.properties.revenue", "error")
        assert "TRACK 'Order Completed' v1" in violation.message
        [batch] = inspector.history.search(parse("finding:PLAN001"))
        unplanned = [f for f in inspector.history.get(batch.id).findings if f.code == "PLAN001"]
        assert [(f.event, f.path) for f in unplanned] == [(1, "$.event")]
        assert len(inspector.history.search(parse("finding:PLAN*"))) == 2


async def test_a_plan_started_later_checks_what_arrives_from_then_on(tmp_path):
    from inspector.core.plans import Checking, load_plan

    async with running(tmp_path) as inspector:
        await inspector.post(orjson.dumps(order("m1", revenue="9")))
        inspector.hub.check_with(Checking(load_plan(PLAN)))
        await inspector.post(orjson.dumps(order("m2", revenue="9")))
        found = inspector.history.search(parse("finding:PLAN003"), newest_first=False)
        assert [inspector.history.get(s.id).events[0].message_id for s in found] == ["m2"]


def linked(inspector) -> list:
    """What local Segment delivered, as this inspector's partner side received it."""
    found = [inspector.history.get(s.id) for s in inspector.history.search(parse("kind:\"\""))]
    return [e for e in found if e is not None and e.link is not None]


async def source_call(inspector, batch: list[dict]) -> int:
    async with inspector.session.post(inspector.url.rstrip("/") + "/v1/batch", data=orjson.dumps({"batch": batch}),
                                      headers={"Content-Type": "application/json",
                                               "Authorization": basic("wk")}) as response:
        return response.status


async def test_local_segment_blocks_and_omits_as_schema_configuration_does(tmp_path):
    flags = {"plan": PLAN, "block_unplanned_events": True, "omit_unplanned_properties": True,
             "omit_unplanned_traits": True, "on_violation": "omit", "time_scale": 0.001}
    async with running(tmp_path, **flags) as inspector:
        batch = [order("m1", coupon="X"),                                   # unplanned property: omitted
                 {**order("m2"), "event": "Refunded"},                      # unplanned event: blocked
                 order("m3", currency="usd", revenue=2),                    # violation: the field omitted
                 {"type": "identify", "userId": "u1", "messageId": "m4",
                  "traits": {"email": "a@example.com", "nickname": "z"}},   # unplanned trait: omitted
                 order("m5")]                                               # conforms: as sent
        assert await source_call(inspector, batch) == 200

        def delivered() -> dict[str, dict]:
            return {e.link.message_id: orjson.loads(e.body) for e in linked(inspector)}

        await until(lambda: len(delivered()) == 4, what="four events delivered")
        got = delivered()
        assert "m2" not in got
        assert got["m1"]["properties"] == {"order_id": "o1"}
        assert got["m3"]["properties"] == {"order_id": "o1", "revenue": 2}
        assert got["m4"]["traits"] == {"email": "a@example.com"}
        assert got["m5"]["properties"] == {"order_id": "o1"}
        [source] = inspector.history.search(parse("kind:source"))
        call = inspector.history.get(source.id)
        fates = {fate.message_id: (fate.fate, fate.detail) for fate in call.pipeline}
        assert fates["m2"][0] == "blocked" and "not in the tracking plan" in fates["m2"][1]
        assert fates["m1"] == ("delivering", "omitted by the tracking plan: $.properties.coupon")
        assert fates["m3"] == ("delivering", "omitted by the tracking plan: $.properties.currency")
        assert fates["m5"] == ("delivering", "")
        deliveries = inspector.hub.deliveries(call.id)
        lines = links_text(call, deliveries)
        assert any("m2  blocked: 'Refunded' is not in the tracking plan" in line for line in lines), lines
        assert any("m1  delivered: 200" in line and "omitted by the tracking plan" in line for line in lines)
        assert {f.code for f in call.findings} >= {"PLAN001", "PLAN004", "PLAN005"}
        report = inspector.hub.delivery(parse(""))
        assert (report.blocked, report.omitted, report.plan_ids) == (1, 3, [call.id])
        assert report.to_doc()["plan"] == {"blocked": 1, "omitted": 3, "ids": [call.id]}
        assert any("tracking plan: 1 events blocked, 3 delivered with fields omitted" in line
                   for line in delivery_text(report))


async def test_on_violation_block_keeps_a_violating_event_from_the_destination(tmp_path):
    async with running(tmp_path, plan=PLAN, on_violation="block", time_scale=0.001) as inspector:
        assert await source_call(inspector, [order("m1", revenue="9"), order("m2")]) == 200
        await until(lambda: linked(inspector), what="a delivery")
        [source] = inspector.history.search(parse("kind:source"))
        fates = [(f.message_id, f.fate) for f in inspector.history.get(source.id).pipeline]
        assert fates == [("m1", "blocked"), ("m2", "delivering")]
        assert [e.link.message_id for e in linked(inspector)] == ["m2"]
        assert any(f.code == "PLAN003" for f in inspector.history.get(source.id).findings)


async def test_without_protocols_flags_violations_are_reported_and_everything_is_delivered(tmp_path):
    async with running(tmp_path, plan=PLAN, time_scale=0.001) as inspector:
        assert await source_call(inspector, [order("m1", revenue="9"), {**order("m2"), "event": "Nope"}]) == 200
        await until(lambda: len(linked(inspector)) == 2, what="both delivered")
        [source] = inspector.history.search(parse("kind:source"))
        call = inspector.history.get(source.id)
        assert [f.fate for f in call.pipeline] == ["delivering", "delivering"]
        assert [(f.code, f.path) for f in call.findings if f.code.startswith("PLAN")] == [
            ("PLAN003", "$.batch[0].properties.revenue"), ("PLAN001", "$.batch[1].event")]
        arrived = {e.link.message_id: {f.code for f in e.findings} for e in linked(inspector)}
        assert "PLAN001" in arrived["m2"] and "PLAN003" in arrived["m1"]  # checked again on arrival

"""The Pipeline tab's text and the jump key's target, from real exchanges made by the pipeline."""

from __future__ import annotations

import uuid

from inspector.local_segment.trace import jump_target
from inspector.tui.widgets.detail.pipeline import describe

from .conftest import Local


async def test_pipeline_tab_lists_fates_and_jump_goes_both_ways(local: Local) -> None:
    kept, again = f"k-{uuid.uuid4()}", f"a-{uuid.uuid4()}"
    batch = [{"type": "track", "event": "Kept", "userId": "u1", "messageId": kept},
             {"type": "track", "event": "Off", "userId": "u1", "messageId": again, "integrations": {"All": False}}]
    assert (await local.call("/v1/batch", {"batch": batch}))[0] == 200
    await local.until(lambda: len(local.delivered()) == 1, "delivered")
    await local.tracking.settle()
    source = local.exchanges("source")[0]
    delivery = local.delivered()[0]
    text = describe(source, local.hub.deliveries(source.id)).plain
    assert f"delivered    {kept}" in text and "delivered: 200 in" in text and f"delivery {delivery.id}" in text
    assert f"filtered     {again}" in text and '"All": false' in text
    assert f"from source call {source.id}" in describe(delivery, []).plain
    assert jump_target(source, local.hub.deliveries) == delivery.id
    assert jump_target(delivery, local.hub.deliveries) == source.id

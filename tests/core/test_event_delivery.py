"""Event Delivery over kept exchanges: counts, errors grouped by status and message, timeline, latency."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from inspector.core.event_delivery import BARS, DeliveryReport, aggregate, hold_text, sparkline, summarize, text
from inspector.core.history import History
from inspector.core.history.columns import fates_of
from inspector.core.model import Answer, Destination, Fate, Link
from inspector.core.query import parse

from ..factories import make_event, make_exchange

NOW = 1_800_000_000.0


def kept(tmp_path: Path) -> History:
    """A history with answered, forwarded and unanswered exchanges over the last 20 minutes."""
    history = History(tmp_path)
    history.start_session()
    for index in range(10):
        history.add(make_exchange(make_event(messageId=f"ok-{index}"), status=200, now=NOW - index * 60))
    for index in range(3):
        failed = make_exchange(make_event(messageId=f"down-{index}"), status=503, now=NOW - 30 - index)
        failed.answer = Answer(503, orjson.dumps({"message": "database down"}))
        failed.duration = 0.25
        history.add(failed)
    forwarded = make_exchange(make_event(messageId="fw"), status=200, now=NOW - 1200)
    forwarded.destination = Destination("http://127.0.0.1:9/", 401, [("Content-Type", "application/json")],
                                        b'{"message": "API token expired"}', 0.5)
    history.add(forwarded)
    timed_out = make_exchange(make_event(messageId="slow"), now=NOW - 5)
    timed_out.destination = Destination("http://127.0.0.1:9/", None, error="no answer within 5 s", duration=5.0)
    history.add(timed_out)
    waiting = make_exchange(make_event(messageId="held"), now=NOW - 2)
    waiting.answer = None
    history.add(waiting)
    history.close()
    return History(tmp_path).load()


def test_counts_groups_and_latency_match_the_history(tmp_path: Path) -> None:
    history = kept(tmp_path)
    report = summarize(history, parse("since:1h", now=lambda: NOW), now=NOW)
    assert report.counts == {"delivered": 10, "retried": 4, "dropped": 1} and report.unanswered == 1
    groups = {group.label: group for group in report.groups}
    # most, then newest
    assert list(groups) == ["503  'database down'", "no answer within 5 s", "401  'API token expired'"]
    assert [history.get(i).answer.status for i in groups["503  'database down'"].ids] == [503, 503, 503]
    assert groups["401  'API token expired'"].outcome == "dropped"
    assert report.percentile(99) == 0.5  # the timed-out one has no latency: it never answered
    assert report.interval == 60 and len(report.bars) == BARS
    assert sum(bar.delivered for bar in report.bars) == 10 and sum(bar.failed for bar in report.bars) == 5
    assert report.bars[-2].failed + report.bars[-1].failed == 4  # the last minute: three 503s, the timeout


def test_the_window_is_a_query(tmp_path: Path) -> None:
    history = kept(tmp_path)
    report = summarize(history, parse("since:2m", now=lambda: NOW), now=NOW)
    assert report.counts == {"delivered": 3, "retried": 4, "dropped": 0}  # at or after NOW - 120
    assert aggregate([], "", NOW).total == 0


def test_an_sdk_event_counts_once_by_its_delivery(tmp_path: Path) -> None:
    """A Tracking API call is the SDK's side: its events count by their deliveries, and a call
    Segment refused (400) is no error of the destination."""
    history = History(tmp_path)
    history.start_session()
    call = make_exchange({"batch": [make_event(messageId="a"), make_event(messageId="b")]}, now=NOW - 10)
    call.kind, call.path = "source", "/v1/batch"
    history.add(call)
    refused = make_exchange(b"{not json", status=400, now=NOW - 9)
    refused.kind, refused.path = "source", "/v1/batch"
    refused.answer = Answer(400, b'{"message": "the body is not JSON"}')
    history.add(refused)
    for index, message_id in enumerate("ab"):
        delivered = make_exchange(make_event(messageId=message_id), now=NOW - 8 + index)
        delivered.link = Link(call.id, message_id)
        history.add(delivered)
    report = summarize(history, parse("since:1h", now=lambda: NOW), now=NOW)
    assert report.counts == {"delivered": 2, "retried": 0, "dropped": 0} and report.groups == []
    named = summarize(history, parse("kind:source", now=lambda: NOW), now=NOW)
    assert named.counts["delivered"] == 1 and [g.label for g in named.groups] == ["400  'the body is not JSON'"]
    history.close()


def test_sparkline_scales_to_the_busiest_bar() -> None:
    assert sparkline([0, 1, 4, 8]) == " ▁▄█"
    assert sparkline([0, 0]) == "▁▁"


def test_delivery_command(tmp_path: Path) -> None:
    kept(tmp_path).close()
    run = subprocess.run([sys.executable, "-m", "inspector", "delivery", "--data-dir", str(tmp_path), "--json",
                          "status:5xx"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["retried"] == 3 and doc["errors"][0]["message"] == "database down"
    run = subprocess.run([sys.executable, "-m", "inspector", "delivery", "--data-dir", str(tmp_path), "status:"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "query error" in run.stderr


def test_send_and_event_delivery_share_one_percentile() -> None:
    import random

    from inspector.core.event_delivery import DeliveryReport, percentile
    from inspector.send import Latencies

    values = [0.5, 0.1, 0.3, 0.2, 0.4]
    latency = Latencies(random.Random(1))
    for value in values:
        latency.add(value)
    report = DeliveryReport("", NOW, latencies=sorted(values))
    assert [latency.percentile(p) for p in (50, 95)] == [report.percentile(p) for p in (50, 95)] \
        == [percentile(sorted(values), p) for p in (50, 95)] == [0.3, 0.5]
    assert percentile([], 50) is None


def test_the_time_a_request_was_held_is_counted_apart_from_the_latency(tmp_path: Path) -> None:
    """A request held 30 s and then released is no 30 s endpoint: its wait is a hold time."""
    history = History(tmp_path)
    history.start_session()
    for index in range(4):
        quick = make_exchange(make_event(messageId=f"quick-{index}"), status=200, now=NOW - 10 - index)
        quick.duration = 0.01
        history.add(quick)
    released = make_exchange(make_event(messageId="released"), status=200, now=NOW - 60)
    released.answer = Answer(200, b"{}", "hold released")
    released.duration = 30.002
    history.add(released)
    sent_on = make_exchange(make_event(messageId="sent on"), status=200, now=NOW - 50)
    sent_on.answer = Answer(200, b"{}", "hold: forward")
    sent_on.destination = Destination("http://127.0.0.1:9/", 200, [], b"{}", 0.2)
    sent_on.duration = 12.2
    history.add(sent_on)
    history.close()
    report = summarize(History(tmp_path).load(), parse("since:1h", now=lambda: NOW), now=NOW)
    assert report.counts["delivered"] == 6
    assert report.percentile(99) == 0.2  # the endpoint's own answer to the one sent on
    assert report.holds == pytest.approx([12.0, 30.002])
    [line] = [line for line in text(report) if line.startswith("latency")]
    assert "2 held requests: p50 30002 ms, max 30002 ms, not in the latency" in line
    attached = DeliveryReport.from_doc(orjson.loads(orjson.dumps(report.to_doc())), now=NOW)
    assert attached.holds == pytest.approx(report.holds) and hold_text(attached) == hold_text(report)


def everything(tmp_path: Path) -> History:
    """kept()'s history, plus held requests and a Tracking API call whose events the plan blocked."""
    history = kept(tmp_path).load()
    history.start_session()
    released = make_exchange(make_event(messageId="released"), now=NOW - 70)
    released.answer = Answer(503, orjson.dumps({"message": "held, then failed"}), "hold released")
    released.duration = 9.5
    history.add(released)
    call = make_exchange({"batch": [make_event(messageId="x"), make_event(messageId="y")]}, now=NOW - 15)
    call.kind, call.path = "source", "/v1/batch"
    call.pipeline = [Fate("x", "blocked"), Fate("y", "delivering", "omitted by the tracking plan: $.properties.z")]
    history.add(call)
    history.close()
    return History(tmp_path).load()


def test_event_delivery_reads_no_shard(tmp_path: Path) -> None:
    """The report from the history's columns is the report from the documents, with the shards gone."""
    window = parse("since:1h", now=lambda: NOW)
    history = everything(tmp_path)
    from_documents = aggregate(history.documents(window.without_sources()), window.text, NOW)
    for doc in history.documents(window.only_sources()):
        from_documents.count_fates(doc["id"], fates_of(doc))
    assert from_documents.counts == {"delivered": 10, "retried": 5, "dropped": 1} and from_documents.holds == [9.5]
    assert (from_documents.blocked, from_documents.omitted) == (1, 1)
    for shard in tmp_path.glob("*/*.json"):
        if not shard.name.endswith(".sum.json") and shard.name != "shards.json":
            shard.rename(shard.with_suffix(".gone"))
    from_columns = summarize(History(tmp_path).load(), window, now=NOW)
    assert from_columns.to_doc() == from_documents.to_doc()
    assert from_columns.groups[0].label == "503  'database down'" and len(from_columns.groups) == 4


def test_a_summary_file_from_before_the_delivery_columns_is_read_from_its_shard(tmp_path: Path) -> None:
    window = parse("since:1h", now=lambda: NOW)
    expected = summarize(everything(tmp_path), window, now=NOW).to_doc()
    for summary_file in tmp_path.glob("*/*.sum.json"):
        doc = orjson.loads(summary_file.read_bytes())
        for table in doc.values():
            for columns in table.values():
                del columns["latency"], columns["holds"]
        summary_file.write_bytes(orjson.dumps(doc))
    history = History(tmp_path).load()
    assert summarize(history, window, now=NOW).to_doc() == expected
    assert history.problems == []

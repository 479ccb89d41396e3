"""`segment-inspector mcp --data-dir`, driven by the SDK's stdio client: every tool once, the
errors an agent can act on, and untrusted text kept inert."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from ..endpoint import serving
from ..review.endpoints import KEY, serving as review_serving
from .conftest import HOSTILE, agent, call, refusal, text

TOOLS = {"search_exchanges", "get_exchange", "lint_event", "set_default_answer", "add_rule", "hold",
         "answer_held", "send_events", "review_endpoint", "delivery_report", "export_fixtures"}


def cli(*args: str) -> str:
    """What the command line prints, to compare the tools with."""
    return subprocess.run([sys.executable, "-m", "inspector", *args], capture_output=True, text=True).stdout


def history_ids(data: Path, query: str) -> list[str]:
    return [json.loads(line)["id"] for line in cli("history", query, "--json", "--data-dir", str(data)).splitlines()]


async def test_tools_are_listed_with_descriptions_and_input_schemas(kept, tmp_path):
    async with agent("--data-dir", str(kept), cwd=tmp_path) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        assert set(tools) == TOOLS
        for tool in tools.values():
            assert len(tool.description or "") > 80 and "        " not in (tool.description or ""), tool.name
            assert tool.input_schema["type"] == "object", tool.name
        assert tools["get_exchange"].input_schema["required"] == ["id"]
        assert tools["search_exchanges"].input_schema["properties"]["limit"]["maximum"] == 1000
        assert set(tools["export_fixtures"].input_schema["properties"]["format"]["enum"]) == \
            {"json", "jsonl", "pytest", "curl", "har"}
        assert tools["set_default_answer"].input_schema["properties"]["status"]["minimum"] == 100


async def test_search_finds_the_ids_history_finds_and_get_reads_one_in_full(kept, tmp_path):
    async with agent("--data-dir", str(kept), cwd=tmp_path) as session:
        for query in ("", "type:track", "finding:SPEC008", "status:4xx", "Completed"):
            found = await call(session, "search_exchanges", query=query)
            assert [row["id"] for row in found["exchanges"]] == await asyncio.to_thread(history_ids, kept, query), query
        [bad] = (await call(session, "search_exchanges", query="finding:SPEC008"))["exchanges"]
        assert bad["codes"] == ["SPEC008"] and bad["types"] == ["track"] and bad["status"] == 200
        ids = await asyncio.to_thread(history_ids, kept, "")
        prefix = next(bad["id"][:n] for n in range(6, 27) if sum(i.startswith(bad["id"][:n]) for i in ids) == 1)
        whole = await call(session, "get_exchange", id=prefix)
        assert whole["id"] == bad["id"] and whole["auth"]["key"] == "segment"
        assert ["User-Agent", "Segment.io/1.0"] in whole["headers"]
        assert json.loads(whole["body"])["messageId"] == "m-bad"
        [finding] = [f for f in whole["findings"] if f["code"] == "SPEC008"]
        assert finding["url"] == "https://segment.com/docs/connections/spec/common/"
        assert whole["response"]["status"] == 200
        assert whole["segment"]["outcome"] == "delivered" and "accepted" in whole["segment"]["meaning"]
        broken = (await call(session, "search_exchanges", query="finding:REQ003"))["exchanges"][0]
        assert (await call(session, "get_exchange", id=broken["id"]))["segment"]["outcome"] == "dropped"


async def test_bad_input_is_a_tool_error_that_says_what_is_wrong_and_serving_goes_on(kept, tmp_path):
    async with agent("--data-dir", str(kept), cwd=tmp_path) as session:
        error = await refusal(session, "search_exchanges", query="status:(")
        assert "query error" in error and "at position 7" in error and error.endswith("^")
        assert "needs 6 or more" in await refusal(session, "get_exchange", id="01ab")
        assert "no exchange '0000000000'" in await refusal(session, "get_exchange", id="0000000000")
        assert "not JSON" in await refusal(session, "lint_event", event="{\"type\": \"track\",")
        assert "outside the working directory" in await refusal(session, "export_fixtures", format="jsonl",
                                                                 path="../out.jsonl")
        assert "format: one of" in await refusal(session, "export_fixtures", format="xml")
        assert "is not a call type" in await refusal(session, "review_endpoint", to="http://127.0.0.1:9/",
                                                     api_key="k", unsupported=["delete"])
        assert "URL" in await refusal(session, "send_events", to="ftp://nowhere")
        assert "status" in await refusal(session, "set_default_answer", status=42)
        for tool, arguments in (("set_default_answer", {"status": 503}), ("add_rule", {"query": "type:track",
                                "status": 400}), ("hold", {}), ("answer_held", {"id": "0123456789"})):
            error = await refusal(session, tool, **arguments)
            assert "segment-inspector serve" in error and "--attach" in error, tool
        assert len((await call(session, "search_exchanges"))["exchanges"]) == 6  # still serving
    assert not (tmp_path.parent / "out.jsonl").exists()


async def test_untrusted_text_reaches_the_agent_inert(kept, tmp_path):
    async with agent("--data-dir", str(kept), cwd=tmp_path) as session:
        [row] = (await call(session, "search_exchanges", query="message:m-hostile"))["exchanges"]
        for result in (await session.call_tool("get_exchange", {"id": row["id"]}),
                       await session.call_tool("search_exchanges", {"query": "message:m-hostile"}),
                       await session.call_tool("lint_event", {"event": {"type": "track", "event": HOSTILE}}),
                       await session.call_tool("get_exchange", {"id": "\x1b[2J\u202e0123456"})):
            shown = text(result)
            assert not any(char in shown for char in "\x1b\x9b\u202e"), shown
        assert "\\u202e" in text(await session.call_tool("get_exchange", {"id": "\x1b[2J\u202e0123456"}))
        assert json.loads(text(await session.call_tool("get_exchange", {"id": row["id"]})))["events"][0]["event"] \
            == HOSTILE  # inert, not altered: the JSON still holds the name as sent


async def test_lint_gives_what_lint_json_gives(kept, tmp_path):
    event = {"type": "track", "event": "Order Completed", "properties": {"revenue": "19.99"}}
    (tmp_path / "event.json").write_text(json.dumps([event, {"type": "identify", "userId": "u1"}]))
    printed = (await asyncio.to_thread(cli, "lint", str(tmp_path / "event.json"), "--json")).splitlines()
    async with agent("--data-dir", str(kept), cwd=tmp_path) as session:
        linted = await call(session, "lint_event", event=[event, {"type": "identify", "userId": "u1"}])
        batch = await call(session, "lint_event", event='{"batch": [{"type": "track"}]}')
    expected = [{k: v for k, v in json.loads(line).items() if k != "source"} for line in printed]
    assert [{k: v for k, v in doc.items() if k != "source"} for doc in linted["events"]] == expected
    assert [doc["source"] for doc in linted["events"]] == ["event[0]", "event[1]"]
    assert linted["errors"] == 1  # a track without userId or anonymousId
    assert "SPEC060" in {f["code"] for f in batch["events"][0]["findings"]}


async def test_delivery_and_export_as_the_cli_does(kept, tmp_path):
    printed = json.loads(await asyncio.to_thread(cli, "delivery", "--json", "--data-dir", str(kept)))
    async with agent("--data-dir", str(kept), cwd=tmp_path) as session:
        report = await call(session, "delivery_report")
        assert (report["delivered"], report["dropped"]) == (printed["delivered"], printed["dropped"])
        assert report["dropped"] == 1
        written = await call(session, "export_fixtures", format="pytest", query="type:track")
        module = tmp_path / "test_segment_events.py"
        assert written["files"] == [str(module)] and written["exported"] == 5 and written["holdsApiKeys"]
        assert "m-hostile" in module.read_text()
        again = await refusal(session, "export_fixtures", format="pytest", query="type:track")
        assert "not overwriting" in again and "force=true" in again
        redacted = await call(session, "export_fixtures", format="pytest", force=True, redact=True)
        assert redacted["holdsApiKeys"] is False
        elsewhere = tmp_path / "elsewhere" / "requests.jsonl"
        assert (await call(session, "export_fixtures", format="jsonl", path=str(elsewhere)))["exported"] == 5
        assert len(elsewhere.read_text().splitlines()) == 5
        nothing = await refusal(session, "export_fixtures", format="jsonl", query="type:alias", path="a.jsonl")
        assert "no exchange matches" in nothing


async def test_send_events_gives_each_answer_and_what_segment_does(kept, tmp_path):
    async with serving() as endpoint, agent("--data-dir", str(kept), cwd=tmp_path) as session:
        endpoint.statuses = [503, 400]
        sent = await call(session, "send_events", to=endpoint.url,
                          events=[{"type": "track", "event": "A", "userId": "u", "messageId": "a"},
                                  {"type": "track", "event": "B", "userId": "u", "messageId": "b"},
                                  {"type": "track", "event": "C", "userId": "u", "messageId": "c"}], api_key="k9")
        assert sent["sent"] == 3 and len(endpoint.seen) == 3
        assert sorted((a["status"], a["outcome"]) for a in sent["answers"]) == \
            [(200, "delivered"), (400, "dropped"), (503, "retried")]
        assert all(seen.headers["User-Agent"] == "Segment.io/1.0" and seen.headers["Authorization"] ==
                   "Basic azk6" for seen in endpoint.seen)
        generated = await call(session, "send_events", to=endpoint.url, seed=1)
        assert generated["sent"] > 50 and generated["delivered"] == generated["sent"]
        assert {a["type"] for a in generated["answers"]} >= {"identify", "track", "page", "screen", "group", "alias"}
        before = len(endpoint.seen)
        replayed = await call(session, "send_events", to=endpoint.url, query="message:m-0 OR message:m-1")
        assert [a["messageId"] for a in replayed["answers"]] == ["m-0", "m-1"]
        assert [seen.json()["messageId"] for seen in endpoint.seen[before:]] == ["m-0", "m-1"]
        assert "not both" in await refusal(session, "send_events", to=endpoint.url, events=[], query="")


async def test_review_endpoint_gives_what_review_json_gives(kept, tmp_path):
    async with review_serving() as url, agent("--data-dir", str(kept), cwd=tmp_path) as session:
        report = await call(session, "review_endpoint", to=url, api_key=KEY)
    checks = {check["id"]: check["verdict"] for check in report["checks"]}
    assert checks.pop("https") == "warn" and set(checks.values()) == {"pass"}
    assert report["sent"] > 400 and report["session"]
    reviewed = await asyncio.to_thread(history_ids, kept, "kind:review")  # kept, as `review` keeps them
    assert len(reviewed) == min(report["sent"], 100)


async def test_every_finding_code_is_a_resource(kept, tmp_path):
    async with agent("--data-dir", str(kept), cwd=tmp_path) as session:
        listed = {str(resource.uri) for resource in (await session.list_resources()).resources}
        assert {"inspector://checks", "inspector://checks/SPEC008", "inspector://checks/AUTH001"} <= listed
        [page] = (await session.read_resource("inspector://checks/SPEC008")).contents
        assert page.text.startswith("# SPEC008 (error)") and "https://segment.com/docs/" in page.text
        [lower] = (await session.read_resource("inspector://checks/spec008")).contents
        assert lower.text == page.text
        [whole] = (await session.read_resource("inspector://checks")).contents
        assert whole.text == (Path(__file__).parents[2] / "docs" / "checks.md").read_text()

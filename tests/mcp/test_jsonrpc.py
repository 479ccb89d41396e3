"""`segment-inspector mcp` driven by hand: newline-delimited JSON-RPC 2.0 on its stdin, as any
MCP client writes it, without the SDK on this side."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..waiting import DEADLINE


class Bare:
    """A JSON-RPC client over the server's pipes: `request` writes one line and waits for its answer."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[str] = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.next_id += 1
        self.send(json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method,
                              **({"params": params} if params is not None else {})}))
        while True:
            answer = json.loads(self.lines.get(timeout=DEADLINE * 2))
            if answer.get("id") == self.next_id:
                return answer


@pytest.fixture
def bare(kept: Path, tmp_path: Path) -> Iterator[Bare]:
    with (tmp_path / "stderr.log").open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "inspector", "mcp", "--data-dir", str(kept)],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
                                   cwd=tmp_path)
        try:
            yield Bare(process)
        finally:
            assert process.stdin is not None
            process.stdin.close()  # end of input: the server stops on its own
            assert process.wait(timeout=DEADLINE) == 0


def test_initialize_list_call_and_errors_over_plain_json_rpc(bare: Bare) -> None:
    hello = bare.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                        "clientInfo": {"name": "bare", "version": "1"}})
    assert hello["result"]["serverInfo"]["name"] == "segment-inspector"
    assert "tools" in hello["result"]["capabilities"] and "search_exchanges" in hello["result"]["instructions"]
    bare.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
    tools = {tool["name"]: tool for tool in bare.request("tools/list")["result"]["tools"]}
    assert len(tools) == 11
    lint_schema = tools["lint_event"]["inputSchema"]
    assert lint_schema["required"] == ["event"] and {"type": "object", "additionalProperties": True} in \
        lint_schema["properties"]["event"]["anyOf"]

    found = bare.request("tools/call", {"name": "search_exchanges", "arguments": {"query": "type:track", "limit": 2}})
    rows = json.loads(found["result"]["content"][0]["text"])["exchanges"]
    assert found["result"]["isError"] is False and len(rows) == 2 and rows[0]["time"] >= rows[1]["time"]

    wrong = bare.request("tools/call", {"name": "search_exchanges", "arguments": {"query": "since:yesterdayish"}})
    assert wrong["result"]["isError"] is True and "at position 6" in wrong["result"]["content"][0]["text"]
    typed = bare.request("tools/call", {"name": "search_exchanges", "arguments": {"limit": "many"}})
    assert typed["result"]["isError"] is True and "limit" in typed["result"]["content"][0]["text"]
    assert bare.request("tools/call", {"name": "no_such_tool", "arguments": {}})["result"]["isError"] is True
    bare.send("this is not JSON-RPC")
    missing = bare.request("resources/read", {"uri": "inspector://checks/NOPE999"})
    assert "no finding code 'NOPE999'" in missing["error"]["message"]

    page = bare.request("resources/read", {"uri": "inspector://checks/AUTH001"})  # still serving
    assert page["result"]["contents"][0]["text"].startswith("# AUTH001 (error)")

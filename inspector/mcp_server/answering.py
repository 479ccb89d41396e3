"""The tools that choose how the live receiver answers: the default answer, rules, holding
requests for a person (here, the agent) and answering what is held.

They act on a running `serve` only (`mcp --attach`): a data directory alone receives nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from ..cli.common import query as parsed
from ..control.client import ControlClient
from ..core import values
from .backends import Backend
from .results import refusals, reply

Status = Annotated[int, Field(ge=100, le=599, description="the HTTP status to answer, e.g. 200, 400, 429, 503")]
Message = Annotated[str | None, Field(description="the answer's JSON `message`, which Segment shows in its "
                                                  "debugger")]


class Answering:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def _control(self, tool: str) -> ControlClient:
        if self.backend.answers is None:
            raise ToolError(f"{tool} changes how a running inspector answers: this server reads a data "
                            "directory, where nothing is received. Start `segment-inspector serve` and run "
                            "`segment-inspector mcp --attach URL --token-file PATH` instead.")
        return self.backend.answers

    @refusals
    async def set_default_answer(
            self, status: Status, message: Message = None,
            delay: Annotated[float, Field(ge=0, le=60, description="seconds to wait before answering")] = 0.0) -> str:
        """Answer every request no rule matches with this status (and message): 503 to see what
        Segment retries, 400 to see what it drops, 200 to accept. Returns the new default."""
        doc: dict[str, Any] = {"status": status, "message": message, "delay": delay}
        return reply({"default": await self._control("set_default_answer").set_default(doc)})

    @refusals
    async def add_rule(
            self, query: Annotated[str, Field(description="which requests, in the language of `history`, "
                                                          "e.g. 'event:Purchase' or 'type:identify'")],
            status: Status, message: Message = None,
            at: Annotated[int | None, Field(ge=0, description="its place among the rules, from 0 "
                                                              "(the first match wins); default: last")] = None,
    ) -> str:
        """Answer the requests the query matches with this status, before the default answer.
        Returns every rule, in order."""
        parsed(query)
        rule = f"{query} => {status}" + (f":{message}" if message else "")
        return reply(await self._control("add_rule").add_rule(rule, at))

    @refusals
    async def hold(
            self, query: Annotated[str, Field(description="which new requests to hold, in the language of "
                                                          "`history`; empty: all")] = "",
            count: Annotated[int | None, Field(ge=1, description="hold only the next N, then answer as "
                                                                 "before")] = None,
            timeout: Annotated[str | None, Field(description="how long each waits for answer_held before it "
                                                             "falls back to the default ('30s', '2m')")] = None,
            stop: Annotated[bool, Field(description="stop holding new requests (held ones stay held)")] = False,
    ) -> str:
        """Hold new requests unanswered until answer_held answers them, as a person would in the
        inspector's TUI: find what is held with search_exchanges('is:held'). Segment gives up on
        an answer after about 5 s, so answer quickly or give a timeout."""
        control = self._control("hold")
        if stop:
            return reply(await control.stop_holding())
        if query:
            parsed(query)
        seconds = None if timeout is None else values.duration(timeout)
        return reply({"hold": await control.hold(query, count, seconds)})

    @refusals
    async def answer_held(
            self, id: Annotated[str, Field(description="the held exchange's id (search_exchanges('is:held'))")],
            status: Status = 200, message: Message = None,
            headers: Annotated[dict[str, str] | None, Field(description="headers to send, e.g. "
                                                                         "{\"Retry-After\": \"7\"}")] = None,
            body: Annotated[str | None, Field(description="a body of your own instead of the message's")] = None,
            forward: Annotated[bool, Field(description="send it on to the forward URL instead, and "
                                                       "answer with what the endpoint answers")] = False,
    ) -> str:
        """Answer one held request now: the request that waits gets this answer, and Segment
        acts on it."""
        control = self._control("answer_held")
        doc: dict[str, Any] = {"forward": True} if forward else \
            {"status": status, "message": message, "headers": headers or {}, "body": body}
        return reply(await control.resolve(id, doc))

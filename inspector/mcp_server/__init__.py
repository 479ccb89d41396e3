"""`segment-inspector mcp`: the inspector as an MCP server over stdio, for a coding agent.

An agent writing a destination gets what the developer sees and the power to try again:
search the history, read an exchange, lint an event, choose how the receiver answers, send
Segment's traffic to the endpoint it is writing and run the review. On a data directory it
reads the history as `history` does; attached to a running `serve` (`--attach URL
--token-file PATH`) it goes through the control API, and its answers act on the live receiver.

`backends` is where the tools read and act, `reading`, `answering` and `sending` the tools,
`reference` what each finding code means (served as resources), `results` what a tool returns.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from mcp.server.mcpserver.resources import TextResource

from .. import __version__
from ..cli.common import EXIT_OK, RuntimeFailure, UsageError, value_of
from ..cli.settings import Settings
from ..control.client import ControlClient, ControlError, find_token, trusting
from ..core import values
from ..core.text import inert
from . import reference
from .answering import Answering
from .backends import Attached, Backend, Local
from .reading import Reading
from .sending import Sending

INSTRUCTIONS = """\
segment-inspector receives the requests Segment sends a destination, keeps each one as an
exchange, checks it against the Segment Spec and answers it as asked. Use search_exchanges
and get_exchange to see what arrived and what was wrong (each finding's code is explained
at inspector://checks/CODE), lint_event to check a payload, send_events and review_endpoint
to try the endpoint you are writing, and set_default_answer, add_rule, hold and answer_held
(when attached to a running `serve`) to choose how the receiver answers."""

TOOLS = {
    Reading: ("search_exchanges", "get_exchange", "lint_event", "delivery_report", "export_fixtures"),
    Answering: ("set_default_answer", "add_rule", "hold", "answer_held"),
    Sending: ("send_events", "review_endpoint"),
}


def make_server(backend: Backend) -> MCPServer[Any]:
    """The MCP server of every tool and resource, over this backend."""

    @asynccontextmanager
    async def closing(_: MCPServer[Any]) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await backend.close()

    server: MCPServer[Any] = MCPServer("segment-inspector", instructions=INSTRUCTIONS, version=__version__,
                                       log_level="WARNING", lifespan=closing)
    for kind, names in TOOLS.items():
        tools = kind(backend)
        for name in names:
            tool = getattr(tools, name)
            server.add_tool(tool, name=name, description=inspect.cleandoc(tool.__doc__), structured_output=False)
    server.add_resource(TextResource(uri="inspector://checks", name="checks", mime_type="text/markdown",
                                     title="Every finding code", text=reference.document(),
                                     description="how severities are chosen, and every code by section"))
    for code, text in reference.entries().items():
        server.add_resource(TextResource(uri=f"inspector://checks/{code}", name=code, mime_type="text/markdown",
                                         text=text, description=text.split("\n\n")[2][:200]))

    @server.resource("inspector://checks/{code}", name="check", mime_type="text/markdown",
                     description="what a finding code means: its severity, why, examples and Segment's page")
    def check(code: str) -> str:
        found = reference.entries().get(code.upper())
        if found is None:
            raise ResourceNotFoundError(f"no finding code {inert(code)!r}; inspector://checks lists them all")
        return found

    return server


def attached(args: argparse.Namespace, settings: Settings) -> Attached:
    """A backend on the control API at --attach, the token from --token-file (else as `attach`
    finds it), checked before the agent is served: a wrong URL or token fails at start."""
    url = value_of("--attach", values.url, args.attach)
    try:
        token = find_token(args.token_file and str(Path(args.token_file).expanduser()), settings.data_dir)
    except (OSError, ValueError) as err:
        raise UsageError(inert(f"no control token: {err}; give --token-file PATH (the data directory's "
                               "control-token)")) from None

    try:
        trust = trusting(args.cafile)
    except ValueError as err:
        raise UsageError(inert(str(err))) from None

    async def check() -> None:
        async with ControlClient(url, token, name="mcp", trust=trust) as client:
            await client.status()

    try:
        asyncio.run(check())
    except ControlError as err:
        raise RuntimeFailure(inert(f"cannot attach to {url}: {err}")) from None
    return Attached(ControlClient(url, token, name="mcp", trust=trust), settings.data_dir)


def command(args: argparse.Namespace, settings: Settings) -> int:
    backend: Backend = attached(args, settings) if args.attach else Local(settings)
    make_server(backend).run()
    return EXIT_OK

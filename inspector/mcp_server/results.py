"""What a tool hands the agent: JSON as the CLI prints it, and refusals it can act on.

Everything from a request is untrusted: a result is written by `inert_json` and an error's
text goes through `inert`, so no terminal escape or bidi control reaches the agent's output.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec

from mcp.server.mcpserver.exceptions import ToolError

from ..cli.common import RuntimeFailure, UsageError
from ..control.client import ControlError, Unreachable
from ..core.text import inert, inert_json

Params = ParamSpec("Params")


def reply(doc: Any) -> str:
    return inert_json(doc)


def refused(text: str) -> ToolError:
    """A tool error whose lines stay lines (a query error's caret under its position)."""
    return ToolError("\n".join(inert(line) for line in text.split("\n")))


def refusals(tool: Callable[Params, Awaitable[str]]) -> Callable[Params, Awaitable[str]]:
    """Bad input and a server that says no become the tool's error text: the server keeps
    serving, and the agent reads what was wrong. Anything else is a crash the SDK reports."""

    @functools.wraps(tool)
    async def run(*args: Params.args, **kwargs: Params.kwargs) -> str:
        try:
            return await tool(*args, **kwargs)
        except Unreachable as err:
            raise refused(f"{err}: is `segment-inspector serve` still running?") from None
        except (ToolError, ControlError, UsageError, RuntimeFailure, LookupError, ValueError) as err:
            raise refused(str(err)) from None

    return run

"""The command line: the TUI by default, `serve` headless, `history`, `show`, `export`
and `replay` over the kept history, `lint` for events in files, `send` to play Segment,
`plan` for tracking plans.

Exit codes are an API (see README): 0 success, 1 nothing found or something Segment
would not accept (`show`, `lint`, `export`, `replay`, `send`), 2 bad usage (flags, config file,
query syntax, unreadable input), 3 the inspector could not run (address in use, data
directory unusable, target down).

`parser` is the grammar, `settings` what the user asked for (flags, config file,
defaults), `factory` builds the running inspector; the commands are grouped by what
they do: `serve` (serve, the TUI), `history` (history, show, export), `lint`, `send`
(send, replay); `mcp` is in `inspector.mcp_server`.
"""

from __future__ import annotations

import argparse
import sys

from ..core.query import dash_queries
from ..core.text import quiet_on_broken_pipe
from .common import EXIT_FAILURE, EXIT_USAGE, RuntimeFailure, UsageError, warn
from .history import export, history, show
from .lines import line_of
from .lint import lint
from .parser import make_parser
from .plan import plan
from .review import delivery, review
from .send import replay, send
from .serve import attach, serve, tui
from .settings import ConfigError, Settings, load


def mcp(args: argparse.Namespace, settings: Settings) -> int:
    from ..mcp_server import command  # the SDK loads only for this command

    return command(args, settings)


COMMANDS = {None: tui, "serve": serve, "history": history, "show": show, "lint": lint,
            "export": export, "replay": replay, "send": send, "review": review, "delivery": delivery,
            "attach": attach, "mcp": mcp, "plan": plan}

__all__ = ["COMMANDS", "line_of", "main"]


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(dash_queries(sys.argv[1:] if argv is None else argv))
    try:
        settings = Settings.read(args, load(args.config, explicit=args.config is not None))
        return quiet_on_broken_pipe(lambda: COMMANDS[args.command](args, settings))
    except (ConfigError, UsageError) as err:
        warn(str(err))
        return EXIT_USAGE
    except RuntimeFailure as err:
        warn(str(err))
        return EXIT_FAILURE

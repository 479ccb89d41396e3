"""The command line's grammar: the running inspector's flags come from the settings table."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import __version__
from .settings import OPTIONS, SECRET_ENV, Settings


def receiving_options(parser: argparse.ArgumentParser, default: object) -> None:
    """The options of a running inspector, shared by the TUI (top level) and `serve`.

    `serve` gets them with SUPPRESS as default, so that an option given before the
    command is not reset by the subcommand's own default.
    """
    for option in OPTIONS.values():
        if option.help is not None:
            parser.add_argument(f"--{option.name}", default=default, help=option.help, **option.flag)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="segment-inspector",
        description="Receive, check and answer the requests Segment sends your destination.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--config", type=Path, help="config file (TOML) holding flag defaults")
    receiving_options(parser, None)
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND",
        description="Without a command, the TUI starts; it takes the same options as serve.")

    def data_dir(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--data-dir", default=argparse.SUPPRESS, help="where the history is kept")

    serve = commands.add_parser("serve", help="receive requests headless, one line each")
    receiving_options(serve, argparse.SUPPRESS)
    serve.add_argument("--json", action="store_true", default=None,
                       help="print each exchange as one line of JSON")

    history = commands.add_parser("history", help="list kept exchanges, newest first")
    history.add_argument("query", nargs="*", help="search (see docs/query.md)")
    history.add_argument("--limit", type=int, help=f"at most N exchanges (default {OPTIONS['limit'].default}; 0: all)")
    history.add_argument("--json", action="store_true", default=None, help="one JSON exchange a line")
    data_dir(history)

    lint = commands.add_parser("lint", help="check events in files against the Segment Spec")
    lint.add_argument("files", nargs="+", metavar="FILE", help="JSON or JSON Lines files; - reads stdin")
    lint.add_argument("--json", action="store_true", default=None, help="one JSON result per event")
    lint.add_argument("--fill", action="store_true",
                      help="fill {{placeholders}} first, as Segment's endpoint tester does with its templates")

    show = commands.add_parser("show", help="one exchange in full")
    show.add_argument("id", help="an exchange id, or a unique prefix of it")
    show.add_argument("--json", action="store_true", default=None, help="the exchange as JSON")
    data_dir(show)

    from ..core.exporters import FORMATS

    export = commands.add_parser("export", help="write matching exchanges as json, jsonl, pytest, curl or har")
    export.add_argument("query", nargs="*", help="search (see docs/query.md); all exchanges without one")
    export.add_argument("--format", required=True, choices=list(FORMATS),
                        help="; ".join(f"{f.name}: {f.help}" for f in FORMATS.values()))
    export.add_argument("--out", metavar="PATH",
                        help="file or directory to write (default: the format's name in the current "
                             "directory); - for stdout")
    export.add_argument("--url", help="where curl and HAR send the requests (default: --public-url, "
                                      f"else the local URL, {Settings.of().local_url})")
    export.add_argument("--redact", action="store_true",
                        help="replace API keys, emails and IPs with stable placeholders")
    export.add_argument("--pretty", action="store_true", help="json: re-indent bodies that are JSON")
    export.add_argument("--force", action="store_true", help="overwrite existing files")
    export.add_argument("--limit", type=int, default=0, help="only the newest N matching exchanges (default: all)")
    data_dir(export)

    replay = commands.add_parser("replay", help="send matching requests again to an endpoint, as Segment does")
    replay.add_argument("query", nargs="*", help="search (see docs/query.md); all exchanges without one")
    replay.add_argument("--to", required=True, metavar="URL", help="the endpoint to send to")
    replay.add_argument("--api-key", dest="replay_key", metavar="KEY",
                        help="send this API key (default: the one each request carried)")
    replay.add_argument("--timeout", default=5.0, metavar="DURATION",
                        help="wait this long for each answer, as Segment does (default 5s)")
    replay.add_argument("--limit", type=int, default=0, help="only the newest N matching exchanges (default: all)")
    replay.add_argument("--json", action="store_true", default=None, help="one JSON result per request")
    data_dir(replay)

    from .review import add_parser as add_review

    add_review(commands)
    delivery = commands.add_parser("delivery", help="Event Delivery: delivered, retried, dropped, errors, latency")
    delivery.add_argument("query", nargs="*", help="which exchanges (see docs/query.md; default since:24h)")
    delivery.add_argument("--json", action="store_true", default=None, help="the summary as JSON")
    data_dir(delivery)

    send = commands.add_parser("send", help="send Segment's traffic to an endpoint: generated events or files")
    send.add_argument("--to", required=True, metavar="URL", help="the endpoint to send to")
    send.add_argument("--api-key", dest="send_key", default="segment", metavar="KEY",
                      help="the API key sent in Authorization: Basic (default: segment)")
    send.add_argument("--settings", default=argparse.SUPPRESS, metavar="JSON",
                      help="a JSON object sent base64-encoded as X-Segment-Settings")
    send.add_argument("--from", dest="from_files", action="extend", nargs="+", metavar="FILE",
                      help="send the events of JSON, JSON Lines or exported files, {{placeholders}} filled "
                           "(repeatable; default: a generated corpus of every call type and Spec event)")
    send.add_argument("--count", type=int, metavar="N", help="send N events, cycling with new messageIds")
    send.add_argument("--duration", metavar="DURATION", help="send for this long (90s, 10m), cycling")
    send.add_argument("--concurrency", type=int, default=10, metavar="N", help="requests in flight (default 10)")
    send.add_argument("--rate", type=float, metavar="PER_SECOND", help="at most this many events a second")
    send.add_argument("--timeout", default=5.0, metavar="DURATION",
                      help="wait this long for each answer, as Segment does (default 5s)")
    send.add_argument("--retries", type=int, default=0, metavar="N",
                      help="retry what Segment retries up to N times, with randomized exponential backoff")
    send.add_argument("--time-scale", type=float, default=argparse.SUPPRESS, metavar="F",
                      help="multiply every backoff wait by F (0.01: a 1 s wait takes 10 ms)")
    send.add_argument("--seed", type=int, help="seed the generated events and the backoff")
    send.add_argument("--shared-secret", default=argparse.SUPPRESS, metavar="SECRET",
                      help="sign each body as Segment's Webhooks destination does (X-Signature, HMAC-SHA1); "
                           f"default: {SECRET_ENV}, else the config file's shared-secret")
    send.add_argument("--json", action="store_true", default=None, help="the report as one JSON document")

    attach = commands.add_parser("attach", help="open the TUI on a running inspector, through its control API")
    attach.add_argument("url", nargs="?", metavar="URL", help="its control URL (default http://127.0.0.1:8687)")
    attach.add_argument("--token-file", metavar="PATH",
                        help="the control token (default: SEGMENT_INSPECTOR_TOKEN, else the data directory's "
                             "control-token)")
    attach.add_argument("--cafile", metavar="PATH",
                        help="a certificate to trust: the one `serve --tls` made, which serve's attach command names")
    attach.add_argument("--name", help="who you are to the others: every answer you choose says so "
                                       "(default user@host)")
    data_dir(attach)

    from .plan import add_parser as add_plan

    add_plan(commands, data_dir)
    mcp = commands.add_parser("mcp", help="serve a coding agent over MCP (stdio): the history, or a running serve")
    mcp.add_argument("--attach", metavar="URL", help="a running serve's control API: answers act on it")
    mcp.add_argument("--token-file", metavar="PATH", help="the control token (default: the data directory's)")
    mcp.add_argument("--cafile", metavar="PATH", help="a certificate to trust, as for attach")
    data_dir(mcp)
    return parser


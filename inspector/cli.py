"""The command line: `serve` headless, `history` and `show` over the kept history,
`lint` for events in files.

Exit codes are an API (see README): 0 success, 1 the exchange asked for does not
exist or `lint` found errors, 2 bad usage (flags, config file, query syntax,
unreadable input), 3 the inspector could not run (address in use, data directory
unusable).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import signal
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .config import Config, ConfigError, default_data_dir, load, parse_size
from .core.checks import lint_event
from .core.files import UnreadableError, read_events
from .core.model import OUTCOME_TEXT, SEVERITIES, Event, Exchange, Summary, segment_outcome
from .core.policy import Policy, parse_reply, parse_rule
from .core.query import Query, QueryError, parse
from .core.hub import Hub, Notice
from .core.store import History
from .core.templates import fill
from .core.text import inert, inert_json
from .receiver import Receiver

EXIT_OK, EXIT_NOT_FOUND, EXIT_USAGE, EXIT_FAILURE = 0, 1, 2, 3
EXIT_LINT_ERRORS = EXIT_NOT_FOUND
DEFAULT_HISTORY_LIMIT = 100


class UsageError(Exception):
    """A mistake in what the user asked for: exit 2 with this message."""


class RuntimeFailure(Exception):
    """The inspector cannot run as asked: exit 3 with this message."""


def receiving_options(parser: argparse.ArgumentParser, default: object) -> None:
    """The options of a running inspector, shared by the TUI (top level) and `serve`.

    `serve` gets them with SUPPRESS as default, so that an option given before the
    command is not reset by the subcommand's own default.
    """
    add = parser.add_argument
    add("--host", default=default, help="address to listen on (default 127.0.0.1)")
    add("--port", type=int, default=default, help="port to listen on (default 8686; 0 picks a free one)")
    add("--api-key", action="append", default=default, metavar="KEY",
        help="answer 401 unless the request carries this API key (repeatable)")
    add("--rule", action="append", default=default, metavar="'QUERY => STATUS[:message]'",
        help="answer matching requests with this status (repeatable; first match wins)")
    add("--respond", default=default, metavar="STATUS[:message]", help="the default answer (200)")
    add("--delay", type=float, default=default, metavar="SECONDS", help="wait before the default answer")
    add("--max-body", default=default, metavar="SIZE", help="larger bodies get 413 (default 8MiB)")
    add("--hold-timeout", type=float, default=default, metavar="SECONDS",
        help="how long a held request waits for a person (default 30)")
    add("--data-dir", default=default, help="where the history is kept")


def _parser() -> argparse.ArgumentParser:
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
    history.add_argument("--limit", type=int, help=f"at most N exchanges (default {DEFAULT_HISTORY_LIMIT}; 0: all)")
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
    return parser


def _setting(args: argparse.Namespace, config: Config, name: str, default: Any = None) -> Any:
    value = getattr(args, name.replace("-", "_"), None)
    return value if value is not None else config.get(name, default)


def _history_dir(args: argparse.Namespace, config: Config) -> Path:
    return Path(_setting(args, config, "data-dir") or default_data_dir()).expanduser()


def _load(directory: Path) -> History:
    """The history in `directory`, with any unreadable shard reported on stderr."""
    store = History(directory).load()
    for problem in store.problems:
        print(f"segment-inspector: warning: {inert(problem)}", file=sys.stderr)
    return store


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        config = load(args.config, explicit=args.config is not None)
        commands = {None: tui, "serve": serve, "history": history, "show": show, "lint": lint}
        return commands[args.command](args, config)
    except (ConfigError, UsageError) as err:
        print(f"segment-inspector: {err}", file=sys.stderr)
        return EXIT_USAGE
    except RuntimeFailure as err:
        print(f"segment-inspector: {err}", file=sys.stderr)
        return EXIT_FAILURE


# -- printing --------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _second(second: int) -> str:
    return time.strftime("%H:%M:%S", time.localtime(second))


def _clock(epoch: float) -> str:
    return f"{_second(int(epoch))}.{int(epoch * 1000) % 1000:03d}"


def _findings_text(severities: tuple[str, ...]) -> str:
    if not severities:
        return "no findings"
    parts = []
    for severity in ("error", "warning", "info"):
        count = severities.count(severity)
        if count:
            parts.append(f"{count} {severity}{'s' if count > 1 and severity != 'info' else ''}")
    return ", ".join(parts)


def line_of(summary: Summary) -> str:
    """One readable line: time, status, type, event, user, findings, id."""
    status = "..." if summary.status is None else f"{summary.status} {segment_outcome(summary.status)}"
    if len(summary.types) > 1:
        kind, name = f"batch({len(summary.types)})", ", ".join(n for n in summary.names[:3] if n)
    else:
        kind = (summary.types[0] if summary.types else "") or "-"
        name = (summary.names[0] if summary.names else "") or f"{summary.method} {summary.path}"
    user = next((u for u in summary.users if u), "") or next((a for a in summary.anons if a), "")
    marks = f"  redelivery {summary.redelivery}" if summary.redelivery else ""
    marks += "  held" if summary.held else ""
    text = (f"{_clock(summary.time)}  {status:<13} {kind:<9} {name[:40]:<40} {user[:24]:<24} "
            f"{_findings_text(summary.severities)}{marks}  {summary.id}")
    return inert(text)


def _print_exchange(exchange: Exchange, out: TextIO) -> None:
    """`show`: everything about one exchange, as plain text with escapes made visible."""
    write = lambda text="": print(inert(text), file=out)  # noqa: E731
    answer = exchange.answer
    write(f"exchange {exchange.id}  {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(exchange.time))}"
          f"  from {exchange.peer}  took {exchange.duration * 1000:.1f} ms")
    write(f"{exchange.method} {exchange.path}{'?' + exchange.query if exchange.query else ''}")
    write()
    write("headers:")
    for name, value in exchange.headers:
        write(f"  {name}: {value}")
    if exchange.auth is not None:
        key = exchange.auth.key if exchange.auth.key is not None else "-"
        write(f"auth: key {key!r}: {exchange.auth.message}")
    if exchange.redelivery is not None:
        r = exchange.redelivery
        write(f"redelivery {r.n} of {r.first}, {r.since:.1f} s after it")
    write()
    size = f"{exchange.body_size} bytes" + (f", first {len(exchange.body)} kept" if exchange.truncated else "")
    write(f"body ({size}):")
    if exchange.body_error is not None:
        write(f"  {exchange.body_error.message}")
    body = exchange.body_text()
    if exchange.body_error is None and exchange.data is None:
        from .core.intake import parse_body
        exchange.data, _ = parse_body(exchange.body)
    if exchange.body_error is None and exchange.data is not None:
        body = inert_json(exchange.data, indent=True)
    for line in body.splitlines():
        write(f"  {line}")
    write()
    if exchange.findings:
        write("findings:")
        for f in exchange.findings:
            where = f" at {f.path}" if f.path else ""
            event = f" (event {f.event})" if f.event is not None else ""
            write(f"  {f.severity:<7} {f.code} {f.message}{where}{event}")
    else:
        write("findings: none")
    write()
    if answer is not None:
        chosen = answer.chosen_by + (f" ({answer.detail})" if answer.detail else "")
        write(f"answered {answer.status}, chosen by {chosen}"
              + (f", after {answer.delay:g} s" if answer.delay else ""))
        if answer.body:
            write(f"  {answer.body.decode('utf-8', 'replace')}")
        write(f"Segment: {OUTCOME_TEXT[segment_outcome(answer.status)]}")


# -- commands --------------------------------------------------------------------


def _policy(args: argparse.Namespace, config: Config) -> Policy:
    try:
        default = parse_reply(str(_setting(args, config, "respond", "200")),
                              float(_setting(args, config, "delay", 0.0)))
        rules = [parse_rule(text) for text in _setting(args, config, "rule", [])]
    except ValueError as err:
        raise UsageError(str(err)) from None
    keys = frozenset(_setting(args, config, "api-key", []))
    return Policy(default=default, rules=rules, api_keys=keys)


def _inspector(args: argparse.Namespace, config: Config) -> tuple[History, Hub, Receiver, Path]:
    """The history, hub and receiver that `serve` and the TUI run, from flags and config."""
    from .receiver.server import DEFAULT_PORT

    policy = _policy(args, config)
    try:
        max_body = parse_size(_setting(args, config, "max-body", 8 * 1024 * 1024))
    except ValueError as err:
        raise UsageError(f"--max-body: {err}") from None
    directory = _history_dir(args, config)
    try:
        history = _load(directory)
        history.start_session()
    except OSError as err:
        raise RuntimeFailure(f"cannot use the data directory {directory}: {err}") from None
    hub = Hub(history, policy, hold_timeout=float(_setting(args, config, "hold-timeout", 30.0)))
    receiver = Receiver(hub, host=_setting(args, config, "host", "127.0.0.1"),
                        port=_setting(args, config, "port", DEFAULT_PORT), max_body=max_body)
    return history, hub, receiver, directory


def serve(args: argparse.Namespace, config: Config) -> int:
    history, hub, receiver, directory = _inspector(args, config)
    as_json = bool(_setting(args, config, "json", False))

    lines: list[str] = []

    def write_lines() -> None:
        sys.stdout.write("".join(lines))
        sys.stdout.flush()
        lines.clear()

    def show_line(notice: Notice) -> None:
        """Queue the exchange's line; lines of one event-loop turn are written at once."""
        if notice.kind != "recorded" or notice.summary is None:
            return
        if not lines:
            asyncio.get_running_loop().call_soon(write_lines)
        lines.append((inert_json(notice.exchange.to_doc()) if as_json else line_of(notice.summary)) + "\n")

    hub.subscribe(show_line)

    async def run() -> int:
        try:
            url = await receiver.start()
        except OSError as err:
            print(f"segment-inspector: cannot listen on {receiver.host}:{receiver.port}: "
                  f"{err.strerror or err}", file=sys.stderr)
            return EXIT_FAILURE
        print(f"segment-inspector {__version__} receiving on {url}  "
              f"(answer: {hub.policy.default}; history: {directory}; Ctrl-C stops)",
              file=sys.stderr if as_json else sys.stdout, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        await receiver.stop()
        return EXIT_OK

    try:
        return asyncio.run(run())
    finally:
        history.close()


def tui(args: argparse.Namespace, config: Config) -> int:
    """The TUI, with the receiver running on its event loop."""
    history, hub, receiver, _ = _inspector(args, config)
    from .tui.app import InspectorApp  # the only place the command line touches Textual

    app = InspectorApp(hub, receiver=receiver, keymap=config.get("keys", {}))
    try:
        app.run()
    finally:
        history.close()
    return EXIT_OK


def _query(text: str) -> Query:
    """Parse a query, or explain on stderr where it goes wrong and exit 2."""
    try:
        return parse(text)
    except QueryError as err:
        raise UsageError(f"query error: {err.message} at position {err.position}\n"
                         f"  {inert(text)}\n  {' ' * len(inert(text[:err.position]))}^") from None


def history(args: argparse.Namespace, config: Config) -> int:
    query = _query(" ".join(args.query))
    limit = _setting(args, config, "limit", DEFAULT_HISTORY_LIMIT)
    as_json = bool(_setting(args, config, "json", False))
    store = _load(_history_dir(args, config))
    for summary in store.search(query, limit or None):
        if as_json:
            exchange = store.get(summary.id)
            print(inert_json(exchange.to_doc() if exchange else {}))
        else:
            print(line_of(summary))
    return EXIT_OK


def show(args: argparse.Namespace, config: Config) -> int:
    store = _load(_history_dir(args, config))
    exchange = store.get(args.id)
    if exchange is None:
        print(f"segment-inspector: no exchange {inert(args.id)!r} in the history", file=sys.stderr)
        return EXIT_NOT_FOUND
    if _setting(args, config, "json", False):
        print(inert_json(exchange.to_doc(), indent=True))
    else:
        _print_exchange(exchange, sys.stdout)
    return EXIT_OK


def lint(args: argparse.Namespace, config: Config) -> int:
    """Lint every event of every file; exit 1 if any has an error-severity finding."""
    as_json = bool(_setting(args, config, "json", False))
    now = time.time()
    counts = dict.fromkeys(SEVERITIES, 0)
    events = 0
    unreadable = False
    for name in args.files:
        try:
            data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
            if args.fill:
                data = fill(data.decode("utf-8", "replace")).encode()
            found = read_events(data, "stdin" if name == "-" else name)
        except (OSError, UnreadableError) as err:
            reason = f"{name}: {err.strerror}" if isinstance(err, OSError) else str(err)
            print(f"segment-inspector: cannot lint {inert(reason)}", file=sys.stderr)
            unreadable = True
            continue
        for where, event in found:
            events += 1
            findings = lint_event(event, now=now)
            for f in findings:
                counts[f.severity] += 1
            view = Event.of(event)
            if as_json:
                print(inert_json({"source": where, **view.to_doc(),
                                  "findings": [f.to_doc() for f in findings]}))
            elif findings:
                title = " ".join(part for part in (view.type, view.event and repr(view.event)) if part)
                print(inert(f"{where}  {title or 'event'}"))
                for f in findings:
                    print(inert(f"  {f.severity:<7} {f.code}  {f.path}  {f.message}"))
    if not as_json:
        totals = ", ".join(f"{n} {severity}{'s' if n != 1 and severity != 'info' else ''}"
                           for severity, n in counts.items())
        print(f"{events} event{'s' if events != 1 else ''}: {totals}")
    if unreadable:
        return EXIT_USAGE
    return EXIT_LINT_ERRORS if counts["error"] else EXIT_OK

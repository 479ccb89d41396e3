"""The command line: the TUI by default, `serve` headless, `history`, `show`, `export`
and `replay` over the kept history, `lint` for events in files, `send` to play Segment.

Exit codes are an API (see README): 0 success, 1 nothing found or something Segment
would not accept (`show`, `lint`, `export`, `replay`, `send`), 2 bad usage (flags, config file,
query syntax, unreadable input), 3 the inspector could not run (address in use, data
directory unusable, target down).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .config import Config, ConfigError, default_data_dir, load, parse_size
from .core.checks import lint_event
from .core.files import UnreadableError, read_events
from .core.model import OUTCOME_TEXT, SEVERITIES, Event, Exchange, Summary, segment_outcome
from .core.policy import Forward, Policy, parse_reply, parse_rule
from .core.query import Query, QueryError, parse
from .core.intake import parse_body
from .core.hub import Hub, Notice, TunnelState
from .core.store import History
from .core.templates import TOKEN, fill
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
    add("--forward", default=default, metavar="URL",
        help="relay every request to your endpoint and answer Segment with its answer, judged "
             "by Segment's contract")
    add("--mirror", action="store_true", default=default,
        help="with --forward: answer Segment from the policy, and forward a copy too")
    add("--no-tunnel", action="store_true", default=default,
        help="no ngrok tunnel: receive on the local URL only")
    add("--ngrok-domain", default=default, metavar="DOMAIN", help="open the tunnel on this reserved ngrok domain")
    add("--region", default=default, help="the ngrok region (us, eu, ap, au, sa, jp, in)")
    add("--ngrok-path", default=default, metavar="PATH",
        help="the ngrok binary (default: ngrok on PATH, else where pyngrok keeps it)")
    add("--public-url", default=default, metavar="URL",
        help="your own tunnel's URL (cloudflared, a reverse proxy): shown and used in exports; no ngrok")
    add("--tls", action="store_true", default=default,
        help="receive over HTTPS with a certificate for localhost kept in the data directory")
    add("--cert", default=default, metavar="PEM", help="serve HTTPS with this certificate (with --key)")
    add("--key", default=default, metavar="PEM", help="the private key of --cert")


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

    from .core.exporters import FORMATS

    export = commands.add_parser("export", help="write matching exchanges as json, jsonl, pytest, curl or har")
    export.add_argument("query", nargs="*", help="search (see docs/query.md); all exchanges without one")
    export.add_argument("--format", required=True, choices=list(FORMATS),
                        help="; ".join(f"{f.name}: {f.help}" for f in FORMATS.values()))
    export.add_argument("--out", metavar="PATH",
                        help="file or directory to write (default: the format's name in the current "
                             "directory); - for stdout")
    export.add_argument("--url", help="where curl and HAR send the requests (default: --public-url, "
                                      "else the local URL, http://127.0.0.1:8686/)")
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
    replay.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS",
                        help="wait this long for each answer, as Segment does (default 5)")
    replay.add_argument("--limit", type=int, default=0, help="only the newest N matching exchanges (default: all)")
    replay.add_argument("--json", action="store_true", default=None, help="one JSON result per request")
    data_dir(replay)

    from .review.command import add_parser as add_review

    add_review(commands)
    delivery = commands.add_parser("delivery", help="Event Delivery: delivered, retried, dropped, errors, latency")
    delivery.add_argument("query", nargs="*", help="which exchanges (see docs/query.md; default since:24h)")
    delivery.add_argument("--json", action="store_true", default=None, help="the summary as JSON")
    data_dir(delivery)

    send = commands.add_parser("send", help="send Segment's traffic to an endpoint: generated events or files")
    send.add_argument("--to", required=True, metavar="URL", help="the endpoint to send to")
    send.add_argument("--api-key", dest="send_key", default="segment", metavar="KEY",
                      help="the API key sent in Authorization: Basic (default: segment)")
    send.add_argument("--settings", metavar="JSON",
                      help="a JSON object sent base64-encoded as X-Segment-Settings")
    send.add_argument("--from", dest="from_files", action="extend", nargs="+", metavar="FILE",
                      help="send the events of JSON, JSON Lines or exported files, {{placeholders}} filled "
                           "(repeatable; default: a generated corpus of every call type and Spec event)")
    send.add_argument("--count", type=int, metavar="N", help="send N events, cycling with new messageIds")
    send.add_argument("--duration", type=float, metavar="SECONDS", help="send for this long, cycling")
    send.add_argument("--concurrency", type=int, default=10, metavar="N", help="requests in flight (default 10)")
    send.add_argument("--rate", type=float, metavar="PER_SECOND", help="at most this many events a second")
    send.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS",
                      help="wait this long for each answer, as Segment does (default 5)")
    send.add_argument("--retries", type=int, default=0, metavar="N",
                      help="retry what Segment retries up to N times, with randomized exponential backoff")
    send.add_argument("--time-scale", type=float, default=1.0, metavar="F",
                      help="multiply every backoff wait by F (0.01: a 1 s wait takes 10 ms)")
    send.add_argument("--seed", type=int, help="seed the generated events and the backoff")
    send.add_argument("--json", action="store_true", default=None, help="the report as one JSON document")
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
        commands = {None: tui, "serve": serve, "history": history, "show": show, "lint": lint,
                    "export": export, "replay": replay, "send": send, "review": review, "delivery": delivery}
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
    destination = exchange.destination
    if destination is not None:
        write()
        took = f" in {destination.duration * 1000:.1f} ms"
        if destination.status is None:
            write(f"forwarded to {destination.url}: no answer{took}: {destination.error}")
        else:
            write(f"forwarded to {destination.url}: {destination.status}{took}")
            for name, value in destination.headers:
                write(f"  {name}: {value}")
            if destination.body:
                write(f"  {destination.body.decode('utf-8', 'replace')}")


# -- commands --------------------------------------------------------------------


def _policy(args: argparse.Namespace, config: Config) -> Policy:
    try:
        default = parse_reply(str(_setting(args, config, "respond", "200")),
                              float(_setting(args, config, "delay", 0.0)))
        rules = [parse_rule(text) for text in _setting(args, config, "rule", [])]
    except ValueError as err:
        raise UsageError(str(err)) from None
    keys = frozenset(_setting(args, config, "api-key", []))
    url = _setting(args, config, "forward")
    mirror = bool(_setting(args, config, "mirror", False))
    if mirror and not url:
        raise UsageError("--mirror: give the endpoint with --forward URL")
    forward = Forward(_http_url(url, "--forward"), mirror) if url else None
    return Policy(default=default, rules=rules, api_keys=keys, forward=forward)


def _ssl_context(args: argparse.Namespace, config: Config, directory: Path) -> Any:
    """The receiver's TLS context: --cert/--key, or with --tls our own certificate; else None."""
    cert, key = _setting(args, config, "cert"), _setting(args, config, "key")
    if bool(cert) != bool(key):
        raise UsageError("--cert and --key go together: give both, or --tls for a generated certificate")
    if not cert and not _setting(args, config, "tls", False):
        return None
    from .tls import CertificateError, ensure_certificate, server_context

    try:
        if cert:
            return server_context(Path(cert).expanduser(), Path(key).expanduser())
    except CertificateError as err:
        raise UsageError(str(err)) from None
    try:
        return server_context(*ensure_certificate(directory))
    except CertificateError as err:
        raise RuntimeFailure(str(err)) from None


def _reachable(args: argparse.Namespace, config: Config, hub: Hub, receiver: Receiver,
               directory: Path) -> Any:
    """The receiver as Segment reaches it: through the user's --public-url, or an ngrok tunnel."""
    public_url = _setting(args, config, "public-url")
    if public_url:
        hub.set_tunnel(TunnelState("external", public_url=public_url))
        return receiver
    if _setting(args, config, "no-tunnel", False):
        hub.set_tunnel(TunnelState("off", note="no tunnel (--no-tunnel): Segment cannot reach this URL"))
        return receiver
    from .tunnel import Tunnel, TunnelledReceiver, find_authtoken, find_ngrok, ngrok_config_paths

    explicit = _setting(args, config, "ngrok-path")
    token = find_authtoken(os.environ, _setting(args, config, "ngrok-authtoken"), ngrok_config_paths())
    tunnel = Tunnel(hub, ngrok_path=find_ngrok(explicit), authtoken=token, config_dir=directory / "ngrok",
                    domain=_setting(args, config, "ngrok-domain"), region=_setting(args, config, "region"),
                    explicit_path=bool(explicit))
    return TunnelledReceiver(receiver, tunnel)


def _inspector(args: argparse.Namespace, config: Config) -> tuple[History, Hub, Receiver, Path]:
    """The history, hub and receiver that `serve` and the TUI run, from flags and config."""
    from .receiver.server import DEFAULT_PORT

    policy = _policy(args, config)
    try:
        max_body = parse_size(_setting(args, config, "max-body", 8 * 1024 * 1024))
    except ValueError as err:
        raise UsageError(f"--max-body: {err}") from None
    public_url = _setting(args, config, "public-url")
    if public_url and not public_url.lower().startswith(("https://", "http://")):
        raise UsageError(f"--public-url: {inert(public_url)!r} is not an http(s) URL")
    directory = _history_dir(args, config)
    ssl_context = _ssl_context(args, config, directory)
    try:
        history = _load(directory)
        history.start_session()
    except OSError as err:
        raise RuntimeFailure(f"cannot use the data directory {directory}: {err}") from None
    hub = Hub(history, policy, hold_timeout=float(_setting(args, config, "hold-timeout", 30.0)))
    receiver = Receiver(hub, host=_setting(args, config, "host", "127.0.0.1"),
                        port=_setting(args, config, "port", DEFAULT_PORT), max_body=max_body,
                        ssl_context=ssl_context)
    return history, hub, _reachable(args, config, hub, receiver, directory), directory


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

    def show_tunnel(notice: Notice | None = None) -> None:
        """A line on stderr when the public URL changes or goes: stdout stays one line per exchange."""
        state = hub.tunnel
        if (notice is not None and notice.kind != "tunnel") or state is None or state.status == "off":
            return
        text = (f"public URL {state.public_url}  (paste it into Segment's destination settings)"
                if state.public_url else state.note)
        print(f"segment-inspector: {inert(text)}", file=sys.stderr, flush=True)

    hub.subscribe(show_line)
    hub.subscribe(show_tunnel)

    async def run() -> int:
        try:
            url = await receiver.start()
        except OSError as err:
            print(f"segment-inspector: cannot listen on {receiver.host}:{receiver.port}: "
                  f"{err.strerror or err}", file=sys.stderr)
            return EXIT_FAILURE
        answer = hub.policy.default if hub.policy.forward is None else (
            f"{hub.policy.default}, " if hub.policy.forward.mirror else "") + str(hub.policy.forward)
        print(f"segment-inspector {__version__} receiving on {inert(url)}  "
              f"(answer: {inert(str(answer))}; history: {directory}; Ctrl-C stops)",
              file=sys.stderr if as_json else sys.stdout, flush=True)
        show_tunnel()
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


# -- export and replay -------------------------------------------------------------


def _http_url(url: str, flag: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{flag}: {inert(url)!r} is not an http:// or https:// URL")
    return url


def _export_url(args: argparse.Namespace, config: Config) -> str:
    """Where exported requests go: --url, else the public URL, else the local receiving URL."""
    url = args.url or _setting(args, config, "public-url")
    if not url:
        host = _setting(args, config, "host", "127.0.0.1")
        host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
        port = _setting(args, config, "port", 8686) or 8686
        secure = _setting(args, config, "tls") or _setting(args, config, "cert")
        url = f"{'https' if secure else 'http'}://{f'[{host}]' if ':' in host else host}:{port}/"
    return _http_url(url, "--url")


def _matching(args: argparse.Namespace, config: Config) -> list[Exchange]:
    """The exchanges matching the query, oldest first; with --limit N, the newest N."""
    if args.limit < 0:
        raise UsageError("--limit: must be 0 (all) or more")
    query = _query(" ".join(args.query))
    store = _load(_history_dir(args, config))
    found = store.search(query, args.limit or None, newest_first=True)
    return [exchange for exchange in (store.get(s.id) for s in reversed(found)) if exchange is not None]


def _skipped(exchange_id: str, reason: str) -> None:
    print(f"segment-inspector: left out {exchange_id}: {inert(reason)}", file=sys.stderr)


def export(args: argparse.Namespace, config: Config) -> int:
    """Write the matching exchanges in one format: a file, a directory, or stdout."""
    from .core.exporters import FORMATS, ExportOptions, export as export_exchanges
    from .core.exporters.output import UnsafeName, write_export

    options = ExportOptions(base_url=_export_url(args, config), redact=args.redact, pretty=args.pretty)
    exchanges = _matching(args, config)
    if not exchanges:
        print("segment-inspector: no exchange matches: nothing exported", file=sys.stderr)
        return EXIT_NOT_FOUND
    result = export_exchanges(exchanges, args.format, options)
    for skipped in result.skipped:
        _skipped(skipped.exchange_id, skipped.reason)
    if result.count == 0:
        print(f"segment-inspector: none of the {len(exchanges)} matching exchanges can be exported "
              f"as {args.format}: nothing written", file=sys.stderr)
        return EXIT_NOT_FOUND
    if args.out == "-":
        data = result.joined()
        if sys.stdout.isatty():  # a terminal gets escape sequences shown, a pipe gets the bytes
            data = "\n".join(inert(line) for line in data.decode("utf-8", "replace").split("\n")).encode()
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return EXIT_OK
    out = Path(args.out) if args.out else Path(FORMATS[args.format].default_name)
    try:
        written = write_export(result, out, force=args.force)
    except FileExistsError as err:
        raise UsageError(f"not overwriting: {err.strerror}; --force overwrites") from None
    except UnsafeName as err:
        raise RuntimeFailure(str(err)) from None
    except OSError as err:
        raise RuntimeFailure(f"cannot write {err.filename or out}: {err.strerror or err}") from None
    where = out if result.many or len(written) != 1 else written[0]
    print(f"exported {result.count} request{'s' if result.count != 1 else ''} as {args.format} to {where}"
          + (f" ({len(written)} files)" if result.many else ""))
    return EXIT_OK


def _replay_line(result: Any) -> str:
    status = "---" if result.status is None else str(result.status)
    text = (f"{status:<4} {result.outcome:<9} {result.seconds * 1000:8.1f} ms  {result.label[:40]:<40} "
            f"{result.exchange_id}")
    if result.error:
        text += f"  {result.error}"
    if result.location:
        text += f"  redirect to {result.location}, not followed (Segment follows none)"
    if result.message:
        text += f"  message: {result.message!r}"
    return inert(text)


def replay(args: argparse.Namespace, config: Config) -> int:
    """Send the matching requests again to --to; exit 1 unless each was delivered, 3 if the target is down."""
    from .replay import replay_exchanges

    url = _http_url(args.to, "--to")
    if args.timeout <= 0:
        raise UsageError("--timeout: must be more than 0 seconds")
    as_json = bool(_setting(args, config, "json", False))
    exchanges = _matching(args, config)
    if not exchanges:
        print("segment-inspector: no exchange matches: nothing replayed", file=sys.stderr)
        return EXIT_NOT_FOUND

    def show_result(result: Any) -> None:
        print(inert_json(result.to_doc()) if as_json else _replay_line(result), flush=True)

    report = asyncio.run(replay_exchanges(exchanges, url, api_key=args.replay_key, timeout=args.timeout,
                                          on_result=show_result))
    for exchange_id, reason in report.skipped:
        _skipped(exchange_id, reason)
    if report.down is not None:
        sent = len(report.results)
        print(f"segment-inspector: {inert(url)} is down ({report.down}): {len(report.unsent)} of "
              f"{sent + len(report.unsent)} requests not sent, from {report.unsent[0]}. Segment retries such "
              "requests for up to 4 hours; nothing is lost: the history is unchanged, replay again once "
              "the target is up.", file=sys.stderr)
        return EXIT_FAILURE
    if not report.results:
        print("segment-inspector: none of the matching exchanges is a request Segment sends: nothing replayed",
              file=sys.stderr)
        return EXIT_NOT_FOUND
    outcomes = [result.outcome for result in report.results]
    if not as_json:
        counts = ", ".join(f"{outcomes.count(o)} {o}" for o in ("delivered", "retried", "dropped"))
        print(f"{len(outcomes)} sent to {inert(url)}: {counts}")
        for outcome in ("retried", "dropped"):
            if outcome in outcomes:
                print(f"  {OUTCOME_TEXT[outcome]}")
    return EXIT_OK if report.all_delivered else EXIT_NOT_FOUND


# -- send ----------------------------------------------------------------------------


def _send_events(args: argparse.Namespace, rng: Any) -> tuple[list[Any], Callable[[], list[Any]] | None]:
    """The events to send (the files', placeholders filled, or a generated corpus), and how
    to make the next pass: files with placeholders are filled anew for every pass."""
    from .core.generate import corpus

    if not args.from_files:
        return corpus(rng), None
    texts: list[tuple[str, str]] = []
    for name in args.from_files:
        try:
            data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
        except OSError as err:
            raise UsageError(f"cannot send {inert(f'{name}: {err.strerror}')}") from None
        texts.append(("stdin" if name == "-" else name, data.decode("utf-8", "replace")))

    def filled() -> list[Any]:
        events: list[Any] = []
        for label, text in texts:
            events += [event for _, event in read_events(fill(text, rng).encode(), label)]
        return events

    try:
        events = filled()
    except UnreadableError as err:
        raise UsageError(f"cannot send {inert(str(err))}") from None
    return events, (filled if any(TOKEN.search(text) for _, text in texts) else None)


def _send_text(report: Any) -> list[str]:
    rate = f" ({report.events / report.seconds:.0f} events/s)" if report.seconds else ""
    lines = [f"sent {report.events} events to {report.target} in {report.seconds:.2f} s{rate}: "
             f"{report.delivered} delivered, {report.failed} failed",
             f"  attempts {report.attempts}, retries {report.retries}"]
    lines.append("  status: " + ", ".join(f"{status} x{n}" for status, n in sorted(report.statuses.items())))
    lines.append("  types: " + ", ".join(f"{kind} {c['delivered']}/{c['delivered'] + c['failed']}"
                                         for kind, c in sorted(report.types.items())) + " delivered")
    latency = report.latencies.to_doc()
    if latency["max"] is not None:
        lines.append("  latency: " + ", ".join(f"{k} {v:.1f} ms" for k, v in latency.items()))
    for code, entry in sorted(report.findings.items()):
        lines.append(f"  {entry['severity']:<7} {code} x{entry['count']}  {entry['example']}")
    if report.failures:
        lines.append(f"failures (first {len(report.failures)} of {report.failed}):")
    for failure in report.failures:
        answer = str(failure.status) if failure.status is not None else failure.error
        view = Event.of(failure.event)
        title = " ".join(part for part in (view.type, view.event and repr(view.event)) if part) or "event"
        extra = f"  message: {failure.message!r}" if failure.message else ""
        lines.append(f"  {answer} ({failure.outcome}) after {failure.attempts} attempt"
                     f"{'s' if failure.attempts != 1 else ''}  {title}  messageId {view.message_id}{extra}")
        lines.append("    " + inert_json(failure.event)[:400])
    return [inert(line) for line in lines]


def send(args: argparse.Namespace, config: Config) -> int:
    """Send Segment's traffic to --to; exit 0 if all was delivered, 1 on any failure, 3 if down."""
    import json
    import random

    from .core.generate import stream
    from .delivery import encode_settings
    from .send import SendOptions, progress_line, send as send_events

    url = _http_url(args.to, "--to")
    for flag, value, low in (("--count", args.count, 1), ("--concurrency", args.concurrency, 1),
                             ("--retries", args.retries, 0)):
        if value is not None and value < low:
            raise UsageError(f"{flag}: must be {low} or more")
    for flag, value in (("--timeout", args.timeout), ("--duration", args.duration), ("--rate", args.rate),
                        ("--time-scale", args.time_scale)):
        if value is not None and value <= 0:
            raise UsageError(f"{flag}: must be more than 0")
    if args.count is not None and args.duration is not None:
        raise UsageError("--count and --duration: give one or the other")
    settings = None
    if args.settings is not None:
        try:
            parsed = json.loads(args.settings)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise UsageError("--settings: must be a JSON object, such as '{\"region\": \"eu\"}'")
        settings = encode_settings(parsed)
    rng = random.Random(args.seed)
    events, refill = _send_events(args, rng)
    if not events:
        raise UsageError("nothing to send: the files hold no events")
    deadline = time.monotonic() + args.duration if args.duration else None
    source = stream(events, rng, count=args.count, deadline=deadline, refill=refill)
    as_json = bool(_setting(args, config, "json", False))
    progress = progress_line(args.count or (None if deadline else len(events)), args.duration) \
        if sys.stderr.isatty() else None
    options = SendOptions(url, api_key=args.send_key, settings=settings, concurrency=args.concurrency,
                          rate=args.rate, timeout=args.timeout, retries=args.retries,
                          time_scale=args.time_scale, seed=args.seed)
    report = asyncio.run(send_events(source, options, progress))
    if progress is not None:
        print(file=sys.stderr)
    if as_json:
        print(inert_json(report.to_doc()))
    else:
        print("\n".join(_send_text(report)))
    if report.down is not None:
        print(f"segment-inspector: {inert(url)} is down ({report.down}): Segment would retry for up to "
              "4 hours; nothing more was sent", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK if report.all_delivered else EXIT_NOT_FOUND


def review(args: argparse.Namespace, config: Config) -> int:
    from .review.command import run

    return run(args, _history_dir(args, config), bool(_setting(args, config, "json", False)))


def delivery(args: argparse.Namespace, config: Config) -> int:
    from .core.event_delivery import DEFAULT_WINDOW, summarize, text

    store = _load(_history_dir(args, config))
    report = summarize(store, _query(" ".join(args.query) or DEFAULT_WINDOW))
    print(inert_json(report.to_doc()) if _setting(args, config, "json", False) else "\n".join(text(report)))
    return EXIT_OK

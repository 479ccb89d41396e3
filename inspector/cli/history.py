"""The kept history: `history` lists, `show` prints one exchange in full, `export` writes them."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TextIO

from ..core import values
from ..core.checks import finding_lines, with_urls
from ..core.history import History
from ..core.history.format import encode
from ..core.intake import parse_body
from ..core.model import OUTCOME_TEXT, Exchange, segment_outcome
from ..core.text import inert, inert_json
from ..local_segment.trace import links_text
from .common import (
    EXIT_NOT_FOUND,
    EXIT_OK,
    RuntimeFailure,
    UsageError,
    exchanges_matching,
    left_out,
    load_history,
    query,
    value_of,
)
from .lines import line_of
from .settings import Settings

MIN_PREFIX = 6  # History.get finds an exchange by a prefix of its id this long


def history(args: argparse.Namespace, settings: Settings) -> int:
    search = query(" ".join(args.query))
    store = load_history(settings.data_dir)
    for summary in store.search(search, settings.limit or None):
        if settings.json:
            exchange = store.get(summary.id)
            print(inert_json(with_urls(encode(exchange)) if exchange else {}))
        else:
            print(line_of(summary))
    return EXIT_OK


def check_prefix(exchange_id: str) -> None:
    """An id shorter than a whole one names an exchange only from MIN_PREFIX characters on."""
    if len(exchange_id) < MIN_PREFIX:
        raise UsageError(f"an id prefix needs {MIN_PREFIX} or more characters: {inert(exchange_id)!r} "
                         f"has {len(exchange_id)}")


def look_up(store: History, exchange_id: str) -> Exchange:
    """The exchange an id or a unique prefix names; LookupError saying why none is."""
    exchange = store.get(exchange_id)
    if exchange is not None:
        return exchange
    check_prefix(exchange_id)
    many, damaged = store.starting(exchange_id), store.unreadable(exchange_id)
    raise LookupError(f"ambiguous: {many} exchanges start with {inert(exchange_id)!r}" if many > 1
                      else inert(damaged) if damaged
                      else f"no exchange {inert(exchange_id)!r} in the history")


def show(args: argparse.Namespace, settings: Settings) -> int:
    store = load_history(settings.data_dir)
    try:
        exchange = look_up(store, args.id)
    except LookupError as err:
        print(f"segment-inspector: {err}", file=sys.stderr)
        return EXIT_NOT_FOUND
    if settings.json:
        print(inert_json(with_urls(encode(exchange)), indent=True))
    else:
        _print_exchange(exchange, sys.stdout)
        deliveries = [d for d in (store.get(s.id) for s in store.deliveries(exchange.id)) if d is not None]
        for line in links_text(exchange, deliveries):
            print(inert(line))
    return EXIT_OK


def matching(args: argparse.Namespace, settings: Settings, *, sources: bool = True) -> list[Exchange]:
    """The exchanges matching the query, oldest first; with --limit N, the newest N. Without
    `sources`, Tracking API calls only when the query names `kind:`."""
    search = query(" ".join(args.query))
    search = search if sources else search.without_sources()
    return exchanges_matching(load_history(settings.data_dir), search, args.limit)


def export(args: argparse.Namespace, settings: Settings) -> int:
    """Write the matching exchanges in one format: a file, a directory, or stdout."""
    from ..core.exporters import FORMATS, ExportOptions, export as export_exchanges
    from ..core.exporters.output import UnsafeName, write_export

    base_url = value_of("--url", values.url, args.url) if args.url else settings.public_url or settings.local_url
    options = ExportOptions(base_url=base_url, redact=args.redact, pretty=args.pretty)
    exchanges = matching(args, settings, sources=False)  # an SDK's event is exported once, by its delivery
    if not exchanges:
        print("segment-inspector: no exchange matches: nothing exported", file=sys.stderr)
        return EXIT_NOT_FOUND
    result = export_exchanges(exchanges, args.format, options)
    for skipped in result.skipped:
        left_out(skipped.exchange_id, skipped.reason)
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
    if result.keys:
        print("segment-inspector: the export holds API keys in the clear, so only you can read it (0600); "
              "--redact replaces them with placeholders", file=sys.stderr)
    where = out if result.many or len(written) != 1 else written[0]
    print(f"exported {result.count} request{'s' if result.count != 1 else ''} as {args.format} to {where}"
          + (f" ({len(written)} files)" if result.many else ""))
    return EXIT_OK


# Exchanges the inspector sent itself, by kind: their answer is the endpoint's, not one we chose.
SENT_BY = {"review": "sent by review to", "delivery": "delivered by local Segment to"}


def _print_exchange(exchange: Exchange, out: TextIO) -> None:
    """`show`: everything about one exchange, as plain text with escapes made visible."""
    def write(text: str = "") -> None:
        print(inert(text), file=out)

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
    if exchange.decoded is not None:
        size += f" as sent ({exchange.header('Content-Encoding')}), {len(exchange.decoded)} bytes decoded"
    write(f"body ({size}):")
    if exchange.body_error is not None:
        write(f"  {exchange.body_error.message}")
    body = exchange.body_text()
    if exchange.body_error is None and exchange.data is None:
        exchange.data, _ = parse_body(exchange.content)
    if exchange.body_error is None and exchange.data is not None:
        body = inert_json(exchange.data, indent=True)
    for line in body.splitlines():
        write(f"  {line}")
    write()
    if exchange.findings:
        write("findings:")
        for line in (line for f in exchange.findings for line in finding_lines(f)):
            write(line)
    else:
        write("findings: none")
    write()
    destination = exchange.destination
    sent = SENT_BY.get(exchange.kind) if destination is not None else None
    if answer is not None and sent is None:  # what we sent has no answer of ours: only the endpoint's
        chosen = answer.chosen_by + (f" ({answer.detail})" if answer.detail else "")
        write(f"answered {answer.status}, chosen by {chosen}"
              + (f", after {answer.delay:g} s" if answer.delay else ""))
        if answer.body:
            write(f"  {answer.body.decode('utf-8', 'replace')}")
        if exchange.kind != "source":  # an SDK's call: `show` says what became of each event instead
            write(f"Segment: {OUTCOME_TEXT[segment_outcome(answer.status)]}")
    if destination is not None:
        if sent is None:
            write()
        took = f" in {destination.duration * 1000:.1f} ms"
        said = f"{sent or 'forwarded to'} {destination.url}"
        if destination.status is None:
            write(f"{said}: no answer{took}: {destination.error}")
        else:
            write(f"{said}: {destination.status}{took}")
            for name, value in destination.headers:
                write(f"  {name}: {value}")
            if destination.body:
                write(f"  {destination.body.decode('utf-8', 'replace')}")
        if sent is not None:
            write(f"Segment: {OUTCOME_TEXT[segment_outcome(destination.status)]}")


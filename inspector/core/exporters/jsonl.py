"""`jsonl`: one event per line, the way Segment's endpoint tester reads its templates.

The tester (segmentio/direct-integration-tester) reads every line of a file as one
request body and POSTs it. A single-event body without line breaks is written as it
was received; a batch (an array, or the Tracking API's `{"batch": [...]}`) is split into
its events, and a body with line breaks (pretty printed) is written compactly, each with
the keys in their order. Bodies that are not JSON, and batch elements that are not objects, are left out and reported.

The tester reads lines with Go's bufio.Scanner, which stops at a line over 64 KiB
(and fills `{{ placeholders }}` in every line): such lines are written all the same,
for other readers of JSON Lines.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..model import Exchange
from ..naming import parsed
from . import Export, ExportOptions, Skipped, exporter
from .common import dump_json


@exporter("jsonl", default_name="segment-events.jsonl",
          help="one file, one event per line (JSON Lines), as Segment's endpoint tester reads templates")
def jsonl(exchanges: Sequence[Exchange], options: ExportOptions) -> Export:
    lines: list[bytes] = []
    skipped: list[Skipped] = []
    count = 0
    for exchange in exchanges:
        data, error = parsed(exchange)
        if error is not None:
            skipped.append(Skipped(exchange.id, error))
            continue
        batch = data.get("batch") if isinstance(data, dict) else None
        events = data if isinstance(data, list) else batch if isinstance(batch, list) else [data]
        included = False
        for index, event in enumerate(events):
            where = "the body" if event is data else f"event {index} of the batch"
            line = dump_json(event) if isinstance(event, dict) else None
            if not isinstance(event, dict):
                skipped.append(Skipped(exchange.id, f"{where} is not a JSON object"))
            elif line is None:
                skipped.append(Skipped(exchange.id, f"{where} holds a number JSON cannot hold (NaN or infinity)"))
            else:
                as_received = event is data and b"\n" not in exchange.body and b"\r" not in exchange.body
                lines.append(exchange.body.strip(b" \t") if as_received else line)
                included = True
        count += included
    return Export({"segment-events.jsonl": b"".join(line + b"\n" for line in lines)}, skipped, count=count)

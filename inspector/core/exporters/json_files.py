"""`json`: one file per request body, as sent (decoded, when it came compressed), or
re-indented with `pretty`. A fixture is an event to feed a test: the raw bytes, compressed
or not, stay in HAR and curl, with their headers.

Files are numbered in the order given (`0001-track-Order_Completed.json`), so a
directory listing is the order of arrival. A body that is not JSON is still written
as received: the file is the evidence of what the endpoint got.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..model import Exchange
from ..naming import exchange_label, parsed
from . import Export, ExportOptions, Skipped, exporter
from .common import dump_json, safe_name


@exporter("json", default_name="segment-events", many=True,
          help="a directory, one file per request body as sent, decoded if compressed (--pretty re-indents JSON)")
def json_files(exchanges: Sequence[Exchange], options: ExportOptions) -> Export:
    files: dict[str, bytes] = {}
    skipped: list[Skipped] = []
    width = max(4, len(str(len(exchanges))))
    n = 0
    for exchange in exchanges:
        if not exchange.body:
            skipped.append(Skipped(exchange.id, f"no body ({exchange.method} {exchange.path})"))
            continue
        body = exchange.content
        if options.pretty:
            data, error = parsed(exchange)
            pretty = dump_json(data, indent=True) if error is None else None
            body = pretty + b"\n" if pretty is not None else body
        n += 1
        files[f"{n:0{width}d}-{safe_name(exchange_label(exchange))}.json"] = body
    return Export(files, skipped, count=n)

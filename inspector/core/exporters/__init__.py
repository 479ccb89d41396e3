"""Exporters: pure functions from exchanges to files, in one registry the CLI and the TUI share.

Each format is a module with one function `(exchanges, options) -> Export`, registered
with `@exporter`. `export()` is the entry point: it leaves out what no format can
export faithfully (a body cut at --max-body), applies redaction when asked, and calls
the format. An Export is a set of named files: one file for jsonl, pytest, curl and
har, one file per exchange for json. `output.write_export` writes it (file names
checked, nothing overwritten without force); `Export.joined()` gives it as one text
for stdout and the clipboard.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ... import __version__
from .. import LOCAL_URL
from ..model import Exchange

DEFAULT_BASE_URL = LOCAL_URL


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """What every format may take into account."""

    base_url: str = DEFAULT_BASE_URL  # where curl and HAR send the requests: the public URL when known
    redact: bool = False  # API key, emails and IPs replaced with stable placeholders
    pretty: bool = False  # json: re-indent bodies that are JSON
    version: str = __version__  # written into HAR's creator and the pytest module's docstring


@dataclass(slots=True)
class Skipped:
    """An exchange, or one event of it, left out of an export, and why."""

    exchange_id: str
    reason: str


@dataclass(slots=True)
class Export:
    """Files by name (a single safe path component each, in order), and what was left out."""

    files: dict[str, bytes]
    skipped: list[Skipped] = field(default_factory=list)
    count: int = 0  # requests exported (in part, for a batch some of whose events were left out)
    many: bool = False  # a directory of files rather than one file
    keys: bool = False  # holds API keys in the clear (not --redact): written readable by the user alone

    def joined(self) -> bytes:
        """Every file's content one after the other, each ending with a newline (stdout, clipboard)."""
        parts = []
        for content in self.files.values():
            parts.append(content if content.endswith(b"\n") or not content else content + b"\n")
        return b"".join(parts)


Exporter = Callable[[Sequence[Exchange], ExportOptions], Export]


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    function: Exporter
    default_name: str  # the file, or the directory when `many`, written when no --out is given
    many: bool
    help: str


FORMATS: dict[str, Format] = {}


def exporter(name: str, *, default_name: str, help: str, many: bool = False) -> Callable[[Exporter], Exporter]:
    def register(function: Exporter) -> Exporter:
        FORMATS[name] = Format(name, function, default_name, many, help)
        return function

    return register


def export(exchanges: Sequence[Exchange], name: str, options: ExportOptions = ExportOptions()) -> Export:
    """The exchanges in format `name` (a key of FORMATS; ValueError otherwise)."""
    try:
        format_ = FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown export format {name!r}; one of: {', '.join(FORMATS)}") from None
    skipped = []
    whole = []
    for exchange in exchanges:
        if exchange.truncated:
            skipped.append(Skipped(exchange.id, f"only the first {len(exchange.body)} of its "
                                                f"{exchange.body_size} bytes were kept (over --max-body)"))
        elif exchange.kind == "source" and exchange.answer is not None and exchange.answer.status >= 400:
            skipped.append(Skipped(exchange.id, f"a Tracking API call refused with {exchange.answer.status}: "
                                                "its events never went on"))
        else:
            whole.append(exchange)
    if options.redact:
        whole = redact(whole)
    result = format_.function(whole, options)
    result.skipped[:0] = skipped
    result.many = format_.many
    result.keys = not options.redact and any(carries_key(exchange) for exchange in whole)
    return result


from . import curl, har, json_files, jsonl, pytest_module  # noqa: E402,F401  (they register, in this order)
from .redact import carries_key, redact  # noqa: E402

"""The tools that read: search the history, read an exchange, lint an event, Event Delivery,
and write fixtures as `export` does."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from ..cli.history import SENT_BY
from ..core.checks import lint, lint_doc, with_urls
from ..core.exporters import FORMATS, ExportOptions, export
from ..core.exporters.output import UnsafeName, write_export
from ..core.files import read_events
from ..core.history.format import encode
from ..core.model import OUTCOME_TEXT, Exchange, Outcome, Summary, segment_outcome
from ..core.text import inert_json
from .backends import Backend
from .results import refusals, reply

QueryText = Annotated[str, Field(description="a search in the language of `segment-inspector history` "
                                         "(docs/query.md), e.g. 'type:track status:5xx', "
                                         "'event:\"Order Completed\" since:1h', 'is:held'; empty: everything")]
JsonEvent = Annotated[dict[str, Any] | list[Any] | str,
                      Field(description="an event as a JSON object, a batch (an array of events, or "
                                        "{\"batch\": [...]}), or JSON / JSON Lines text")]


def row(summary: Summary) -> dict[str, Any]:
    """A search result: what tells exchanges apart at a glance."""
    return {"id": summary.id, "time": summary.time, "kind": summary.kind, "method": summary.method,
            "path": summary.path, "types": list(summary.types), "events": list(summary.names),
            "users": list(summary.users), "anonymousIds": list(summary.anons), "status": summary.status,
            "codes": list(summary.codes), "held": summary.held}


def next_step(exchange: Exchange, held_now: bool) -> dict[str, Any]:
    """What Segment does after the answer it got (`show`'s "Segment:" line)."""
    outcome: Outcome | None = None
    if held_now:
        meaning = "held: waiting for answer_held, or for the hold's timeout"
    elif exchange.destination is not None and exchange.kind in SENT_BY:
        outcome = segment_outcome(exchange.destination.status)  # we sent it: the endpoint answered
    elif exchange.kind == "source":
        meaning = "a Tracking API call: `pipeline` says what became of each of its events"
    elif exchange.answer is not None:
        outcome = exchange.answer.outcome
    else:
        meaning = "not answered"
    return {"outcome": outcome, "meaning": OUTCOME_TEXT[outcome] if outcome else meaning}


def events_of(event: dict[str, Any] | list[Any] | str, problems: list[str] | None = None) -> list[tuple[str, Any]]:
    """`(where, event)` pairs, as `lint` reads a file; ValueError for text that is not JSON."""
    data = event.encode() if isinstance(event, str) else inert_json(event).encode()
    return read_events(data, "event", problems)


def inside(path: str) -> Path:
    """Where to write: an absolute path as given, a relative one only inside the working directory."""
    target = Path(path).expanduser()
    if target.is_absolute():
        return target
    here = Path.cwd().resolve()
    if not (here / target).resolve().is_relative_to(here):
        raise ToolError(f"{path} is outside the working directory ({here}): give an absolute path to write there")
    return here / target


class Reading:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @refusals
    async def search_exchanges(
            self, query: QueryText = "",
            limit: Annotated[int, Field(ge=1, le=1000, description="at most this many, newest first")] = 100) -> str:
        """Search the exchanges the inspector kept (each request Segment sent, what was wrong with it,
        what it was answered), newest first: the same ids as `segment-inspector history --json`.
        Each result has its id (give it to get_exchange), time, kind ("" a request the receiver got,
        "source" a Tracking API call, "delivery" or "review" sent by the inspector), types, event names,
        users, status and finding codes (read a code's meaning at inspector://checks/CODE)."""
        rows = await self.backend.search(query, limit)
        return reply({"exchanges": [row(summary) for summary in rows], "count": len(rows)})

    @refusals
    async def get_exchange(
            self, id: Annotated[str, Field(description="an exchange id, or a prefix of 6 or more characters")]) -> str:
        """One exchange in full: method, path, headers, the decoded Authorization (`auth`: the API key
        and what is wrong with it), the body as received, its events, the findings with the page of
        Segment's docs each comes from (`url`), the answer the inspector sent (`response`), the
        endpoint's when it was forwarded or sent (`destination`), and what Segment does next
        (`segment`: delivered, retried or dropped)."""
        exchange, held_now = await self.backend.exchange(id)
        return reply({**with_urls(encode(exchange)), "heldNow": held_now,
                      "segment": next_step(exchange, held_now)})

    @refusals
    async def lint_event(self, event: JsonEvent) -> str:
        """Check events against the Segment Spec, as the receiver checks every request and as
        `segment-inspector lint --json` prints them: for each event, where it is, its facts and
        its findings (code, severity, message, JSON path, the Spec page as `url`). Errors are what
        Segment or a destination cannot process; warnings off-Spec data; info differences from
        Segment's own delivery."""
        problems: list[str] = []
        found = events_of(event, problems)
        now = time.time()
        results = [lint_doc(where, item, lint(item, now=now)) for where, item in found]
        errors = sum(f["severity"] == "error" for doc in results for f in doc["findings"])
        return reply({"events": results, "errors": errors, "unreadable": problems})

    @refusals
    async def delivery_report(self, query: Annotated[str, Field(
            description="which exchanges, in the language of `history`; empty: since:24h")] = "") -> str:
        """Event Delivery, as Segment's own view shows it and `segment-inspector delivery --json`
        prints it: delivered, retried and dropped counts, the errors by status and message, and
        latency over the exchanges the query matches."""
        return reply(await self.backend.delivery(query))

    @refusals
    async def export_fixtures(
            self,
            format: Annotated[str, Field(description="; ".join(f"{f.name}: {f.help}" for f in FORMATS.values()),
                                         json_schema_extra={"enum": list(FORMATS)})],
            query: QueryText = "",
            path: Annotated[str | None, Field(
                description="file or directory to write; relative paths stay inside the working directory; "
                            "default: the format's own name (e.g. test_segment_requests.py)")] = None,
            force: Annotated[bool, Field(description="overwrite files that exist")] = False,
            redact: Annotated[bool, Field(description="replace API keys, emails and IPs with placeholders")] = False,
            limit: Annotated[int, Field(ge=0, description="only the newest N matching exchanges; 0: all")] = 0,
    ) -> str:
        """Write the matching exchanges as test fixtures, as `segment-inspector export` does: pytest
        (a test module replaying each request), json (a file per request), jsonl, curl or har.
        Nothing is overwritten without force."""
        if format not in FORMATS:
            raise ToolError(f"format: one of {', '.join(FORMATS)}")
        target = inside(path or FORMATS[format].default_name)
        exchanges = await self.backend.matching(query, limit, sources=False)
        if not exchanges:
            raise ToolError("no exchange matches: nothing exported")
        result = export(exchanges, format, ExportOptions(base_url=await self.backend.base_url(), redact=redact))
        skipped = [{"id": s.exchange_id, "reason": s.reason} for s in result.skipped]
        if result.count == 0:
            raise ToolError(f"none of the {len(exchanges)} matching exchanges can be exported as {format}: "
                            f"nothing written ({inert_json(skipped)})")
        try:
            written = await asyncio.to_thread(write_export, result, target, force=force)
        except FileExistsError as err:
            raise ToolError(f"not overwriting: {err.strerror}; force=true overwrites") from None
        except UnsafeName as err:
            raise ToolError(str(err)) from None
        except OSError as err:
            raise ToolError(f"cannot write {err.filename or target}: {err.strerror or err}") from None
        return reply({"exported": result.count, "format": format, "path": str(target),
                      "files": [str(file) for file in written], "skipped": skipped, "holdsApiKeys": result.keys})

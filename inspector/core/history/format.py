"""The history's stored format: the one shape of an exchange, and the framing of its files.

An exchange document is a JSON object: `id`, `time`, `session`, `peer`, `method`, `path`,
`query`, `headers`, `body` (text) or `bodyBase64` (not UTF-8), `bodySize`, `bodyError`,
`events`, `auth`, `findings`, `redelivery`, `response`, `duration`, `held`, and when they
apply `destination`, `decoded`, `kind`, `link`, `pipeline` (README, "Exit codes and JSON
output"). `encode` gives it with the body inline: what `--json` prints and what the coming
APIs serve. The history stores the same document, except that a body (or its decoded form)
of more than `BIG_BODY` bytes is kept out of line, as its own file of the bytes received,
and the document says `"bodyFile": "bodies/<id>.body"` instead (in `decoded`,
`"bodyFile": "bodies/<id>.decoded"`): no shard file grows with its bodies.

Files of a session `history/<session>/`, all but the journal TinyDB files:
`shards.json` (`{"format": {"1": {"version": 2}}, "shards": {"1": entry, ...}}`),
`NNNNN.json` (`{"exchanges": {"1": document, ...}}`), `NNNNN.sum.json`
(`{"summaries": {"1": columns}}`: what the list, the search language and Event Delivery read,
so they read no shard; one written before its `latency` column is rebuilt from its shard),
and the open shard's journal `NNNNN.jsonl`, JSON Lines, one document a line, appended
before each request is answered.

`VERSION` counts changes of this format, not releases: version 1 had no `format` table
and no out-of-line bodies; `convert_1_2` reads it. A session written by a newer
version is refused, never misread.
"""

from __future__ import annotations

import base64
import math
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from ..model import (
    Answer,
    Auth,
    BodyError,
    Destination,
    Event,
    Exchange,
    Fate,
    Finding,
    Link,
    Redelivery,
    Summary,
)
from .blocks import ID_SIZE, Block, Facet, Facets

VERSION = 2
BIG_BODY = 64 * 1024  # bytes of a body (raw or decoded) kept in its shard; larger ones get a file
TABLE = "exchanges"
SUMMARY_TABLE = "summaries"
LIST_TABLE = "shards"
FORMAT_TABLE = "format"
LIST_FILE = "shards.json"
BODIES = "bodies"  # the session's directory of out-of-line bodies
REMOVED = "removed.jsonl"  # in BODIES: what retention removed, one line a pass

Body = tuple[str, bytes]  # an out-of-line body: its file (relative to the session) and its bytes
BodyReader = Callable[[str], bytes]  # a body file's bytes; raises BodyGone


class BodyGone(Exception):
    """A body kept out of line cannot be read: the message says why (removed by retention, missing)."""


class FormatRefused(ValueError):
    """A session's files are in a format this version cannot read."""


# -- an exchange -----------------------------------------------------------------------

def _inline(body: bytes) -> dict[str, Any]:
    try:
        return {"body": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"bodyBase64": base64.b64encode(body).decode("ascii")}


def body_of(doc: dict[str, Any], read: BodyReader | None = None) -> bytes:
    """A stored body (text, base64 when it was not UTF-8, or a file) as bytes."""
    if "bodyBase64" in doc:
        return base64.b64decode(doc["bodyBase64"])
    if "bodyFile" in doc:
        if read is None:
            raise BodyGone(f"kept in {doc['bodyFile']}, which was not read")
        return read(str(doc["bodyFile"]))
    return str(doc.get("body", "")).encode("utf-8")


def finding_doc(finding: Finding) -> dict[str, Any]:
    doc: dict[str, Any] = {"code": finding.code, "severity": finding.severity, "message": finding.message,
                           "path": finding.path}
    if finding.event is not None:
        doc["event"] = finding.event
    return doc


def event_doc(event: Event) -> dict[str, Any]:
    doc = {"type": event.type, "event": event.event, "userId": event.user_id,
           "anonymousId": event.anonymous_id, "messageId": event.message_id, "timestamp": event.timestamp}
    if event.label:
        doc["label"] = event.label
    return doc


def answer_doc(answer: Answer) -> dict[str, Any]:
    doc = {"status": answer.status, "body": answer.body.decode("utf-8", "replace"),
           "chosenBy": answer.chosen_by, "detail": answer.detail, "delay": answer.delay,
           "outcome": answer.outcome}
    if answer.content_type != "application/json":
        doc["contentType"] = answer.content_type
    if answer.headers:
        doc["headers"] = [list(pair) for pair in answer.headers]
    return doc


def destination_doc(destination: Destination) -> dict[str, Any]:
    return {"url": destination.url, "status": destination.status,
            "headers": [list(pair) for pair in destination.headers], **_inline(destination.body),
            "duration": destination.duration, "error": destination.error, "outcome": destination.outcome}


def _document(exchange: Exchange, body: dict[str, Any], decoded: dict[str, Any] | None) -> dict[str, Any]:
    doc = {
        "id": exchange.id, "time": exchange.time, "session": exchange.session, "peer": exchange.peer,
        "method": exchange.method, "path": exchange.path, "query": exchange.query,
        "headers": [list(pair) for pair in exchange.headers], **body,
        "bodySize": exchange.body_size,
        "bodyError": _body_error(exchange.body_error) if exchange.body_error else None,
        "events": [event_doc(event) for event in exchange.events],
        "auth": _auth(exchange.auth) if exchange.auth else None,
        "findings": [finding_doc(finding) for finding in exchange.findings],
        "redelivery": _redelivery(exchange.redelivery) if exchange.redelivery else None,
        "response": answer_doc(exchange.answer) if exchange.answer else None,
        "duration": exchange.duration, "held": exchange.held,
    }
    if exchange.destination is not None:  # absent, not null: older documents stay as they were
        doc["destination"] = destination_doc(exchange.destination)
    if decoded is not None:
        doc["decoded"] = decoded
    if exchange.kind:
        doc["kind"] = exchange.kind
    if exchange.link is not None:
        link = exchange.link
        doc["link"] = {"source": link.source, "messageId": link.message_id, "attempt": link.attempt,
                       "attempts": link.attempts}
    if exchange.pipeline:
        doc["pipeline"] = [{"messageId": f.message_id, "fate": f.fate, "detail": f.detail} for f in exchange.pipeline]
    if exchange.body_gone:
        doc["bodyGone"] = exchange.body_gone
    return doc


def encode(exchange: Exchange) -> dict[str, Any]:
    """The exchange's document, bodies inline: what `--json` prints."""
    decoded = None if exchange.decoded is None else {**_inline(exchange.decoded), "size": len(exchange.decoded)}
    return _document(exchange, _inline(exchange.body), decoded)


def stored(exchange: Exchange) -> tuple[dict[str, Any], bytes, list[Body]]:
    """The document the history keeps, its journal line, and the bodies it keeps out of line."""
    bodies: list[Body] = []
    if len(exchange.body) > BIG_BODY:
        name = f"{BODIES}/{exchange.id}.body"
        bodies.append((name, exchange.body))
        body: dict[str, Any] = {"bodyFile": name}
    else:
        body = _inline(exchange.body)
    decoded = None
    if exchange.decoded is not None:
        if len(exchange.decoded) > BIG_BODY:
            name = f"{BODIES}/{exchange.id}.decoded"
            bodies.append((name, exchange.decoded))
            decoded = {"bodyFile": name, "size": len(exchange.decoded)}
        else:
            decoded = {**_inline(exchange.decoded), "size": len(exchange.decoded)}
    doc = _document(exchange, body, decoded)
    return doc, orjson.dumps(doc, option=orjson.OPT_APPEND_NEWLINE), bodies


def decode(doc: dict[str, Any], read: BodyReader | None = None) -> Exchange:
    """An exchange from its document; `read` gives out-of-line bodies. A body that cannot be
    read leaves the exchange readable, with `body_gone` (and `body_error`) saying why."""
    gone = str(doc.get("bodyGone") or "")
    try:
        body = body_of(doc, read)
    except BodyGone as why:
        body, gone = b"", str(why)
    decoded = None
    if doc.get("decoded"):
        try:
            decoded = body_of(doc["decoded"], read)
        except BodyGone as why:
            gone = gone or str(why)
    error = BodyError(**doc["bodyError"]) if doc.get("bodyError") else None
    if gone and error is None:
        error = BodyError(f"body {gone}")
    response, destination, link = doc.get("response"), doc.get("destination"), doc.get("link")
    return Exchange(
        id=doc["id"], time=doc["time"], session=doc.get("session", ""), peer=doc.get("peer", ""),
        method=doc["method"], path=doc["path"], query=doc.get("query", ""),
        headers=[(k, v) for k, v in doc.get("headers", [])], body=body,
        body_size=doc.get("bodySize", len(body)), body_error=error,
        events=[Event(e.get("type"), e.get("event"), e.get("userId"), e.get("anonymousId"), e.get("messageId"),
                      e.get("timestamp"), e.get("label")) for e in doc.get("events", [])],
        auth=Auth(**doc["auth"]) if doc.get("auth") else None,
        findings=[Finding(f["code"], f["severity"], f["message"], f.get("path", ""), f.get("event"))
                  for f in doc.get("findings", [])],
        redelivery=Redelivery(**doc["redelivery"]) if doc.get("redelivery") else None,
        answer=Answer(response["status"], response.get("body", "").encode(), response.get("chosenBy", "default"),
                      response.get("detail", ""), response.get("delay", 0.0),
                      response.get("contentType", "application/json"),
                      [(k, v) for k, v in response.get("headers", [])]) if response else None,
        destination=Destination(destination.get("url", ""), destination.get("status"),
                                [(k, v) for k, v in destination.get("headers", [])], body_of(destination),
                                destination.get("duration", 0.0), destination.get("error")) if destination else None,
        duration=doc.get("duration", 0.0), held=doc.get("held", False), decoded=decoded,
        kind=doc.get("kind", ""),
        link=Link(link["source"], link.get("messageId", ""), link.get("attempt", 1), link.get("attempts", 1))
        if link else None,
        pipeline=[Fate(f.get("messageId", ""), f.get("fate", ""), f.get("detail", ""))
                  for f in doc.get("pipeline", [])],
        body_gone=gone,
    )


def _body_error(error: BodyError) -> dict[str, Any]:
    return {"message": error.message, "line": error.line, "column": error.column, "position": error.position}


def _auth(auth: Auth) -> dict[str, Any]:
    return {"verdict": auth.verdict, "message": auth.message, "scheme": auth.scheme, "key": auth.key,
            "password": auth.password}


def _redelivery(redelivery: Redelivery) -> dict[str, Any]:
    return {"first": redelivery.first, "n": redelivery.n, "since": redelivery.since}


def is_exchange(doc: Any) -> bool:
    """A document the history can show: an object with the fields every exchange has."""
    return (isinstance(doc, dict) and isinstance(doc.get("id"), str) and len(doc["id"]) == ID_SIZE
            and doc["id"].isascii() and isinstance(doc.get("time"), (int, float))
            and isinstance(doc.get("method"), str) and isinstance(doc.get("path"), str)
            and isinstance(doc.get("events", []), list) and isinstance(doc.get("findings", []), list))


_SUMMARY_FIELDS = tuple(name for name in Summary.__dataclass_fields__ if name != "text")
_SUMMARY_LISTS = ("types", "names", "users", "anons", "messages", "codes", "severities")


def summary_doc(summary: Summary) -> dict[str, Any]:
    """A row as the control API sends it: every field of the summary but the body's text."""
    return {name: getattr(summary, name) for name in _SUMMARY_FIELDS}


def summary_from(doc: dict[str, Any]) -> Summary:
    """A row as the control API sent it; ValueError when it is not one."""
    try:
        values = {name: doc[name] for name in _SUMMARY_FIELDS}
        for name in _SUMMARY_LISTS:
            values[name] = tuple(str(item) for item in values[name])
    except (KeyError, TypeError) as err:
        raise ValueError(f"not a summary: {err}") from None
    return Summary(**values)


def is_opaque(doc: dict[str, Any]) -> bool:
    """Whether the shard's bytes cannot show the body's words (base64, or a file): free text must decode it."""
    decoded = doc.get("decoded")
    return ("bodyBase64" in doc or "bodyFile" in doc
            or (isinstance(decoded, dict) and ("bodyBase64" in decoded or "bodyFile" in decoded)))


OPAQUE_MARKS = (b'"bodyBase64"', b'"bodyFile"')  # in a shard's bytes: a body free text must decode


def body_text(doc: dict[str, Any], read: BodyReader | None = None) -> str:
    """The body as free-text search reads it: decoded, when it was sent compressed."""
    doc = doc.get("decoded") or doc
    try:
        return body_of(doc, read).decode("utf-8", "replace")
    except (ValueError, TypeError, BodyGone):
        return ""


# -- the files -------------------------------------------------------------------------

def shard_file(lines: list[bytes]) -> bytes:
    """A shard file of journal lines, as they are (each one document)."""
    return (b'{"' + TABLE.encode() + b'":{' + b",".join(b'"%d":%s' % (i, line) for i, line in enumerate(lines, 1))
            + b"}}")


def shard_file_of(docs: Iterable[dict[str, Any]]) -> bytes:
    return orjson.dumps({TABLE: {str(i): doc for i, doc in enumerate(docs, 1)}})


def shard_records(raw: bytes) -> tuple[list[dict[str, Any]], int]:
    """A shard file's exchanges and how many records are not one; ValueError for no shard file."""
    if not raw.strip():
        raise ValueError("empty, no exchanges in it")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise ValueError(f"damaged ({err}), its exchanges cannot be read") from None
    table = data.get(TABLE) if isinstance(data, dict) else None
    if not isinstance(table, dict) or not table:
        raise ValueError("holds no exchanges")
    docs = [doc for doc in table.values() if is_exchange(doc)]
    return docs, len(table) - len(docs)


def journal_records(raw: bytes) -> tuple[list[dict[str, Any]], int, int]:
    """A journal's exchanges, the lines that are not one, and the bytes skipped. A crash may
    leave a run of NULs where lines were: each piece around it is read on its own."""
    docs: list[dict[str, Any]] = []
    bad = skipped = 0
    for line in raw.split(b"\n"):
        pieces = line.split(b"\x00") if b"\x00" in line else [line]
        skipped += len(line) - sum(len(piece) for piece in pieces)  # the NULs
        for piece in pieces:
            if not piece.strip():
                skipped += len(piece)
                continue
            try:
                doc = orjson.loads(piece)
            except orjson.JSONDecodeError:
                doc = None
            if is_exchange(doc):
                docs.append(doc)
            else:
                bad += 1
                skipped += len(piece)
    return docs, bad, skipped


def journal_ids(raw: bytes) -> Iterator[bytes]:
    """Each journal line's id, read from its bytes (a line starts with `{"id":"`), b"" if not."""
    for line in raw.split(b"\n"):
        if line:
            yield line[7:7 + ID_SIZE] if line.startswith(b'{"id":"') else b""


def summary_file(block: Block, table: Facets) -> bytes:
    """The summary file of a block: its columns, with the shard's facets listed once."""
    block.freeze()
    local: dict[int, int] = {}
    for number in block.facets:
        local.setdefault(number, len(local))
    return orjson.dumps({SUMMARY_TABLE: {"1": {
        "ids": block.ids.decode("ascii"), "times": list(block.times),
        "facets": [list(table.rows[n]) for n in local], "rows": [local[n] for n in block.facets],
        "people": block.people, "offsets": list(block.offsets),
        "latency": [None if math.isnan(x) else round(x, 6) for x in block.latency],
        "holds": [round(x, 3) if x else 0 for x in block.holds]}}})


class OlderSummary(ValueError):
    """A summary file written before Event Delivery's columns: the shard tells them."""


def read_summary(raw: bytes, block: Block, table: Facets) -> None:
    """Fill a block's columns from its summary file; ValueError if it is not one."""
    try:
        doc = orjson.loads(raw)[SUMMARY_TABLE]["1"]
        if "latency" not in doc:
            raise OlderSummary("written before Event Delivery's columns")
        numbers = [table.number(_facet(f)) for f in doc["facets"]]
        ids = doc["ids"].encode("ascii")
        times = array("d", doc["times"])
        facets = array("I", [numbers[n] for n in doc["rows"]])
        offsets = array("I", doc["offsets"])
        people = doc["people"]
        latency = array("d", [math.nan if x is None else x for x in doc["latency"]])
        holds = array("d", doc["holds"])
    except OlderSummary:
        raise
    except (orjson.JSONDecodeError, KeyError, TypeError, IndexError, ValueError, UnicodeEncodeError,
            OverflowError) as err:
        raise ValueError(f"not a summary file ({type(err).__name__})") from None
    count = len(times)
    if (len(ids) != count * ID_SIZE or len(facets) != count or len(offsets) != count + 1
            or not isinstance(people, str) or offsets[-1] != len(people) or len(latency) != count
            or len(holds) != count):
        raise ValueError("not a summary file (columns differ in length)")
    block.fill(ids, times, facets, people, offsets, latency, holds)


def _interned(values: Any) -> tuple[str, ...]:
    return tuple(map(sys.intern, values))


def _facet(values: list[Any]) -> Facet:
    method, path, status, types, names, key, codes, severities, redelivery, held, body, kind, said, fates = values
    return (sys.intern(method), sys.intern(path), status, _interned(types), _interned(names),
            sys.intern(key) if key is not None else None, _interned(codes), _interned(severities),
            int(redelivery), bool(held), bool(body), sys.intern(str(kind)),
            None if said is None else (said[0] if isinstance(said[0], int) else None,
                                       sys.intern(said[1]) if isinstance(said[1], str) else None),
            (int(fates[0]), int(fates[1])))


def list_entry(block: Block, size: int) -> dict[str, Any]:
    """A shard's entry in its session's list; `bytes`, its file's size, tells a truncated file at start."""
    return {"shard": block.number, "count": block.count, "first": block.first_id, "last": block.last_id,
            "firstTime": block.first_time, "lastTime": block.last_time, "opaque": block.opaque, "bytes": size}


def list_file(entries: dict[int, dict[str, Any]]) -> bytes:
    """A session's `shards.json`: the format's version in a table of its own, then the shards."""
    return orjson.dumps({FORMAT_TABLE: {"1": {"version": VERSION}},
                         LIST_TABLE: {str(i): entry for i, (_, entry) in enumerate(sorted(entries.items()), 1)}})


def convert_1_2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 had no format table and kept every body inline: version 2 reads its documents as they are."""
    return {**data, FORMAT_TABLE: {"1": {"version": 2}}}


CONVERTERS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: convert_1_2}


def version_of(data: dict[str, Any]) -> int:
    """The format version of a session's list (1: no format table)."""
    table = data.get(FORMAT_TABLE)
    if table is None:
        return 1
    try:
        version = next(iter(table.values()))["version"]
    except (AttributeError, StopIteration, KeyError, TypeError):
        raise FormatRefused("its format table names no version") from None
    if not isinstance(version, int) or isinstance(version, bool):
        raise FormatRefused(f"its format version {version!r} is not a number")
    return version


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """A session's list in this version's shape; FormatRefused when it cannot be read."""
    version = version_of(data)
    if version > VERSION:
        raise FormatRefused(f"format version {version}, written by a newer segment-inspector: update it")
    while version < VERSION:
        convert = CONVERTERS.get(version)
        if convert is None:
            raise FormatRefused(f"format version {version}, which this segment-inspector cannot read")
        data = convert(data)
        version = version_of(data)
    return data


def read_list(raw: bytes) -> list[Any]:
    """A session's list entries, migrated; FormatRefused, or ValueError when it is damaged."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise ValueError(type(err).__name__) from None
    if not isinstance(data, dict):
        raise ValueError("not a shard list")
    table = migrate(data).get(LIST_TABLE, {})
    if not isinstance(table, dict):
        raise ValueError("not a shard list")
    return list(table.values())


def body_path(session_dir: Path, name: str) -> Path:
    """Where an out-of-line body named in a document is; never outside the session's bodies."""
    return session_dir / BODIES / Path(name).name

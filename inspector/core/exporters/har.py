"""`har`: HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/), request and our answer.

Opens in browser dev tools (Network panel, import HAR): `pages` is present though
empty, and `_resourceType` marks each entry as a fetch. A request body is
`postData.text`; a body that is not UTF-8 is written as base64 there, marked with the
custom field `_encoding: "base64"` (HAR 1.2 has `encoding` only for responses) and a
comment. The response headers are the ones the receiver always sends with an answer.
An exchange still held (no answer) gets status 0, as browsers write a request that got none.
"""

from __future__ import annotations

import base64
import datetime
import http
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

from ..model import Exchange
from . import Export, ExportOptions, exporter
from .common import request_url

NAME = "segment-requests.har"


def _started(epoch: float) -> str:
    moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _pairs(pairs: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in pairs]


def _mime(exchange: Exchange) -> str:
    return exchange.header("Content-Type") or ""


def _post_data(exchange: Exchange) -> dict[str, Any]:
    try:
        return {"mimeType": _mime(exchange), "text": exchange.body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"mimeType": _mime(exchange), "text": base64.b64encode(exchange.body).decode("ascii"),
                "_encoding": "base64", "comment": "the body is not UTF-8: text is its base64"}


def _response(exchange: Exchange) -> dict[str, Any]:
    answer = exchange.answer
    if answer is None:
        return {"status": 0, "statusText": "", "httpVersion": "", "cookies": [], "headers": [],
                "content": {"size": 0, "mimeType": ""}, "redirectURL": "", "headersSize": -1,
                "bodySize": -1, "comment": "no answer yet: the request was still held"}
    try:
        reason = http.HTTPStatus(answer.status).phrase
    except ValueError:
        reason = ""
    content: dict[str, Any] = {"size": len(answer.body), "mimeType": "application/json"}
    if answer.body:
        content["text"] = answer.body.decode("utf-8", "replace")
    chosen = answer.chosen_by + (f": {answer.detail}" if answer.detail else "")
    return {
        "status": answer.status, "statusText": reason, "httpVersion": "HTTP/1.1", "cookies": [],
        "headers": _pairs([("Content-Type", "application/json"), ("Content-Length", str(len(answer.body)))]),
        "content": content, "redirectURL": "", "headersSize": -1, "bodySize": len(answer.body),
        "comment": f"answered {answer.status}, chosen by {chosen}; Segment: {answer.outcome}",
    }


def entry(exchange: Exchange, base_url: str) -> dict[str, Any]:
    """One HAR entry: the request as received, our answer, the time it took."""
    url = request_url(base_url, exchange)
    request: dict[str, Any] = {
        "method": exchange.method, "url": url, "httpVersion": "HTTP/1.1", "cookies": [],
        "headers": _pairs(exchange.headers), "queryString": _pairs(parse_qsl(exchange.query, keep_blank_values=True)),
        "headersSize": -1, "bodySize": len(exchange.body),
    }
    if exchange.body:
        request["postData"] = _post_data(exchange)
    wait = round(exchange.duration * 1000, 3)
    return {
        "startedDateTime": _started(exchange.time), "time": wait, "request": request,
        "response": _response(exchange), "cache": {},
        "timings": {"blocked": -1, "dns": -1, "connect": -1, "send": 0, "wait": wait, "receive": 0, "ssl": -1},
        "_resourceType": "fetch", "comment": f"segment-inspector exchange {exchange.id}",
    }


def har_document(exchanges: Sequence[Exchange], options: ExportOptions) -> dict[str, Any]:
    return {"log": {
        "version": "1.2",
        "creator": {"name": "segment-inspector", "version": options.version},
        "pages": [],
        "entries": [entry(exchange, options.base_url) for exchange in exchanges],
    }}


@exporter("har", default_name=NAME, help="one HAR 1.2 file: each request and our answer, for browser dev tools")
def har(exchanges: Sequence[Exchange], options: ExportOptions) -> Export:
    document = har_document(exchanges, options)
    try:
        text = json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate in a header: escapes keep the file UTF-8
        text = json.dumps(document, indent=2, ensure_ascii=True).encode("ascii")
    return Export({NAME: text + b"\n"}, count=len(exchanges))

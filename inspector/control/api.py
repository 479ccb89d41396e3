"""The control API: the hub over JSON and HTTP, for scripts, CI and attached viewers.

A thin adapter: every call is one hub method, every exchange is sent in the stored
format (`history.format.encode`), every row as `history.format.summary_doc`. Documented call by call in
docs/api.md. Every call needs `Authorization: Bearer <token>` (see token.py); a
client that keeps failing it is refused for a while. Errors are `{"message": ...}`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from .. import __version__
from ..core import values
from ..core.exporters import FORMATS, ExportOptions, export
from ..core.history.format import encode, summary_doc
from ..core.hub import Hub
from ..core.policy import Forward, Reply, parse_headers, parse_reply, parse_rule
from ..core.query import QueryError, parse
from ..core.text import inert
from .feed import Feed
from .token import same

MAX_BODY = 1024 * 1024  # of a call's JSON
PAGE = 100  # rows of /api/exchanges by default
MOST = 1000  # and at most
FAILURES = 10  # bad tokens from one client within WINDOW seconds, before it is refused
WINDOW = 60.0
VIEWER = "X-Segment-Inspector-Viewer"  # who is calling, as `attach --name` says

HUB = web.AppKey("hub", Hub)
FEED = web.AppKey("feed", Feed)
TOKEN = web.AppKey("token", str)
FAILED = web.AppKey("failed", dict)
ROWS = web.AppKey("rows", dict)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BadCall(Exception):
    """Answered 400 with its message."""


def error(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


def ok(doc: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(doc), status=status, content_type="application/json")


@web.middleware
async def guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The token first; then every failure a JSON message, never a traceback."""
    failed: dict[str, list[float]] = request.app[FAILED]
    client = request.remote or ""
    now = time.monotonic()
    recent = [moment for moment in failed.get(client, ()) if now - moment < WINDOW]
    if len(recent) >= FAILURES:
        return error(429, f"too many calls with a wrong token: wait {WINDOW:g} s")
    given = request.headers.get("Authorization", "")
    scheme, _, token = given.partition(" ")
    if scheme.lower() != "bearer" or not same(token.strip(), request.app[TOKEN]):
        failed[client] = [*recent, now]
        if len(failed) > 10_000:  # forget the oldest clients rather than grow without bound
            failed.pop(next(iter(failed)))
        return error(401, "the control API needs Authorization: Bearer <token> "
                          "(the token is in the data directory's control-token file)")
    try:
        return await handler(request)
    except BadCall as bad:
        return error(400, str(bad))
    except web.HTTPRequestEntityTooLarge:
        return error(413, f"a call's body is at most {MAX_BODY} bytes")
    except web.HTTPException as http:
        if http.status >= 400:
            return error(http.status, http.reason)
        raise


async def body_of(request: web.Request, *allowed: str) -> dict[str, Any]:
    """The call's JSON object, with only the fields named."""
    raw = await request.read()
    try:
        doc = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError as err:
        raise BadCall(f"the body is not JSON: {err}") from None
    if not isinstance(doc, dict):
        raise BadCall("the body is a JSON object")
    unknown = sorted(set(doc) - set(allowed))
    if unknown:
        raise BadCall(f"unknown field {inert(unknown[0])!r}; this call takes {', '.join(allowed) or 'none'}")
    return doc


def field(doc: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
    """A field of the call's body, of the kind named (null or absent: the default)."""
    value = doc.get(name)
    if value is None:
        return default
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise BadCall(f"{name}: expected {names}")
    return value


def query_of(text: str) -> Any:
    try:
        return parse(text)
    except QueryError as err:
        raise BadCall(f"query error: {err.message} at position {err.position}") from None


def number(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadCall(f"{name}: expected a whole number, not {inert(text)!r}") from None
    if not low <= value <= high:
        raise BadCall(f"{name}: between {low} and {high}")
    return value


def reply_of(doc: dict[str, Any]) -> Reply:
    """`{"status", "message", "delay", "headers", "body"}` as a Reply."""
    status = field(doc, "status", int, 200)
    message = field(doc, "message", str)
    delay = field(doc, "delay", (int, float), 0)
    headers = field(doc, "headers", dict, {})
    body = field(doc, "body", str)
    try:
        reply = parse_reply(str(status) if message is None else f"{status}:{message}", float(delay))
        pairs = parse_headers("\n".join(f"{name}: {value}" for name, value in headers.items()))
    except ValueError as err:
        raise BadCall(str(err)) from None
    return Reply(reply.status, reply.message, reply.delay, body, pairs)


def reply_doc(reply: Reply) -> dict[str, Any]:
    return {"status": reply.status, "message": reply.message, "delay": reply.delay,
            "headers": dict(reply.headers), "body": reply.content}


# -- state ------------------------------------------------------------------------------------


def state(hub: Hub, feed: Feed | None = None) -> dict[str, Any]:
    """How the inspector answers now, and how it is reached: GET /api/status."""
    tunnel = hub.tunnel
    hold = hub.holding
    forward = hub.forward
    return {
        "version": __version__, "session": hub.session, "localUrl": hub.local_url,
        "publicUrls": hub.public_urls,
        "tunnel": None if tunnel is None else {"status": tunnel.status, "publicUrl": tunnel.public_url,
                                               "note": tunnel.note},
        "stored": hub.stored(), "held": len(hub.held()), "historyTrouble": hub.history_trouble(),
        "answering": hub.answering(), "default": reply_doc(hub.default),
        "rules": [{"rule": str(rule), "enabled": rule.enabled} for rule in hub.rules],
        "hold": None if hold is None else {"query": hold.query.text if hold.query else "", "count": hold.count,
                                           "timeout": hold.timeout,
                                           "fallback": reply_doc(hold.fallback) if hold.fallback else None},
        "forward": None if forward is None else {"url": forward.url, "mirror": forward.mirror},
        "viewers": sorted(viewer.name for viewer in feed.viewers) if feed is not None else [],
    }


async def status(request: web.Request) -> web.Response:
    return ok(state(request.app[HUB], request.app[FEED]))


# -- what was received ------------------------------------------------------------------------


async def rows_of(request: web.Request, text: str) -> Any:
    """The rows a query finds now; a viewer paging through them asks again and again, so the
    last few are reused until the history or the held requests change."""
    hub = request.app[HUB]
    cache: dict[str, tuple[tuple[int, int], Any]] = request.app[ROWS]
    mark = (hub.stored(), len(hub.held()))
    known = cache.get(text)
    if known is not None and known[0] == mark:
        return known[1]
    rows = await asyncio.to_thread(hub.rows, query_of(text))
    if len(cache) >= 8:
        cache.pop(next(iter(cache)))
    cache[text] = (mark, rows)
    return rows


async def exchanges(request: web.Request) -> web.Response:
    """Newest first, a page at a time: `next` is the `before` of the next page. Or in arrival
    order from `offset` (or the page of `at`, an id), as a list that scrolls reads them."""
    limit = number(request, "limit", PAGE, 1, MOST)
    rows = await rows_of(request, request.query.get("q", ""))
    at = request.query.get("at")
    if at is not None or "offset" in request.query:
        if at is not None:
            found = rows.position(at)
            if found is None:
                return ok({"exchanges": [], "total": len(rows), "offset": None})
            offset = found - found % limit
        else:
            offset = number(request, "offset", 0, 0, 10**12)
        return ok({"exchanges": [summary_doc(summary) for summary in rows[offset:offset + limit]],
                   "total": len(rows), "offset": offset})
    before = request.query.get("before")
    end = len(rows)
    if before:
        found = rows.position(before)
        if found is None:
            raise BadCall(f"before: no exchange {inert(before)!r} matches the query")
        end = found
    start = max(0, end - limit)
    page = rows[start:end][::-1]
    return ok({"exchanges": [summary_doc(summary) for summary in page], "total": len(rows),
               "next": page[-1].id if start > 0 and page else None})


async def exchange(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    found = await asyncio.to_thread(hub.get, request.match_info["id"])
    if found is None:
        return error(404, f"no exchange {inert(request.match_info['id'])!r}")
    return ok({**encode(found), "heldNow": hub.held_exchange(found.id) is not None})


async def deliveries(request: web.Request) -> web.Response:
    """A Tracking API call's deliveries (local Segment's), oldest first."""
    found = await asyncio.to_thread(request.app[HUB].deliveries, request.match_info["id"])
    return ok({"deliveries": [encode(item) for item in found]})


async def exported(request: web.Request) -> web.Response:
    """The matching exchanges (oldest first) in one format, as a download."""
    hub = request.app[HUB]
    name = request.query.get("format", "json")
    if name not in FORMATS:
        raise BadCall(f"format: one of {', '.join(FORMATS)}")
    query = query_of(request.query.get("q", ""))
    limit = number(request, "limit", 10_000, 1, 100_000)

    def made() -> Any:
        found = [hub.get(summary.id) for summary in hub.search(query, limit, newest_first=False)]
        return export([item for item in found if item is not None], name,
                      ExportOptions(base_url=hub.receiving_url(), redact=request.query.get("redact") == "1"))

    result = await asyncio.to_thread(made)
    form = FORMATS[name]
    body = orjson.dumps({"files": {file: content.decode("utf-8", "replace") for file, content in
                                   result.files.items()}, "count": result.count, "keys": result.keys,
                         "skipped": [{"id": s.exchange_id, "reason": s.reason} for s in result.skipped]}) \
        if form.many else result.joined()
    filename = form.default_name + (".json" if form.many else "")
    return web.Response(body=body, headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                            "X-Exported": str(result.count),
                                            "X-Holds-Keys": "1" if result.keys else "0"},
                        content_type="application/json" if form.many or name in ("json", "har") else "text/plain")


async def delivery(request: web.Request) -> web.Response:
    from ..core.event_delivery import DEFAULT_WINDOW

    hub = request.app[HUB]
    query = query_of(request.query.get("q", DEFAULT_WINDOW))
    report = await asyncio.to_thread(hub.delivery, query)
    return ok(report.to_doc())


# -- how new requests are answered -------------------------------------------------------------


async def set_default(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    hub.set_default(reply_of(await body_of(request, "status", "message", "delay", "headers", "body")))
    return ok(reply_doc(hub.default))


def _rule(doc: dict[str, Any]) -> Any:
    text = field(doc, "rule", str)
    if text is None:
        raise BadCall("rule: the rule, as 'QUERY => STATUS[:message]'")
    try:
        return parse_rule(text)
    except ValueError as err:
        raise BadCall(str(err)) from None


def _index(request: web.Request, hub: Hub) -> int:
    try:
        index = int(request.match_info["index"])
    except ValueError:
        raise BadCall("a rule is named by its place, from 0") from None
    if not 0 <= index < len(hub.rules):
        raise web.HTTPNotFound(reason=f"no rule {index}: there are {len(hub.rules)}")
    return index


def rules_doc(hub: Hub) -> dict[str, Any]:
    return {"rules": [{"rule": str(rule), "enabled": rule.enabled} for rule in hub.rules]}


async def add_rule(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    doc = await body_of(request, "rule", "at")
    at = field(doc, "at", int)
    rule = _rule(doc)
    hub.add_rule(rule, None if at is None else max(0, min(at, len(hub.rules))))
    return ok(rules_doc(hub), 201)


async def change_rule(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    index = _index(request, hub)
    doc = await body_of(request, "rule", "enabled", "move")
    if "rule" in doc:
        rule = _rule(doc)
        hub.replace_rule(index, rule)
    enabled = field(doc, "enabled", bool)
    if enabled is not None and hub.rules[index].enabled != enabled:
        hub.toggle_rule(index)
    step = field(doc, "move", int)
    if step:
        hub.move_rule(index, step)
    return ok(rules_doc(hub))


async def remove_rule(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    removed = hub.remove_rule(_index(request, hub))
    return ok({**rules_doc(hub), "removed": str(removed)})


async def start_holding(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    doc = await body_of(request, "query", "count", "timeout", "fallback")
    text = field(doc, "query", str, "")
    count = field(doc, "count", int)
    if count is not None and count < 1:
        raise BadCall("count: 1 or more")
    timeout = field(doc, "timeout", (int, float, str))
    try:
        seconds = None if timeout is None else values.duration(timeout)
    except ValueError as err:
        raise BadCall(f"timeout: {err}") from None
    fallback = field(doc, "fallback", dict)
    hub.start_holding(query_of(text) if text else None, count=count, timeout=seconds,
                      fallback=reply_of(fallback) if fallback is not None else None)
    return ok(state(hub)["hold"])


async def stop_holding(request: web.Request) -> web.Response:
    request.app[HUB].stop_holding()
    return ok({"hold": None})


async def held(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    return ok({"held": [{"exchange": encode(item), "summary": summary_doc(item.summary()), "deadline": deadline}
                        for item, deadline in hub.held()]})


async def resolve(request: web.Request) -> web.Response:
    """Answer a held request: a reply, or `{"forward": true | URL}`."""
    hub = request.app[HUB]
    exchange_id = request.match_info["id"]
    doc = await body_of(request, "status", "message", "delay", "headers", "body", "forward")
    forward = doc.pop("forward", None)
    if forward is not None:
        if not isinstance(forward, (bool, str)) or forward is False:
            raise BadCall("forward: true (to the forward URL) or a URL")
        url = None if forward is True else _url(forward)
        if hub.held_exchange(exchange_id) is not None and url is None and hub.forward is None:
            raise BadCall("forward: there is no forward URL: give one")
        done = hub.resolve_forward(exchange_id, url, by=viewer(request))
    else:
        done = hub.resolve(exchange_id, reply_of(doc), by=viewer(request))
    if not done:
        return error(409, already(hub, exchange_id))
    return ok({"resolved": exchange_id})


def viewer(request: web.Request) -> str:
    """Who calls, as they named themselves (`attach --name`), else their address."""
    return inert(request.headers.get(VIEWER, "") or request.remote or "a viewer")[:80]


def already(hub: Hub, exchange_id: str) -> str:
    """Why a held request cannot be answered: someone did, or it never was held."""
    kept = hub.get(exchange_id)
    if kept is None:
        return f"no exchange {inert(exchange_id)!r} is held"
    if kept.answer is None:
        return f"{kept.id} is not held"
    detail = f", {kept.answer.detail}" if kept.answer.detail.startswith("by ") else ""
    return f"{kept.id} is no longer held: answered {kept.answer.status} ({kept.answer.chosen_by}{detail})"


def _url(text: str) -> str:
    try:
        return values.url(text)
    except ValueError as err:
        raise BadCall(f"url: {err}") from None


async def set_forward(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    doc = await body_of(request, "url", "mirror")
    url = field(doc, "url", str)
    if url is None:
        raise BadCall("url: where to forward requests")
    hub.set_forward(Forward(_url(url), bool(field(doc, "mirror", bool, False))))
    return ok(state(hub)["forward"])


async def stop_forward(request: web.Request) -> web.Response:
    request.app[HUB].set_forward(None)
    return ok({"forward": None})


# -- the live stream ---------------------------------------------------------------------------


async def stream(request: web.Request) -> web.WebSocketResponse:
    """The hub's notices as they happen (see feed.py); `?after=ID&run=RUN` resumes."""
    feed = request.app[FEED]
    after_text = request.query.get("after")
    try:
        after = int(after_text) if after_text is not None else None
    except ValueError:
        raise BadCall(f"after: the id of the last notice seen, not {inert(after_text or '')!r}") from None
    socket = web.WebSocketResponse(heartbeat=20.0, max_msg_size=64 * 1024)
    await socket.prepare(request)
    watching = feed.join(viewer(request), after, request.query.get("run"))

    async def send() -> None:
        while (item := await watching.queue.get()) is not None:
            await socket.send_bytes(item[0])
            watching.sent(item[1])
        await socket.close()

    sending = asyncio.create_task(send())
    try:
        async for message in socket:  # viewers send nothing; reading notices the close
            if message.type == WSMsgType.ERROR:
                break
    finally:
        feed.leave(watching)
        sending.cancel()
        try:
            await sending
        except (asyncio.CancelledError, ConnectionError):
            pass
    return socket


def make_app(hub: Hub, token: str) -> web.Application:
    app = web.Application(middlewares=[guarded], client_max_size=MAX_BODY)
    app[HUB] = hub
    app[TOKEN] = token
    app[FAILED] = {}
    app[ROWS] = {}
    add = app.router.add_route
    add("GET", "/api/status", status)
    add("GET", "/api/exchanges", exchanges)
    add("GET", "/api/exchanges/{id}", exchange)
    add("GET", "/api/exchanges/{id}/deliveries", deliveries)
    add("GET", "/api/export", exported)
    add("GET", "/api/delivery", delivery)
    add("PUT", "/api/default", set_default)
    add("POST", "/api/rules", add_rule)
    add("PATCH", "/api/rules/{index}", change_rule)
    add("DELETE", "/api/rules/{index}", remove_rule)
    add("PUT", "/api/hold", start_holding)
    add("DELETE", "/api/hold", stop_holding)
    add("GET", "/api/held", held)
    add("POST", "/api/held/{id}", resolve)
    add("PUT", "/api/forward", set_forward)
    add("DELETE", "/api/forward", stop_forward)
    add("GET", "/api/stream", stream)

    async def opened(app: web.Application) -> None:
        app[FEED] = Feed(hub, lambda: state(hub, app[FEED]))

    async def closed(app: web.Application) -> None:
        app[FEED].close()

    app.on_startup.append(opened)
    app.on_shutdown.append(closed)
    return app

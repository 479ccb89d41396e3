"""How a request's headers differ from the fixed set Segment sends to a partner endpoint.

Segment always sends the same headers (partners/direct-destination.md), so each difference
tells the developer something: the request came from curl or a test script rather than from
Segment, or it carries a header that a real endpoint could stumble over.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from .checks import finding, shown
from .checks.request import SEGMENT_USER_AGENT, SETTINGS_EXAMPLE  # noqa: F401  (a valid X-Segment-Settings, for callers)
from .json_errors import first_error
from .model import Finding

# Headers Segment sends once whose second copy leaves a server guessing which one counts.
_ONCE = ("Content-Type", "Authorization", "X-Segment-Settings")

# Who usually sends a User-Agent, to say where a non-Segment request came from.
_SENDERS = (
    ("go-http-client", "a Go program"),
    ("postmanruntime", "Postman"),
    ("python-requests", "a Python script"),
    ("python-httpx", "a Python script"),
    ("python-urllib", "a Python script"),
    ("aiohttp", "a Python script"),
    ("node-fetch", "a Node script"),
    ("axios", "a Node script"),
    ("undici", "a Node script"),
    ("mozilla/", "a browser"),
)

_BODY_OK = "the body was still accepted because it parsed as JSON"


def check_headers(headers: list[tuple[str, str]], body_size: int) -> list[Finding]:
    """One finding per way these headers differ from Segment's; Authorization is left to auth.py."""
    values: dict[str, list[str]] = {}
    for name, value in headers:
        values.setdefault(name.strip().lower(), []).append(value)

    def first(name: str) -> str | None:
        found = values.get(name.lower())
        return found[0] if found else None

    findings: list[Finding] = []

    if first("Accept") is None:
        findings.append(finding("HDR001", "no Accept header; Segment sends Accept: */*", "header:Accept"))

    cache = first("Cache-Control")
    if cache is None:
        findings.append(finding("HDR002", "no Cache-Control header; Segment sends no-cache",
                                "header:Cache-Control"))
    elif cache.strip().lower() != "no-cache":
        findings.append(finding("HDR002", f"Cache-Control is {shown(cache)}; Segment sends no-cache",
                                "header:Cache-Control"))

    tokens = {token.strip().lower() for value in values.get("connection", []) for token in value.split(",")}
    if "close" in tokens:
        findings.append(finding("HDR003", "Connection: close; Segment keeps the connection alive and "
                                "sends further requests on it", "header:Connection"))

    lengths = values.get("content-length", [])
    if len(lengths) > 1:
        findings.append(finding("HDR009", f"Content-Length sent {len(lengths)} times "
                                f"({', '.join(shown(v, 20) for v in lengths[:4])}); Segment sends it once, "
                                "and many servers refuse a request with more than one", "header:Content-Length"))
    length = _content_length(lengths[0] if lengths else None, body_size, values.get("transfer-encoding", []))
    if length:
        findings.append(length)

    content_type = first("Content-Type")
    if content_type is None:
        findings.append(finding("HDR006", f"no Content-Type header; Segment sends application/json; {_BODY_OK}",
                                "header:Content-Type"))
    elif not is_json_type(content_type):
        findings.append(finding("HDR006", f"Content-Type is {shown(content_type)}, not application/json; "
                                f"{_BODY_OK}", "header:Content-Type"))

    for name in _ONCE:
        sent = values.get(name.lower(), [])
        if len(sent) > 1:
            findings.append(finding("HDR010", f"{name} sent {len(sent)} times; Segment sends it once, and a "
                                    "server may read either copy", f"header:{name}"))

    agent = _user_agent(first("User-Agent"))
    if agent:
        findings.append(agent)

    settings = first("X-Segment-Settings")
    if settings is not None:
        _, error = decode_settings(settings)
        if error:
            findings.append(finding("HDR011", f"X-Segment-Settings {error}; Segment sends base64 of a JSON "
                                    "object of the custom settings", "header:X-Segment-Settings"))
    return findings


def is_json_type(value: str) -> bool:
    """application/json or a JSON vendor type such as application/vnd.segment+json, any parameters."""
    media = value.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _content_length(value: str | None, body_size: int, transfer: list[str]) -> Finding | None:
    """Segment always sends the exact length; a missing or wrong one points at another client."""
    path = "header:Content-Length"
    if value is None:
        how = " (the body came with Transfer-Encoding: chunked)" if any(
            "chunked" in v.lower() for v in transfer) else ""
        return finding("HDR004", f"no Content-Length header{how}; Segment always sends it, and some "
                       "servers refuse a body without it (411 Length Required)", path)
    text = value.strip()
    if not text or not (text.isascii() and text.isdigit()):
        return finding("HDR005", f"Content-Length {shown(text)} is not a byte count; a server cannot tell "
                       "where the body ends and answers 400", path)
    digits = text.lstrip("0") or "0"
    if len(digits) > 18 or int(digits) != body_size:
        return finding("HDR005", f"Content-Length says {shown(digits, 20, quote=False)} bytes but {body_size} "
                       "arrived; a server would wait for the rest or misread the body", path)
    return None


def _user_agent(value: str | None) -> Finding | None:
    """Tell Segment's partner delivery from other Segment senders and from test tools."""
    path = "header:User-Agent"
    if value is None or not value.strip():
        return finding("HDR008", f"no User-Agent: not sent by Segment, which sends {SEGMENT_USER_AGENT}", path)
    agent = value.strip()
    if agent == SEGMENT_USER_AGENT:
        return None
    lower = agent.lower()
    if lower.startswith("segment"):
        if lower.startswith("segment (actions)"):
            who = "Segment's Actions destinations"
        elif lower.startswith("segment.io/"):
            who = "a Segment integration"
        else:
            who = "another Segment sender"
        return finding("HDR007", f"User-Agent {shown(agent)} is from {who}; partner deliveries send "
                       f"{SEGMENT_USER_AGENT}", path)
    sender = next((what for prefix, what in _SENDERS if lower.startswith(prefix)), "")
    by = f"{shown(agent, 60, quote=False)} ({sender})" if sender else shown(agent, 60, quote=False)
    return finding("HDR008", f"sent by {by}, not by Segment, which sends User-Agent {SEGMENT_USER_AGENT}", path)


def decode_settings(value: str) -> tuple[dict[str, Any] | None, str | None]:
    """The X-Segment-Settings object, or why it is not base64 of a JSON object (never raises)."""
    text = value.strip()
    if not text:
        return None, "is empty"
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        return None, f"is not valid base64 ({str(error).lower() or 'invalid'})"
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "decodes to bytes that are not UTF-8"
    try:
        data = json.loads(decoded, parse_constant=_no_constant)
    except json.JSONDecodeError:
        return None, f"decodes to text that is not JSON ({first_error(decoded)})"
    except ValueError as error:  # NaN or Infinity, or more digits than Python reads
        return None, f"decodes to text that is not JSON ({error})"
    except RecursionError:
        return None, "decodes to JSON nested too deeply to read"
    if not isinstance(data, dict):
        return None, f"decodes to a JSON {_JSON_TYPES.get(type(data), 'value')}, not an object"
    return data, None


_JSON_TYPES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean",
               type(None): "null"}


def _no_constant(name: str) -> Any:
    """NaN and Infinity are not JSON, and Segment never sends them."""
    raise ValueError(f"{name} is not allowed in JSON")

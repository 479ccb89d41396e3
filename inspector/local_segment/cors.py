"""The Tracking API across origins: analytics.js in a browser calls it from the page's origin."""

from __future__ import annotations

from aiohttp import web

# What a browser may send across origins, as Segment's API allows: analytics.js posts text/plain
# or JSON, with X-Retry-Count on a retry; the server SDKs add Authorization.
PREFLIGHT = {
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization, X-Retry-Count, Content-Encoding, "
                                    "X-Segment-Settings",
    "Access-Control-Max-Age": "86400",
}


def cors(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    """Any page may call the Tracking API from a browser, as any may call Segment's."""
    origin = request.headers.get("Origin")
    response.headers["Access-Control-Allow-Origin"] = origin if origin else "*"
    if origin:
        response.headers["Vary"] = "Origin"
    return response

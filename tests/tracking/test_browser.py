"""analytics.js (@segment/analytics-next) in a real headless Chromium, on a page of another origin,
set up as the README says, sending to the inspector's Tracking API: CORS, the retry's preflight."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path

import pytest
from aiohttp import web

from inspector.core.policy import Policy, parse_rule
from inspector.core.query import parse
from inspector.local_segment.options import TrackingOptions

from ..endpoint import Endpoint, serving
from .conftest import NODE_CLIENTS, open_local

UMD = NODE_CLIENTS / "node_modules" / "@segment" / "analytics-next" / "dist" / "umd" / "index.js"
CHROMIUM = next((path for name in ("chromium", "chromium-browser", "google-chrome")
                 if (path := shutil.which(name))), None)

PAGE = """<!doctype html><html><head><title>shop</title><script src="/analytics.js"></script></head>
<body><script>
// The README's settings: no CDN settings fetched, events to the inspector.
AnalyticsNext.AnalyticsBrowser.load({ writeKey: 'browser-write-key', cdnSettings: { integrations: {
  'Segment.io': { apiHost: '127.0.0.1:%(port)d/v1', protocol: 'http' } } } })
  .then(([analytics]) => {
    analytics.track('Retry Me', { run: '%(run)s' });
    analytics.track('Browser Event', { run: '%(run)s' });
  });
</script></body></html>"""


def missing() -> str | None:
    if CHROMIUM is None:
        return "no Chromium on this machine (.ci/run installs Debian's chromium)"
    if not UMD.is_file():
        return f"@segment/analytics-next is not installed in {NODE_CLIENTS} (.ci/run installs it with npm)"
    return None


@pytest.mark.skipif(missing() is not None, reason=str(missing()))
async def test_analytics_js_in_a_browser_delivers_through_cors_and_its_retry(tmp_path: Path) -> None:
    run = uuid.uuid4().hex[:8]
    policy = Policy(rules=[parse_rule('kind:source event:"Retry Me" => 503')])  # its first try fails
    async with open_local(tmp_path, TrackingOptions(time_scale=0.001), policy) as local:
        port = int(local.url.rstrip("/").rsplit(":", 1)[1])

        async def shop(request: web.Request, _: Endpoint) -> web.StreamResponse:
            if request.path == "/analytics.js":
                return web.FileResponse(UMD)
            return web.Response(text=PAGE % {"port": port, "run": run}, content_type="text/html")

        async with serving(shop) as site:
            shop_url = site.url
            browser = await asyncio.create_subprocess_exec(
                *[str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  f"--user-data-dir={tmp_path / 'profile'}", shop_url],
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
            try:
                def refused() -> bool:
                    return any(s.answer.status == 503 for s in local.exchanges("source"))

                await local.until(refused, "analytics.js's first call, answered 503", timeout=60)
                local.hub.remove_rule(0)

                def delivered() -> set[str]:
                    return {e.events[0].event or "" for e in local.delivered()}

                await local.until(lambda: {"Retry Me", "Browser Event"} <= delivered(), "both events delivered",
                                  timeout=60)
            finally:
                browser.kill()
                await browser.wait()
        sources = local.exchanges("source")
        assert all(s.header("Origin") == shop_url.rstrip("/") for s in sources)
        retried = [s for s in sources if s.header("X-Retry-Count") and s.answer.status == 200]
        assert retried, "the retry carried X-Retry-Count"
        preflights = [s for s in sources if s.method == "OPTIONS"]
        assert preflights and all(p.answer.status == 204 for p in preflights)
        report = local.hub.delivery(parse("since:1h"))
        assert report.counts["dropped"] == 0 and report.counts["retried"] == 0

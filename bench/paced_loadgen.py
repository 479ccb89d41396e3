"""A paced load generator for bench/tui.py: Segment track events at a steady rate, then stop.

    python bench/paced_loadgen.py URL --rate 1000 --duration 8 --tag t --connections 32 [--until-eof]

Unlike bench/loadgen.py (as fast as possible), requests follow a fixed schedule: the
n-th request is due at start + n / rate. Every 2 ms the generator issues whatever is due,
so the rate holds steady whatever the answers' latency, and a slow server shows up as
"late" requests (issued more than 10 ms after their due time because the client had
fallen behind, e.g. all connections busy) rather than as a lower rate hidden in an
average. Each request is a ~1.1 KB track event with Segment's headers and its own
messageId; its userId is `user-<tag><counter:06d>`, unique per request, so bench/tui.py
can tell rows apart on screen.

Prints `STARTED` when the first request is due, then one line `BENCH_JSON {...}` with
issued, completed, ok (2xx), non2xx, errors, late, seconds, and why it stopped. Stops by
itself after `duration` seconds, or earlier with --until-eof as soon as its stdin closes
(so a benchmark can end the traffic exactly when its measurement ends), then finishes
the requests under way (at most 10 s more). 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
import time
from pathlib import Path

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from segment_events import SEGMENT_HEADERS, wrk_template

TICK = 0.002
LATE = 0.010


async def run(url: str, rate: float, duration: float, tag: str, connections: int, until_eof: bool) -> dict:
    if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise SystemExit(f"refusing a non-loopback URL: {url}")
    before, between, after = wrk_template(tag)
    headers = {k: v for k, v in SEGMENT_HEADERS.items() if k != "Connection"}
    stats = {"issued": 0, "completed": 0, "ok": 0, "non2xx": 0, "errors": 0, "late": 0}
    tasks: set[asyncio.Task] = set()
    eof = threading.Event()
    if until_eof:
        threading.Thread(target=lambda: (sys.stdin.buffer.read(), eof.set()), daemon=True).start()

    async def one(session: aiohttp.ClientSession, n: int) -> None:
        body = f"{before}{n:08x}{between}{tag}{n:06d}{after}".encode()
        try:
            async with session.post(url, data=body, headers=headers) as resp:
                await resp.read()
                stats["ok" if 200 <= resp.status < 300 else "non2xx"] += 1
        except (TimeoutError, aiohttp.ClientError):
            stats["errors"] += 1
        stats["completed"] += 1

    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        total = int(rate * duration)
        start = time.monotonic()
        print("STARTED", flush=True)
        stats["stopped_by"] = "duration"
        while stats["issued"] < total:
            if eof.is_set():
                stats["stopped_by"] = "stdin closed"
                break
            now = time.monotonic()
            due = min(total, int((now - start) * rate) + 1)
            while stats["issued"] < due:
                n = stats["issued"]
                if now - (start + n / rate) > LATE:
                    stats["late"] += 1
                stats["issued"] += 1
                task = asyncio.create_task(one(session, n))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            next_due = start + stats["issued"] / rate
            await asyncio.sleep(max(0.0, min(TICK, next_due - time.monotonic())))
        sent_for = time.monotonic() - start
        if tasks:
            await asyncio.wait(set(tasks), timeout=10)
    stats["seconds"] = sent_for
    return stats


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--rate", type=float, default=1000.0, help="requests per second")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of sending")
    parser.add_argument("--tag", default="t", help="prefix of the userIds and messageIds")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--until-eof", action="store_true", help="also stop when stdin closes")
    args = parser.parse_args()
    stats = asyncio.run(run(args.url, args.rate, args.duration, args.tag, args.connections, args.until_eof))
    print("BENCH_JSON " + orjson.dumps(stats).decode(), flush=True)


if __name__ == "__main__":
    main()

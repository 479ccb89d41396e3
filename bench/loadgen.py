"""Fallback load generator for bench/ingest.py when `wrk` is not installed.

    python bench/loadgen.py URL --connections 64 --duration 10 --tag TAG

Each of the connections POSTs Segment track events (unique messageId each) in a loop
until the duration is up, finishing the request it is in. Prints one line
`BENCH_JSON {...}` with requests completed, 2xx answers, other answers, errors, seconds.
Tops out near 6,000 req/s on this kind of machine (it shares the 2 cores with the server).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from segment_events import SEGMENT_HEADERS, wrk_template


async def run(url: str, connections: int, duration: float, tag: str) -> dict:
    before, between, after = wrk_template(tag)
    counter = 0
    stats = {"requests": 0, "ok": 0, "non2xx": 0, "errors": 0}
    headers = {k: v for k, v in SEGMENT_HEADERS.items() if k != "Connection"}
    deadline = time.monotonic() + duration

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal counter
        while time.monotonic() < deadline:
            counter += 1
            body = f"{before}{counter:08x}{between}{counter % 5000}{after}".encode()
            try:
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    stats["requests"] += 1
                    stats["ok" if 200 <= resp.status < 300 else "non2xx"] += 1
            except (TimeoutError, aiohttp.ClientError):
                stats["errors"] += 1

    connector = aiohttp.TCPConnector(limit=connections)
    started = time.monotonic()
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(connections)))
    stats["seconds"] = time.monotonic() - started
    return stats


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--tag", default="lg")
    args = parser.parse_args()
    stats = asyncio.run(run(args.url, args.connections, args.duration, args.tag))
    print("BENCH_JSON " + orjson.dumps(stats).decode(), flush=True)


if __name__ == "__main__":
    main()

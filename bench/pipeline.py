"""Local Segment's cost: events/s from an SDK-like client through the inspector's Tracking API
to a destination endpoint, against the same client sending the same events straight to it.

    .venv/bin/python bench/pipeline.py            # 20,000 events
    .venv/bin/python bench/pipeline.py --events 5000

The endpoint is bench/bare_server.py --journal (reads and parses each body, appends it to a
file, answers 200 `{}`), its own subprocess on 127.0.0.1 port 0; the events it received are
the lines of its journal. The client is an aiohttp loop in this process shaped like
analytics-python's consumer: 100 events a `POST /v1/batch` (its default upload size), 4
batches in flight, each event a ~0.5 KB track with its own messageId, timestamp and
context.library.

Direct: the client sends each event to the endpoint as its own POST, 64 in flight: what the
endpoint receives from Segment, one event a request, with nothing in between. Through: the
client posts the batches to `segment-inspector serve --deliver-to ENDPOINT` (history in a temp
dir), which keeps each call, lints, dedupes and envelopes every event and delivers each one
with Segment's headers, 64 in flight. Both rates run from the first request to the moment
the endpoint has received every event. One run of each, side by side; the target ratio
through/direct is at least 0.3. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from ingest import INSPECTOR, PYTHON, Server, code_state  # noqa: E402

TARGET_RATIO = 0.3
BATCH = 100
BATCHES_IN_FLIGHT = 4
DIRECT_IN_FLIGHT = 64
AUTH = {"Authorization": "Basic " + base64.b64encode(b"wk:").decode(), "Content-Type": "application/json"}


def events(count: int) -> list[dict]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    return [{"type": "track", "event": "Order Completed", "userId": f"user-{n % 97}", "messageId": str(uuid.uuid4()),
             "timestamp": now, "properties": {"order_id": f"o{n}", "revenue": 19.99, "currency": "USD",
                                              "products": [{"product_id": "p1", "price": 19.99, "quantity": 1}]},
             "context": {"library": {"name": "analytics-python", "version": "2.3.4"}}} for n in range(count)]


def received(journal: Path) -> int:
    try:
        with open(journal, "rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    except FileNotFoundError:
        return 0


async def wait_received(journal: Path, count: int, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while received(journal) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the endpoint received {received(journal)} of {count} events in {timeout} s")
        await asyncio.sleep(0.01)


async def direct(url: str, batch: list[dict], journal: Path, before: int) -> float:
    """Each event its own POST to the endpoint; seconds until it has them all."""
    queue = iter(batch)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=DIRECT_IN_FLIGHT)) as session:
        async def worker() -> None:
            for event in queue:
                async with session.post(url, data=orjson.dumps(event), headers=AUTH) as response:
                    await response.read()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(DIRECT_IN_FLIGHT)))
        await wait_received(journal, before + len(batch))
        return time.perf_counter() - started


async def through(url: str, batch: list[dict], journal: Path, before: int) -> float:
    """Batches of 100 to the Tracking API; seconds until the endpoint has every event."""
    chunks = iter([batch[i:i + BATCH] for i in range(0, len(batch), BATCH)])
    target = url.rstrip("/") + "/v1/batch"
    async with aiohttp.ClientSession() as session:
        async def worker() -> None:
            for chunk in chunks:
                body = {"batch": chunk, "sentAt": datetime.now(UTC).isoformat(timespec="milliseconds")}
                async with session.post(target, data=orjson.dumps(body), headers=AUTH) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"the Tracking API answered {response.status}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(BATCHES_IN_FLIGHT)))
        await wait_received(journal, before + len(batch))
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per run (default 20,000)")
    args = parser.parse_args()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    print(f"code: {code_state()}")
    print(f"load: {args.events} events; direct: 1 event a POST, {DIRECT_IN_FLIGHT} in flight; through: "
          f"batches of {BATCH}, {BATCHES_IN_FLIGHT} in flight, delivered {64} in flight", flush=True)
    with tempfile.TemporaryDirectory(prefix="pipeline-bench-") as tmp:
        work = Path(tmp)
        journal = work / "endpoint.jsonl"
        endpoint = Server([PYTHON, str(HERE / "bare_server.py"), "0", "--journal", str(journal)],
                          work / "bare.log", env)
        inspector = None
        try:
            target = endpoint.wait_url()
            inspector = Server([INSPECTOR, "serve", "--port", "0", "--no-tunnel", "--data-dir", str(work / "data"),
                                "--deliver-to", target], work / "inspector.log", env)
            url = inspector.wait_url()
            direct_s = asyncio.run(direct(target, events(args.events), journal, received(journal)))
            through_s = asyncio.run(through(url, events(args.events), journal, received(journal)))
        finally:
            if inspector is not None:
                inspector.stop()
            endpoint.stop()
    direct_rate, through_rate = args.events / direct_s, args.events / through_s
    print(f"direct to the endpoint            {direct_rate:8,.0f} events/s  ({direct_s:.2f} s)")
    print(f"SDK batches through the inspector {through_rate:8,.0f} events/s  ({through_s:.2f} s)")
    ratio = through_rate / direct_rate
    print(f"ratio through/direct: {ratio:.2f} (target >= {TARGET_RATIO})")
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())

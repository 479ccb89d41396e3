"""The control API under load: ingest with viewers attached, how fast an arrival reaches one,
and a page of summaries from a large history.

    .venv/bin/python bench/control.py                 # 10 viewers, 8 s runs, 3 rounds, 1,000,000 rows
    .venv/bin/python bench/control.py --quick         # 3 s runs, 2 rounds, 100,000 rows

1. Ingest: `segment-inspector serve` as a subprocess on a fresh data dir, loaded by
   bench/loadgen.py (64 connections) for --seconds, with no viewer and then with --viewers
   WebSocket viewers on /api/stream (a process of their own, reading every notice), taking
   turns round after round; the median of the rounds, and their ratio (target >= 0.9).
2. Arrival: one viewer on the stream while events are sent at --rate a second, each with
   the time it was sent in its messageId: the time from sending to the viewer's reading its
   "recorded" notice, p50/p95/max (target p95 <= 300 ms).
3. Paging: the data dir filled with --size exchanges (bench/ingest.py's populate), serve
   started on it, then GET /api/exchanges?limit=100 (the newest page, the next one by
   `before`, a page in arrival order, a field query), each timed 20 times (target <= 100 ms).

Everything runs on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from segment_events import SEGMENT_HEADERS  # noqa: E402


def start(data: Path) -> tuple[subprocess.Popen[str], str, str, str]:
    """serve on `data`: the process, its receiving URL, control URL and token."""
    process = subprocess.Popen([sys.executable, "-m", "inspector", "serve", "--no-tunnel", "--port", "0",
                                "--control-port", "0", "--data-dir", str(data)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None
    url = process.stdout.readline().split("receiving on ")[1].split()[0]
    control = process.stderr.readline().split("control API on ")[1].split(";")[0]
    subprocess.Popen(["cat"], stdin=process.stdout, stdout=subprocess.DEVNULL)  # one line an exchange
    return process, url, control, (data / "control-token").read_text().strip()


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(60)


async def _watch(control: str, token: str, count: int, seconds: float, latencies: bool) -> dict[str, Any]:
    got = 0
    late: list[float] = []
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session:
        sockets = [await session.ws_connect(control + "/api/stream") for _ in range(count)]

        async def drain(socket: aiohttp.ClientWebSocketResponse) -> None:
            nonlocal got
            async for message in socket:
                for line in message.data.splitlines():
                    got += 1
                    if not latencies:
                        continue
                    notice = orjson.loads(line)
                    if notice.get("kind") == "recorded":
                        sent = notice["summary"]["messages"][0]
                        if sent.startswith("lat-"):
                            late.append(time.time() - int(sent[4:]) / 1e9)

        tasks = [asyncio.create_task(drain(socket)) for socket in sockets]
        await asyncio.sleep(seconds)
        for task in tasks:
            task.cancel()
        for socket in sockets:
            await socket.close()
    return {"notices": got, "latencies": late}


def viewers(control: str, token: str, count: int, seconds: float, latencies: bool, out: Any) -> None:
    out.put(asyncio.run(_watch(control, token, count, seconds, latencies)))


def with_viewers(control: str, token: str, count: int, seconds: float,
                 latencies: bool = False) -> tuple[multiprocessing.Process, Any]:
    queue: Any = multiprocessing.Queue()
    process = multiprocessing.Process(target=viewers, args=(control, token, count, seconds, latencies, queue))
    process.start()
    return process, queue


def ingest(count: int, seconds: float, work: Path, tag: str) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(dir=work))
    process, url, control, token = start(data)
    try:
        watching = with_viewers(control, token, count, seconds + 10) if count else None
        if watching is not None:
            deadline = time.monotonic() + 30
            while not viewers_ready(control, token, count) and time.monotonic() < deadline:
                time.sleep(0.1)
        load = subprocess.run([sys.executable, str(BENCH / "loadgen.py"), url, "--connections", "64",
                               "--duration", str(seconds), "--tag", tag], capture_output=True, text=True)
        result = json.loads(load.stdout.split("BENCH_JSON ", 1)[1])
        notices = 0
        if watching is not None:
            watching[0].join(seconds + 60)
            notices = watching[1].get(timeout=30)["notices"]
        return {"rps": result["ok"] / result["seconds"], "notices": notices}
    finally:
        stop(process)


def viewers_ready(control: str, token: str, count: int) -> bool:
    import urllib.request

    request = urllib.request.Request(control + "/api/status", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return len(json.loads(answer.read())["viewers"]) >= count


async def paced(url: str, rate: float, seconds: float) -> int:
    sent = 0
    started = time.monotonic()
    async with aiohttp.ClientSession(headers=SEGMENT_HEADERS) as session:
        pending: set[asyncio.Task[Any]] = set()
        while time.monotonic() - started < seconds:
            due = started + sent / rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            body = orjson.dumps({"type": "track", "event": "Paced", "userId": "u1",
                                 "messageId": f"lat-{time.time_ns()}", "timestamp": "2026-01-01T00:00:00.000Z"})
            task = asyncio.create_task(session.post(url, data=body))
            pending.add(task)
            task.add_done_callback(pending.discard)
            sent += 1
        await asyncio.gather(*pending, return_exceptions=True)
    return sent


def arrival(rate: float, seconds: float, work: Path) -> dict[str, Any]:
    process, url, control, token = start(Path(tempfile.mkdtemp(dir=work)))
    try:
        watching = with_viewers(control, token, 1, seconds + 5, latencies=True)
        deadline = time.monotonic() + 30
        while not viewers_ready(control, token, 1) and time.monotonic() < deadline:
            time.sleep(0.1)
        sent = asyncio.run(paced(url, rate, seconds))
        watching[0].join(seconds + 60)
        late = sorted(watching[1].get(timeout=30)["latencies"])
    finally:
        stop(process)
    pick = lambda p: late[min(len(late) - 1, int(p * len(late)))] * 1000  # noqa: E731
    return {"sent": sent, "seen": len(late), "p50": pick(0.5), "p95": pick(0.95), "max": late[-1] * 1000}


def paging(size: int, work: Path) -> dict[str, Any]:
    from ingest import populate

    data = Path(tempfile.mkdtemp(dir=work))
    filled = populate(data, size)
    process, _url, control, token = start(data)
    results: dict[str, Any] = {"size": size, "fill_s": round(filled["total_s"], 1)}
    try:
        async def timed() -> None:
            async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session:
                async def get(path: str) -> tuple[float, Any]:
                    began = time.perf_counter()
                    async with session.get(control + path) as answer:
                        doc = await answer.json()
                    return (time.perf_counter() - began) * 1000, doc

                first, page = await get("/api/exchanges?limit=100")
                results["first call"] = first
                cases = {"newest page": "/api/exchanges?limit=100",
                         "next page (before)": f"/api/exchanges?limit=100&before={page['next']}",
                         "arrival order, middle": f"/api/exchanges?offset={size // 2}&limit=100",
                         "type:track status:5xx": "/api/exchanges?limit=100&q=type:track%20status:5xx"}
                for name, path in cases.items():
                    times = [(await get(path))[0] for _ in range(20)]
                    results[name] = {"median": statistics.median(times), "max": max(times)}

        asyncio.run(timed())
    finally:
        stop(process)
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip", action="append", default=[], choices=("ingest", "arrival", "paging"))
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds, args.size = 3.0, 2, 100_000
    work = Path(tempfile.mkdtemp(prefix="bench-control-"))
    ok = True
    if "ingest" not in args.skip:
        alone, watched = [], []
        for round_ in range(args.rounds):
            alone.append(ingest(0, args.seconds, work, f"a{round_}")["rps"])
            run = ingest(args.viewers, args.seconds, work, f"w{round_}")
            watched.append(run["rps"])
            print(f"round {round_ + 1}: no viewer {alone[-1]:,.0f} req/s; {args.viewers} viewers "
                  f"{watched[-1]:,.0f} req/s ({run['notices']:,} notices read)", flush=True)
        ratio = statistics.median(watched) / statistics.median(alone)
        ok = ok and ratio >= 0.9
        print(f"ingest with {args.viewers} viewers / without: {ratio:.2f} (target >= 0.90)")
    if "arrival" not in args.skip:
        seen = arrival(args.rate, args.seconds, work)
        ok = ok and seen["p95"] <= 300
        print(f"arrival on a viewer at {args.rate:,.0f} events/s: {seen['seen']:,} of {seen['sent']:,} seen; "
              f"p50 {seen['p50']:.1f} ms, p95 {seen['p95']:.1f} ms, max {seen['max']:.1f} ms (target p95 <= 300 ms)")
    if "paging" not in args.skip:
        pages = paging(args.size, work)
        print(f"paging a history of {pages['size']:,} (filled in {pages['fill_s']} s): first call "
              f"{pages['first call']:.1f} ms")
        for name, timing in pages.items():
            if isinstance(timing, dict):
                ok = ok and timing["median"] <= 100
                print(f"  {name:<24} median {timing['median']:6.1f} ms, max {timing['max']:6.1f} ms "
                      "(target <= 100 ms)")
    shutil.rmtree(work, ignore_errors=True)
    print("targets met" if ok else "targets NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""The history at 100,000 and 1,000,000 exchanges: start-up, memory, CLI reads, search.

    .venv/bin/python bench/history.py            # 100k and 1M (about 5 minutes)
    .venv/bin/python bench/history.py --sizes 100000

Histories are built directly in the store's format (shards, summary files, shard
lists), sessions of 100,000 exchanges, from realistic documents: 80 % track, a few
batches, findings on some, one exchange in 50,000 holding "some rare text".
Printed per size: `serve`'s time to listen and its RSS once the summaries are read;
`history QUERY --limit 5`, `show ID` and `delivery since:24h` wall time and peak RSS
(separate processes); Event Delivery in process against a `get()` per match (baseline);
the search table of docs/performance.md inside a running process (median of 5, ms), with
`rows()`, the whole result as row references (what the TUI's list holds);
free text over everything; bytes per exchange in memory (tracemalloc); the TUI app
(headless, its own process) until its list holds every exchange, and its RSS then.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inspector.core.event_delivery import aggregate, summarize
from inspector.core.history import History
from inspector.core.history.blocks import Block
from inspector.core.history.files import make_dir, write_atomic
from inspector.core.history.format import LIST_FILE, encode, list_entry, list_file, shard_file_of, summary_file
from inspector.core.history.summaries import SHARD_SIZE
from inspector.core.query import parse

SESSION_SIZE = 100_000
QUERIES = ['type:track', 'event:"Nothing Matches"', '"some rare text"', 'status>=400 has:errors since:1h',
           'user:user-4242', 'message:00000000*']
CLI_QUERY = "type:track"
DELIVERY_QUERY = "since:24h"
PYTHON = [sys.executable, "-m", "inspector"]
NAMES = ["Order Completed", "Product Viewed", "Signed Up", "Cart Viewed", "Checkout Started"]
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(ms: int, n: int) -> str:
    value = (ms << 80) | n
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def document(rng: random.Random, number: int, when: float, session: str) -> dict:
    kind = "track" if rng.random() < 0.8 else rng.choice(["identify", "page", "screen", "group"])
    count = 3 if rng.random() < 0.03 else 1
    events = [{"type": kind, "event": rng.choice(NAMES) if kind == "track" else None,
               "userId": f"user-{rng.randrange(5000)}", "anonymousId": str(uuid.UUID(int=rng.getrandbits(128))),
               "messageId": str(uuid.UUID(int=rng.getrandbits(128))), "timestamp": "2026-01-01T00:00:00Z"}
              for _ in range(count)]
    body = {"batch": events} if count > 1 else dict(events[0], properties={"revenue": 19.99, "currency": "USD"})
    text = orjson.dumps(body).decode()
    if number % 50_000 == 7:
        text = text[:-1] + ', "note": "Some Rare Text"}'
    status = 200 if rng.random() < 0.95 else rng.choice([400, 500, 429])
    findings = ([{"code": "SPEC101", "severity": "error", "message": "timestamp is in the future", "path": "timestamp"}]
                if rng.random() < 0.05 else [])
    return {"id": ulid(int(when * 1000), number), "time": when, "session": session, "peer": "127.0.0.1:5000",
            "method": "POST", "path": "/v1/batch" if count > 1 else f"/v1/{kind}", "query": "",
            "headers": [["Content-Type", "application/json"], ["Authorization", "Basic c2VnbWVudDo="],
                        ["User-Agent", "Segment.io/1.0"]],
            "body": text, "bodySize": len(text), "bodyError": None, "events": events,
            "auth": {"verdict": "ok", "message": "ok", "scheme": "Basic", "key": "segment", "password": ""},
            "findings": findings, "redelivery": None,
            "response": {"status": status, "body": "{}", "chosenBy": "default", "detail": "", "delay": 0.0,
                         "outcome": "delivered"},
            "duration": 0.0004, "held": False}


def build(directory: Path, size: int) -> None:
    """Write `size` exchanges, ending now, as a closed history of sessions of SESSION_SIZE."""
    rng = random.Random(1)
    history = History(directory)  # for its facet table
    start = time.time() - size * 0.01
    number = 0
    for first in range(0, size, SESSION_SIZE):
        session = ulid(int((start + first * 0.01) * 1000), 0)
        make_dir(directory / "history" / session)
        entries = {}
        for shard in range(min(SESSION_SIZE, size - first) // SHARD_SIZE):
            docs = []
            for _ in range(SHARD_SIZE):
                docs.append(document(rng, number, start + number * 0.01, session))
                number += 1
            base = directory / "history" / session / f"{shard:05d}"
            data = shard_file_of(docs)
            write_atomic(base.with_suffix(".json"), data)
            block: Block = history._block_of(docs)
            block.number = shard
            write_atomic(Path(f"{base}.sum.json"), summary_file(block, history.facets))
            entries[shard] = list_entry(block, len(data))
        write_atomic(directory / "history" / session / LIST_FILE, list_file(entries))


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed_cli(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one CLI command in its own process."""
    started = time.perf_counter()
    child = subprocess.Popen(PYTHON + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    if status:
        raise SystemExit(f"{args} failed with {status}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def serve(directory: Path) -> tuple[float, float]:
    """Seconds until `serve` listens, and its RSS once every summary is read."""
    started = time.perf_counter()
    child = subprocess.Popen(PYTHON + ["serve", "--port", "0", "--no-tunnel", "--data-dir", str(directory)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert child.stdout is not None
    child.stdout.readline()
    listening = time.perf_counter() - started
    samples = [rss_mb(child.pid)]
    while True:  # the summaries are read in the background: wait until RSS stops growing
        time.sleep(0.5)
        samples.append(rss_mb(child.pid))
        if len(samples) > 4 and samples[-1] - samples[-4] < 1:
            break
    child.terminate()
    child.wait(60)
    return listening, samples[-1]


def median_ms(run, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def in_process(directory: Path) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    history = History(directory).load()
    history.warm()
    loaded = time.perf_counter() - started
    memory = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    size = len(history)
    print(f"  summaries read: {loaded:.2f} s; {memory / size:.0f} bytes per exchange in memory (tracemalloc)")
    print(f"  {'query':<36} | limit=100 |  found |  no limit |    found | all as rows (the TUI's list)")
    for text in QUERIES:
        query = parse(text)
        limited = median_ms(lambda: history.search(query, 100), 3 if query.free_text else 5)
        found = len(history.search(query, 100))
        whole = median_ms(lambda: history.search(query), 1 if query.free_text else 3)
        rows = median_ms(lambda: history.rows(query), 1 if query.free_text else 3)
        print(f"  {text:<36} | {limited:9.1f} | {found:6,} | {whole:9.1f} | {len(history.search(query)):8,} | "
              f"{rows:9.1f}")
    newest = history.search(limit=1)[0].id
    window = parse(DELIVERY_QUERY)
    ours = median_ms(lambda: summarize(history, window), 1)

    def one_get_each() -> None:  # the baseline: a get() per match, each reading its shard
        found = (history.get(s.id) for s in history.search(window.without_sources()))
        aggregate((encode(e) for e in found if e is not None), DELIVERY_QUERY)

    baseline = median_ms(one_get_each, 1)
    print(f"  delivery {DELIVERY_QUERY} in process: {ours:.0f} ms; a get() per match {baseline:.0f} ms; "
          f"ratio {ours / baseline:.2f}")
    print(f"  get(newest id) in process: {median_ms(lambda: history.get(newest)):.1f} ms")


def tui_rss(directory: Path) -> None:
    """The TUI app headless on this history (in this process): time until its list holds every
    exchange, and RSS then."""
    import asyncio

    from inspector.core.hub import Hub
    from inspector.core.policy import Policy
    from inspector.tui.app import InspectorApp
    from inspector.tui.widgets.exchange_list import ExchangeList

    async def run() -> None:
        before = rss_mb()
        started = time.perf_counter()
        history = History(directory).load()
        app = InspectorApp(Hub(history, Policy()))
        async with app.run_test(size=(160, 45)) as pilot:
            while app.query_one(ExchangeList).row_count < len(history):
                await pilot.pause(0.1)
            filled = time.perf_counter() - started
            await pilot.press("end", "home")
            print(f"  TUI: list of {len(history):,} filled after {filled:.1f} s; RSS {before:.0f} MB before, "
                  f"{rss_mb():.0f} MB with the list", flush=True)

    asyncio.run(run())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--keep", action="store_true", help="keep the built histories")
    parser.add_argument("--tui-rss", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tui_rss:
        tui_rss(Path(args.tui_rss))
        return 0
    work = Path(tempfile.mkdtemp(prefix="bench-history-"))
    for size in args.sizes:
        directory = work / str(size)
        started = time.perf_counter()
        build(directory, size)
        print(f"{size:,} exchanges: built in {time.perf_counter() - started:.0f} s, "
              f"{sum(p.stat().st_size for p in directory.rglob('*')) / 1e6:,.0f} MB on disk", flush=True)
        listening, rss = serve(directory)
        print(f"  serve: listening after {listening:.2f} s; RSS {rss:.0f} MB with every summary read", flush=True)
        wall, peak = timed_cli(["history", CLI_QUERY, "--limit", "5", "--data-dir", str(directory)])
        print(f"  history {CLI_QUERY} --limit 5: {wall:.2f} s, peak RSS {peak:.0f} MB", flush=True)
        some = History(directory).load().search(limit=1)[0].id
        wall, peak = timed_cli(["show", some, "--data-dir", str(directory)])
        print(f"  show ID: {wall:.2f} s, peak RSS {peak:.0f} MB", flush=True)
        wall, peak = timed_cli(["delivery", DELIVERY_QUERY, "--json", "--data-dir", str(directory)])
        print(f"  delivery {DELIVERY_QUERY}: {wall:.2f} s, peak RSS {peak:.0f} MB", flush=True)
        subprocess.run([sys.executable, __file__, "--tui-rss", str(directory)], check=True)
        in_process(directory)
        if not args.keep:
            import shutil
            shutil.rmtree(directory)
    print(f"(built in {work})" if args.keep else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

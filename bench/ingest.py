"""How many Segment events a second `segment-inspector serve` takes, against a bare aiohttp app.

    .venv/bin/python bench/ingest.py            # history 0 and 100,000; 10 s runs, 3 rounds
    .venv/bin/python bench/ingest.py --quick    # history 0 and 10,000; 3 s runs, 2 rounds

Both servers run as their own subprocess on 127.0.0.1, port 0: the real console script
`segment-inspector serve --port 0 --data-dir D` (persisting to a temp dir) and
bench/bare_server.py (reads the body, answers 200 `{}`). They take turns, bare then
inspector, round after round, so noise on the shared machine hits both; the median of
the rounds is reported. A third server takes its turn too: bare_server.py --journal,
which parses each body and appends it to a journal before answering, and nothing else:
the most any receiver that keeps a request before answering it can reach here. The load is `wrk -t1 -c64` with a Lua script that POSTs a
~1.1 KB track event, each with its own messageId, with Segment's headers; without wrk,
bench/loadgen.py (an aiohttp client) stands in and the output says so.

At the larger history size the data dir is filled first, in-process with `History.add`,
and each inspector run starts from a fresh copy of it, so every run sees the same size.
After each inspector run the history is loaded again and the exchanges it gained are
compared with the 2xx answers the load generator counted: the history may hold up to
`connections` more (requests answered while the load generator was stopping, which it
never counts), never fewer.

Then, in a separate process, `History(dir).load()` at the larger size is timed, its RSS
read, and `search(parse(q), limit=100)` / `search(parse(q))` timed for a few queries.
Everything stops by itself; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from segment_events import EVENT_NAMES, SEGMENT_HEADERS, track_event, wrk_template  # noqa: E402

PYTHON = sys.executable
INSPECTOR = str(Path(sys.executable).with_name("segment-inspector"))
CONNECTIONS = 64
RARE_TEXT = "some rare text"
QUERIES = ("type:track", 'event:"Nothing Matches"', f'"{RARE_TEXT}"', "status>=400 has:errors since:1h")
URL_LINE = re.compile(r"receiving on (http://\S+)")
TICKS = os.sysconf("SC_CLK_TCK")

TARGET_RATIO = 0.6
# "journal": the floor of any receiver that keeps a request before answering it
# (bare_server.py --journal: parse, one line to the kernel, answer; no check, no index).
KINDS = ("bare", "journal", "inspector")
TARGET_SEARCH_MS = 200.0


# -- helpers run in their own process (--populate, --measure, --count) -----------


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def populate(directory: Path, count: int, seed: int = 1) -> dict[str, Any]:
    """Fill `directory` with `count` realistic exchanges through History.add, then close."""
    from inspector.core.history import History
    from inspector.core.intake import received
    from inspector.core.model import Answer
    from inspector.core.policy import Reply

    rng = random.Random(seed)
    started = time.perf_counter()
    gc.disable()  # 100,000 live documents: GC passes would only slow the fill down
    history = History(directory)
    history.start_session()
    spacing = 0.6  # seconds between exchanges: 100,000 span about 17 hours up to now
    first = time.time() - 5 - count * spacing
    rare = {5, 17, 33} if count > 40 else {0}  # the oldest ones: a newest-first search scans all
    recent: deque[str] = deque(maxlen=2000)
    for i in range(count):
        now = first + i * spacing
        pick = rng.random()
        kind = "track" if pick < 0.8 else ("page" if pick < 0.9 else "identify")
        if recent and rng.random() < 0.005:
            message_id = rng.choice(recent)  # a Segment retry of an earlier event
        else:
            message_id = f"ajs-next-{rng.getrandbits(128):032x}"
            recent.append(message_id)
        data = track_event(message_id=message_id, user_id=f"user-{rng.randint(1, 20000)}",
                           event=rng.choice(EVENT_NAMES), kind=kind, now=now, rng=rng,
                           note=f"{RARE_TEXT} number {i}" if i in rare else None)
        body = orjson.dumps(data)
        headers = {"Host": "127.0.0.1:8686", **SEGMENT_HEADERS, "Content-Length": str(len(body))}
        status, chosen_by = 200, "default"
        roll = rng.random()
        if roll < 0.02:
            headers["Authorization"] = "Basic c2VnbWVudA=="  # no colon: an AUTH005 error finding
            status, chosen_by = 401, "api key"
        elif roll < 0.03:
            status, chosen_by = 500, "rule 1"
        elif roll < 0.045:
            status, chosen_by = 400, "rule 2"
        exchange = received(method="POST", path="/", peer=f"127.0.0.1:{rng.randint(30000, 60999)}",
                                  headers=list(headers.items()), body=body, now=now)
        exchange.redelivery = history.redelivery([e.message_id or "" for e in exchange.events],
                                                 now, exchange.id)
        exchange.answer = Answer(status, Reply(status).body(), chosen_by)
        exchange.duration = rng.uniform(0.0002, 0.002)
        history.add(exchange)
    added = time.perf_counter() - started
    history.close()
    size = sum(p.stat().st_size for p in (directory / "history").rglob("*") if p.is_file())
    return {"count": count, "add_s": added, "total_s": time.perf_counter() - started,
            "bytes": size, "mean_body": len(body)}


def measure(directory: Path, repeats: int) -> dict[str, Any]:
    """Time History.load and searches over the history in `directory`; read RSS."""
    from inspector.core.history import History
    from inspector.core.query import parse

    before = rss_mb()
    started = time.perf_counter()
    history = History(directory).load()
    load_s = time.perf_counter() - started
    after = rss_mb()
    results = []
    for text in QUERIES:
        query = parse(text)
        for limit in (100, None):
            times, found = [], 0
            for _ in range(repeats):
                t0 = time.perf_counter()
                found = len(history.search(query, limit=limit))
                times.append((time.perf_counter() - t0) * 1000)
            results.append({"query": text, "limit": limit, "ms": statistics.median(times),
                            "min_ms": min(times), "max_ms": max(times), "found": found})
    t0 = time.perf_counter()
    gc.collect()
    gc_ms = (time.perf_counter() - t0) * 1000
    return {"exchanges": len(history), "load_s": load_s, "rss_before_mb": before, "rss_after_mb": after,
            "searches": results, "repeats": repeats, "full_gc_ms": gc_ms}


def count(directory: Path) -> dict[str, Any]:
    from inspector.core.history import History

    history = History(directory).load()
    statuses: dict[str, int] = {}
    for summary in history.search():
        statuses[str(summary.status)] = statuses.get(str(summary.status), 0) + 1
    return {"exchanges": len(history), "statuses": statuses}


def helper(mode: str, *args: str) -> dict[str, Any]:
    """Run one of the helpers above in a fresh interpreter; its last stdout line is JSON."""
    out = subprocess.run([PYTHON, __file__, f"--{mode}", *args], capture_output=True, text=True,
                         timeout=1800, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"helper {mode} failed:\n{out.stderr}")
    return orjson.loads(out.stdout.strip().splitlines()[-1])


# -- servers and load -------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


class Server:
    """A server subprocess whose stdout goes to a file we watch for its URL."""

    def __init__(self, argv: list[str], log: Path, env: dict[str, str]) -> None:
        self.log = log
        self.started = time.perf_counter()
        self.out = open(log, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.out, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
                                     stdin=subprocess.DEVNULL)
        self.url = ""
        self.ready_s = 0.0

    def wait_url(self, timeout: float = 300.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = URL_LINE.search(self.log.read_text(errors="replace")[:4000])
            if found:
                self.url = found[1]
                self.ready_s = time.perf_counter() - self.started
                return self.url
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.05)
        raise RuntimeError(f"server printed no URL in {timeout} s")

    def stop(self, timeout: float = 180.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        return self.proc.returncode


def code_state() -> str:
    """Which code is measured: the commit and how many files differ from it (read-only git)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=ROOT, timeout=10).stdout.strip() or "no commit"
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "inspector"], capture_output=True,
                               text=True, cwd=ROOT, timeout=10).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    return f"{head} + {len(dirty)} changed/new files under inspector/" if dirty else head


def lua_script(tag: str) -> str:
    before, between, after = wrk_template(tag)
    for part in (before, between, after):
        assert "]==]" not in part
    headers = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in SEGMENT_HEADERS.items())
    return f"""
wrk.method = "POST"
{headers}
local counter = 0
local before = [==[{before}]==]
local between = [==[{between}]==]
local after = [==[{after}]==]
request = function()
  counter = counter + 1
  return wrk.format(nil, "/", nil, before .. string.format("%08x", counter) .. between .. tostring(counter % 5000) .. after)
end
done = function(summary, latency, requests)
  io.write(string.format('BENCH_JSON {{"requests":%d,"status_errors":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d}}\\n',
    summary.requests, summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, summary.duration,
    latency:percentile(50), latency:percentile(99)))
end
"""


def run_load(url: str, duration: float, loadgen: str, lua: Path, tag: str) -> dict[str, Any]:
    if loadgen == "wrk":
        argv = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{duration:g}s", "--timeout", "10s", "-s", str(lua), url]
    else:
        argv = [PYTHON, str(HERE / "loadgen.py"), url, "--connections", str(CONNECTIONS),
                "--duration", str(duration), "--tag", tag]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 120)
    line = next((l for l in out.stdout.splitlines() if l.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"load generator printed no summary:\n{out.stdout}\n{out.stderr}")
    raw = orjson.loads(line[len("BENCH_JSON "):])
    if loadgen == "wrk":
        seconds = raw["duration_us"] / 1e6
        errors = {k: raw[k] for k in ("connect", "read", "write", "timeout") if raw[k]}
        return {"completed": raw["requests"], "ok": raw["requests"] - raw["status_errors"],
                "seconds": seconds, "p50_ms": raw["p50_us"] / 1000, "p99_ms": raw["p99_us"] / 1000,
                "errors": errors}
    return {"completed": raw["requests"], "ok": raw["ok"], "seconds": raw["seconds"],
            "p50_ms": float("nan"), "p99_ms": float("nan"),
            "errors": {"errors": raw["errors"]} if raw["errors"] else {}}


def one_run(kind: str, size: int, base: Path | None, work: Path, n: int, args: argparse.Namespace,
            env: dict[str, str], lua: Path) -> dict[str, Any]:
    tag = f"{kind[0]}{size}r{n}"
    log = work / f"{kind}-{size}-{n}.log"
    data_dir = work / f"data-{size}-{n}"
    if kind == "inspector":
        if base is not None:
            shutil.copytree(base, data_dir)
        else:
            data_dir.mkdir()
        argv = [INSPECTOR, "serve", "--port", "0", "--data-dir", str(data_dir), *getattr(args, "serve_args", ())]
    elif kind == "journal":
        data_dir.mkdir()
        argv = [PYTHON, str(HERE / "bare_server.py"), "0", "--journal", str(data_dir / "journal.jsonl")]
    else:
        argv = [PYTHON, str(HERE / "bare_server.py"), "0"]
    for attempt in range(1, 4):
        server = Server(argv, log, env)
        try:
            url = server.wait_url()
            break
        except RuntimeError as err:  # e.g. a half-edited working tree that does not import
            server.stop()
            if attempt == 3:
                raise
            print(f"  {kind} did not start (attempt {attempt}), retrying in 20 s: "
                  f"{str(err).strip().splitlines()[-1]}", flush=True)
            time.sleep(20)
    try:
        rss_start = rss_mb(server.proc.pid)
        cpu0 = cpu_seconds(server.proc.pid)
        load = run_load(url, args.duration, args.loadgen, lua, tag)
        cpu = cpu_seconds(server.proc.pid) - cpu0
        rss_end = rss_mb(server.proc.pid)
    finally:
        code = server.stop()
    result = {"kind": kind, "size": size, "round": n, "eps": load["ok"] / load["seconds"], **load,
              "cpu_pct": 100 * cpu / load["seconds"], "ready_s": server.ready_s, "rss_start_mb": rss_start,
              "rss_end_mb": rss_end, "exit": code}
    if kind == "inspector":
        stored = helper("count", str(data_dir))
        result["stored"] = stored["exchanges"] - size
        result["printed"] = sum(1 for line in log.read_text(errors="replace").splitlines()
                                if line.rstrip().endswith(tuple("0123456789ABCDEFGHJKMNPQRSTVWXYZ"))
                                and "receiving on" not in line)
    shutil.rmtree(data_dir, ignore_errors=True)
    return result


def show_run(r: dict[str, Any]) -> None:
    line = (f"  {r['kind']:<9} size {r['size']:>7,} round {r['round']}: {r['eps']:8,.0f} events/s  "
            f"({r['ok']:,} 2xx of {r['completed']:,} in {r['seconds']:.1f} s; p50 {r['p50_ms']:.1f} ms, "
            f"p99 {r['p99_ms']:.1f} ms; server CPU {r['cpu_pct']:.0f}%; ready in {r['ready_s']:.1f} s; "
            f"RSS {r['rss_start_mb']:.0f}->{r['rss_end_mb']:.0f} MB; exit {r['exit']})")
    if r["errors"]:
        line += f" errors {r['errors']}"
    print(line, flush=True)
    if r["kind"] == "inspector":
        extra = r["stored"] - r["ok"]
        verdict = ("OK: nothing acknowledged lost" if 0 <= extra <= CONNECTIONS else
                   f"LOST {-extra} acknowledged" if extra < 0 else f"{extra} more than 2xx counted (?)")
        print(f"            history gained {r['stored']:,} exchanges, load generator counted "
              f"{r['ok']:,} 2xx: {extra:+,} (<= {CONNECTIONS} in flight at stop is expected) -> {verdict}; "
              f"lines printed by serve: {r['printed']:,}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10,000 history, 3 s runs, 2 rounds")
    parser.add_argument("--history", type=int, help="the larger history size (default 100,000)")
    parser.add_argument("--duration", type=float, help="seconds per load run (default 10)")
    parser.add_argument("--rounds", type=int, help="rounds of bare+inspector per size (default 3)")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, populated history)")
    parser.add_argument("--populate", nargs=2, metavar=("DIR", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--measure", nargs=2, metavar=("DIR", "REPEATS"), help=argparse.SUPPRESS)
    parser.add_argument("--count", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.populate:
        print(orjson.dumps(populate(Path(args.populate[0]), int(args.populate[1]))).decode())
        return 0
    if args.measure:
        print(orjson.dumps(measure(Path(args.measure[0]), int(args.measure[1]))).decode())
        return 0
    if args.count:
        print(orjson.dumps(count(Path(args.count))).decode())
        return 0

    big = args.history or (10_000 if args.quick else 100_000)
    args.duration = args.duration or (3.0 if args.quick else 10.0)
    rounds = args.rounds or (2 if args.quick else 3)
    if args.loadgen == "auto":
        args.loadgen = "wrk" if shutil.which("wrk") else "python"
    work = Path(tempfile.mkdtemp(prefix="inspector-bench-"))
    env = {**os.environ, "XDG_CONFIG_HOME": str(work / "config"), "XDG_DATA_HOME": str(work / "xdg-data"),
           "PYTHONUNBUFFERED": "1"}
    lua = work / "segment-track.lua"
    lua.write_text(lua_script("w"))
    print(f"segment-inspector ingest benchmark: history sizes 0 and {big:,}, {rounds} rounds of "
          f"{args.duration:g} s per server per size, {CONNECTIONS} connections, load generator: "
          + ("wrk -t1 (Lua script, ~1.1 KB track event, unique messageId per request)" if args.loadgen == "wrk"
             else "bench/loadgen.py (aiohttp client; wrk not found)"), flush=True)
    print(f"work dir {work}; code: {code_state()}", flush=True)

    results: list[dict[str, Any]] = []
    populated: dict[str, Any] | None = None
    try:
        for size in (0, big):
            base = None
            if size:
                base = work / f"base-{size}"
                print(f"populating {size:,} exchanges in-process with History.add ...", flush=True)
                populated = helper("populate", str(base), str(size))
                print(f"  populated in {populated['total_s']:.1f} s (add {populated['add_s']:.1f} s), "
                      f"{populated['bytes'] / 1e6:.0f} MB on disk", flush=True)
            print(f"history size {size:,}:", flush=True)
            for n in range(1, rounds + 1):
                for kind in KINDS:
                    result = one_run(kind, size, base, work, n, args, env, lua)
                    results.append(result)
                    show_run(result)
        print(f"measuring History.load and search at {big:,} exchanges ...", flush=True)
        measured = helper("measure", str(work / f"base-{big}"), "7")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    # -- report ---------------------------------------------------------------------
    def median(kind: str, size: int, key: str = "eps") -> float:
        return statistics.median(r[key] for r in results if r["kind"] == kind and r["size"] == size)

    print()
    print(f"Ingest ({'wrk -t1' if args.loadgen == 'wrk' else 'aiohttp client'} -c{CONNECTIONS}, "
          f"{args.duration:g} s runs, median of {rounds}; events/s = 2xx answers per second)")
    print(f"{'history size':>12} | {'bare events/s':>13} | {'journal only':>12} | {'inspector events/s':>18} | "
          f"{'ratio':>5} | {'journal ratio':>13} | {'insp p99 ms':>11} | {'insp CPU':>8} | {'insp start s':>12}")
    ratios = {}
    for size in (0, big):
        bare, journal, insp = median("bare", size), median("journal", size), median("inspector", size)
        ratios[size] = insp / bare
        print(f"{size:>12,} | {bare:>13,.0f} | {journal:>12,.0f} | {insp:>18,.0f} | {ratios[size]:>5.2f} | "
              f"{journal / bare:>13.2f} | {median('inspector', size, 'p99_ms'):>11.1f} | "
              f"{median('inspector', size, 'cpu_pct'):>7.0f}% | {median('inspector', size, 'ready_s'):>12.1f}")
    print()
    losses = [r for r in results if r["kind"] == "inspector" and not 0 <= r["stored"] - r["ok"] <= CONNECTIONS]
    print("Acknowledged vs stored (each inspector run): "
          + ", ".join(f"{r['ok']:,}/{r['stored']:,}" for r in results if r["kind"] == "inspector")
          + (" -> nothing acknowledged was lost" if not losses else f" -> {len(losses)} runs off!"))
    print()
    print(f"History at {measured['exchanges']:,} exchanges: load() {measured['load_s']:.2f} s; RSS "
          f"{measured['rss_before_mb']:.0f} MB before, {measured['rss_after_mb']:.0f} MB after load "
          f"({(measured['rss_after_mb'] - measured['rss_before_mb']) * 1024 / measured['exchanges']:.1f} KB/exchange); "
          f"a full gc.collect() then takes {measured['full_gc_ms']:.0f} ms")
    print(f"serve RSS after the runs at {big:,}: {median('inspector', big, 'rss_end_mb'):.0f} MB (median); "
          f"at 0: {median('inspector', 0, 'rss_end_mb'):.0f} MB")
    print(f"Search at {measured['exchanges']:,} (median of {measured['repeats']} runs, ms)")
    print(f"{'query':<36} | {'limit=100':>9} | {'found':>6} | {'no limit':>9} | {'found':>6}")
    worst = 0.0
    by_query: dict[str, dict[Any, dict[str, Any]]] = {}
    for s in measured["searches"]:
        by_query.setdefault(s["query"], {})[s["limit"]] = s
        worst = max(worst, s["ms"])
    for text, both in by_query.items():
        print(f"{text:<36} | {both[100]['ms']:>9.1f} | {both[100]['found']:>6,} | {both[None]['ms']:>9.1f} | "
              f"{both[None]['found']:>6,}")
    print()
    print("Targets:")
    print(f"  ratio >= {TARGET_RATIO}: at 0 {ratios[0]:.2f}, at {big:,} {ratios[big]:.2f} -> "
          + ("met" if min(ratios.values()) >= TARGET_RATIO else "NOT met"))
    print(f"  search <= {TARGET_SEARCH_MS:.0f} ms: slowest {worst:.1f} ms -> "
          + ("met" if worst <= TARGET_SEARCH_MS else "NOT met"))
    print(f"  ratio does not fall from 0 to {big:,}: {ratios[0]:.2f} -> {ratios[big]:.2f} "
          f"({(ratios[big] / ratios[0] - 1) * 100:+.0f}%) -> "
          + ("met" if ratios[big] >= ratios[0] * 0.95 else "NOT met") + " (5% allowed for noise)")
    # The journal-only server does not depend on the history: how it moved is the machine's noise.
    control = {size: median("inspector", size) / median("journal", size) for size in (0, big)}
    print(f"    inspector / journal-only, which no history slows: {control[0]:.2f} -> {control[big]:.2f} "
          f"({(control[big] / control[0] - 1) * 100:+.0f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

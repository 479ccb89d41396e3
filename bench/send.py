"""How many events a second `segment-inspector send` delivers, next to wrk and a bare aiohttp
client on the same endpoint, and whether its memory stays flat over a long run.

    .venv/bin/python bench/send.py                     # 5 s runs, 3 rounds, 1,000,000-event RSS run
    .venv/bin/python bench/send.py --quick             # 3 s runs, 2 rounds, 200,000-event RSS run
    .venv/bin/python bench/send.py --events 300000     # a shorter RSS run

The endpoint is bench/bare_server.py (a subprocess on 127.0.0.1, port 0: reads the body,
answers 200 `{}`). Each round runs, one after the other so noise hits all three alike:
`wrk -t1 -c64` with bench/ingest.py's Lua script (a ~1.1 KB track event with Segment's
headers and its own messageId), bench/loadgen.py (a bare aiohttp client loop, 64
connections, prebuilt bodies), and the real console script `segment-inspector send
--duration D --concurrency 64` (generated corpus, new messageId and timestamps per
event, every answer judged). Medians of the rounds are reported, with the ratios
send/wrk and send/aiohttp-loop, each against the target of 0.5 (the issue names either
baseline).

Then `segment-inspector send --count N --concurrency 64` runs to the end while its RSS
is read from /proc every second; start (after 2 s), middle and end are printed.
Everything stops by itself; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from ingest import lua_script, rss_mb  # noqa: E402

PYTHON = sys.executable
INSPECTOR = str(Path(sys.executable).with_name("segment-inspector"))
CONNECTIONS = 64
TARGET_RATIO = 0.5
URL_LINE = re.compile(r"receiving on (http://\S+)")


def start_bare() -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([PYTHON, str(HERE / "bare_server.py"), "0"], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()  # type: ignore[union-attr]
    match = URL_LINE.search(line)
    if not match:
        process.kill()
        raise RuntimeError(f"bare server printed {line!r}")
    return process, match.group(1)


def bench_json(stdout: str) -> dict:
    line = next((l for l in stdout.splitlines() if l.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"no summary in:\n{stdout}")
    return orjson.loads(line[len("BENCH_JSON "):])


def run_wrk(url: str, duration: float, lua: Path) -> float:
    out = subprocess.run(["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{duration:g}s", "--timeout", "10s",
                          "-s", str(lua), url], capture_output=True, text=True, timeout=duration + 60)
    raw = bench_json(out.stdout)
    return (raw["requests"] - raw["status_errors"]) / (raw["duration_us"] / 1e6)


def run_loop(url: str, duration: float) -> float:
    out = subprocess.run([PYTHON, str(HERE / "loadgen.py"), url, "--connections", str(CONNECTIONS),
                          "--duration", str(duration), "--tag", "l"], capture_output=True, text=True,
                         timeout=duration + 60)
    raw = bench_json(out.stdout)
    return raw["ok"] / raw["seconds"]


def run_send(url: str, duration: float) -> float:
    out = subprocess.run([INSPECTOR, "send", "--to", url, "--duration", str(duration), "--concurrency",
                          str(CONNECTIONS), "--json", "--seed", "1"], capture_output=True, text=True,
                         timeout=duration + 60)
    report = orjson.loads(out.stdout)
    if report["failed"]:
        raise RuntimeError(f"send failed {report['failed']} events: {report['failures'][:1]}")
    return report["delivered"] / report["seconds"]


def rss_run(url: str, events: int) -> dict:
    process = subprocess.Popen([INSPECTOR, "send", "--to", url, "--count", str(events), "--concurrency",
                                str(CONNECTIONS), "--json", "--seed", "2"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = time.monotonic()
    samples: list[tuple[float, float]] = []
    while process.poll() is None:
        time.sleep(1.0)
        try:
            samples.append((time.monotonic() - started, rss_mb(process.pid)))
        except (FileNotFoundError, ProcessLookupError):
            break
    out, err = process.communicate()
    report = orjson.loads(out)
    samples = [s for s in samples if s[1] == s[1]]  # drop the NaN of a process gone
    return {"report": report, "samples": samples, "seconds": time.monotonic() - started, "stderr": err}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--duration", type=float)
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--events", type=int, help="events in the RSS run (default 1,000,000; --quick 200,000)")
    args = parser.parse_args()
    duration = args.duration or (3.0 if args.quick else 5.0)
    rounds = args.rounds or (2 if args.quick else 3)
    events = args.events or (200_000 if args.quick else 1_000_000)
    if not shutil.which("wrk"):
        print("wrk not found: only the aiohttp loop is compared", flush=True)
    bare, url = start_bare()
    work = Path(tempfile.mkdtemp(prefix="bench-send-"))
    lua = work / "segment-track.lua"
    lua.write_text(lua_script("w"))
    try:
        results: dict[str, list[float]] = {"wrk": [], "loop": [], "send": []}
        for round_number in range(1, rounds + 1):
            if shutil.which("wrk"):
                results["wrk"].append(run_wrk(url, duration, lua))
            results["loop"].append(run_loop(url, duration))
            results["send"].append(run_send(url, duration))
            print(f"round {round_number}: " + ", ".join(f"{k} {v[-1]:,.0f}/s" for k, v in results.items() if v),
                  flush=True)
        median = {k: statistics.median(v) for k, v in results.items() if v}
        print(f"\nDelivery against bench/bare_server.py, {CONNECTIONS} connections, {duration:g} s runs, "
              f"median of {rounds}:")
        for name, label in (("wrk", "wrk -t1 (Lua, ~1.1 KB track)"), ("loop", "bare aiohttp client loop"),
                            ("send", "segment-inspector send")):
            if name in median:
                print(f"  {label:<32} {median[name]:>10,.0f} events/s")
        # The issue sets the target against wrk "or a bare aiohttp client loop": both are shown.
        for name, label in (("wrk", "wrk"), ("loop", "aiohttp loop")):
            if name in median:
                ratio = median["send"] / median[name]
                print(f"  ratio send / {label + ':':<14} {ratio:.2f}  (target {TARGET_RATIO}: "
                      f"{'met' if ratio >= TARGET_RATIO else 'NOT met'})")

        print(f"\nMemory over a {events:,}-event run (--concurrency {CONNECTIONS}):", flush=True)
        run = rss_run(url, events)
        report, samples = run["report"], run["samples"]
        if samples:
            start = next((s for s in samples if s[0] >= 2.0), samples[0])
            middle = samples[len(samples) // 2]
            end = samples[-1]
            for label, (at, mb) in (("start", start), ("middle", middle), ("end", end)):
                print(f"  RSS {label:<6} {mb:7.1f} MB at {at:6.1f} s")
            print(f"  growth start to end: {end[1] - start[1]:+.1f} MB; peak {max(mb for _, mb in samples):.1f} MB")
        print(f"  {report['delivered']:,} of {report['events']:,} delivered in {report['seconds']:.0f} s "
              f"({report['events_per_second']:,.0f} events/s), failed {report['failed']}")
    finally:
        bare.terminate()
        bare.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

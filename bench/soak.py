"""`serve` under a steady load for minutes: does its memory stay flat?

    .venv/bin/python bench/soak.py                       # 500 events/s for 10 minutes
    .venv/bin/python bench/soak.py --rate 500 --minutes 1

`segment-inspector serve` runs on a fresh temp data dir; bench/paced_loadgen.py posts to the destination endpoint (`/`)
~1.1 KB track events at a fixed rate (one exchange each). Every `--every` seconds the bench prints serve's
RSS, the exchanges acknowledged so far and the history's size on disk. At the end:
the growth after the first minute in MB and in bytes per exchange received since then
(the history keeps ~130 bytes of summary per exchange in memory, by design), and
whether every acknowledged exchange is in the history after a clean stop.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inspector.core.history import History  # noqa: E402

PYTHON = [sys.executable, "-m", "inspector"]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def disk_mb(directory: Path) -> float:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file()) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=30.0, help="seconds between samples")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    server = subprocess.Popen(PYTHON + ["serve", "--port", "0", "--no-tunnel", "--data-dir", str(data)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert server.stdout is not None
    url = re.search(r"receiving on (\S+)", server.stdout.readline())[1]  # type: ignore[index]
    lines = [0]

    def drain() -> None:  # one line per exchange: count them so the pipe never fills
        for _ in server.stdout:  # type: ignore[union-attr]
            lines[0] += 1

    threading.Thread(target=drain, daemon=True).start()
    seconds = args.minutes * 60
    load = subprocess.Popen([sys.executable, str(ROOT / "bench" / "paced_loadgen.py"), url,
                             "--rate", str(args.rate), "--duration", str(seconds), "--connections", "16"],
                            stdout=subprocess.PIPE, text=True)
    assert load.stdout is not None
    load.stdout.readline()  # STARTED
    started = time.monotonic()
    print(f"serve at {url}, {args.rate:.0f} events/s for {args.minutes:g} min; RSS of serve:", flush=True)
    print(f"{'s':>5} | {'RSS MB':>7} | {'exchanges':>9} | {'disk MB':>7}", flush=True)
    samples: list[tuple[float, float, int]] = []
    while True:
        elapsed = time.monotonic() - started
        samples.append((elapsed, rss_mb(server.pid), lines[0]))
        print(f"{elapsed:5.0f} | {samples[-1][1]:7.1f} | {lines[0]:9,} | {disk_mb(data):7.1f}", flush=True)
        if elapsed >= seconds or load.poll() is not None:
            break
        time.sleep(max(0.0, min(args.every, seconds - elapsed + 0.5)))
    stats = orjson.loads(load.stdout.read().split("BENCH_JSON ", 1)[1])
    load.wait()
    server.terminate()
    server.wait(120)
    stored = len(History(data).load())
    shutil.rmtree(data)
    after_minute = [s for s in samples if s[0] >= 60] or samples
    first, last = after_minute[0], samples[-1]
    grown = last[1] - first[1]
    per = grown * 1024 * 1024 / max(1, last[2] - first[2])
    print(f"loadgen: issued {stats['issued']:,}, 2xx {stats['ok']:,}, errors {stats['errors']}, late {stats['late']:,}")
    print(f"RSS after the first minute {first[1]:.1f} MB -> end {last[1]:.1f} MB: {grown:+.1f} MB, "
          f"{per:.0f} bytes per exchange received since")
    print(f"after a clean stop: {stored:,} exchanges in the history, {stats['ok']:,} acknowledged -> "
          f"{'nothing lost' if stored >= stats['ok'] else 'MISSING ' + str(stats['ok'] - stored)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Forward mode's cost: events/s posted straight to a bare endpoint, against the same
endpoint reached through `segment-inspector serve --forward`.

    .venv/bin/python bench/forward.py            # 10 s runs, 3 rounds
    .venv/bin/python bench/forward.py --quick    # 3 s runs, 2 rounds

The endpoint is bench/bare_server.py (reads the body, answers 200 `{}`), its own
subprocess on 127.0.0.1 port 0. Each round posts to it directly, then through the
inspector (`serve --port 0 --no-tunnel --forward URL`, history in a temp dir), which
relays every request and judges every answer before answering. The load is the one of
bench/ingest.py: `wrk -t1 -c64`, a ~1.1 KB track event with its own messageId and
Segment's headers (bench/loadgen.py when wrk is missing). Between the two, the same load
goes through `bare_server.py --forward`, an aiohttp app that only relays the body and
answers with the endpoint's answer: the ceiling of any forwarder built on aiohttp. The median of the rounds is
reported with the ratio through/direct; the target is at least 0.5. Nothing leaves
127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from ingest import CONNECTIONS, INSPECTOR, PYTHON, Server, code_state, lua_script, run_load  # noqa: E402

TARGET_RATIO = 0.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s runs, 2 rounds")
    parser.add_argument("--duration", type=float, help="seconds per run")
    parser.add_argument("--rounds", type=int, help="rounds (median reported)")
    args = parser.parse_args()
    duration = args.duration or (3.0 if args.quick else 10.0)
    rounds = args.rounds or (2 if args.quick else 3)
    loadgen = "wrk" if shutil.which("wrk") else "python"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    print(f"code: {code_state()}")
    print(f"load: {'wrk -t1' if loadgen == 'wrk' else 'bench/loadgen.py (wrk not found)'} -c{CONNECTIONS}, "
          f"{duration:g} s runs, {rounds} rounds", flush=True)
    rates: dict[str, list[float]] = {"direct": [], "relay": [], "through": []}
    p99: dict[str, list[float]] = {"direct": [], "relay": [], "through": []}
    with tempfile.TemporaryDirectory(prefix="forward-bench-") as tmp:
        work = Path(tmp)
        lua = work / "load.lua"
        lua.write_text(lua_script("fwd"))
        endpoint = Server([PYTHON, str(HERE / "bare_server.py"), "0"], work / "bare.log", env)
        try:
            target = endpoint.wait_url()
            for n in range(rounds):
                direct = run_load(target, duration, loadgen, lua, f"direct{n}")
                bare = Server([PYTHON, str(HERE / "bare_server.py"), "0", "--forward", target],
                              work / f"relay{n}.log", env)
                try:
                    relay = run_load(bare.wait_url(), duration, loadgen, lua, f"relay{n}")
                finally:
                    bare.stop()
                data = work / f"data{n}"
                inspector = Server([INSPECTOR, "serve", "--port", "0", "--no-tunnel", "--data-dir", str(data),
                                    "--forward", target], work / f"inspector{n}.log", env)
                try:
                    through = run_load(inspector.wait_url(), duration, loadgen, lua, f"through{n}")
                finally:
                    inspector.stop()
                for kind, result in (("direct", direct), ("relay", relay), ("through", through)):
                    eps = result["ok"] / result["seconds"]
                    rates[kind].append(eps)
                    p99[kind].append(result["p99_ms"])
                    errors = f"  errors {result['errors']}" if result["errors"] else ""
                    print(f"round {n + 1} {kind:<8} {eps:9,.0f} events/s  p99 {result['p99_ms']:7.1f} ms"
                          f"  ({result['ok']:,} of {result['completed']:,} answered 2xx){errors}", flush=True)
        finally:
            endpoint.stop()
    direct_eps = statistics.median(rates["direct"])
    relay_eps = statistics.median(rates["relay"])
    through_eps = statistics.median(rates["through"])
    ratio = through_eps / direct_eps if direct_eps else 0.0
    print()
    print(f"direct to the endpoint        {direct_eps:9,.0f} events/s  p99 {statistics.median(p99['direct']):7.1f} ms")
    print(f"through a bare aiohttp relay  {relay_eps:9,.0f} events/s  p99 {statistics.median(p99['relay']):7.1f} ms"
          f"  (ratio {relay_eps / direct_eps:.2f}: the most any aiohttp forwarder reaches here)")
    print(f"through the inspector forward {through_eps:9,.0f} events/s  p99 {statistics.median(p99['through']):7.1f} ms")
    verdict = "meets" if ratio >= TARGET_RATIO else "misses"
    print(f"ratio {ratio:.2f} ({verdict} the target of {TARGET_RATIO})")
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())

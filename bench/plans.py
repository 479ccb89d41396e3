"""What a tracking plan costs: checking an event against a 50-rule plan next to the Spec
linter on the same event, and `serve --plan` ingest next to `serve` without one.

    .venv/bin/python bench/plans.py             # checking: 7 rounds; ingest: 3 rounds of 5 s
    .venv/bin/python bench/plans.py --quick     # checking: 3 rounds; ingest: 2 rounds of 3 s

The plan has 50 rules: one inferred (`plan infer`'s code) for each of the 20 event names
the benchmarks send, one for identify traits, and 29 more events that are never sent, so
the lookup is by name among 50. The events are bench/segment_events.py's analytics.js track
calls (~1.1 KB) of every name, and Segment's endpoint-tester templates filled. Each side
runs over the same parsed events, alternating round by round so machine noise hits both;
the ratio is the median cost of checking over the median cost of linting (target: <= 1).

Ingest runs bench/ingest.py's own runs (wrk -t1 -c64, or its aiohttp loadgen), the
inspector with and without `--plan`, in turns; the ratio is planned over plain (target: >= 0.9).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import ingest  # noqa: E402
from segment_events import EVENT_NAMES, track_event  # noqa: E402

from inspector.core.checks import lint  # noqa: E402
from inspector.core.files import read_events  # noqa: E402
from inspector.core.plans import Checking, infer, parse_plan  # noqa: E402
from inspector.core.templates import fill  # noqa: E402
from inspector.review.tester import TEMPLATES  # noqa: E402

REPEAT = 20  # each event this many times a round


def events() -> list[dict]:
    rng = random.Random(5)
    sent = [track_event(message_id=str(uuid.uuid4()), user_id=f"u{n}", event=name, rng=rng)
            for n, name in enumerate(EVENT_NAMES * 5)]
    templates = [event for path in sorted(TEMPLATES.glob("*.log"))
                 for _, event in read_events(fill(path.read_text(), rng).encode(), path.name)]
    return sent + templates


def fifty_rules(sample: list[dict]) -> dict:
    inferred = infer((str(n), event) for n, event in enumerate(sample)).plan.to_public_api()
    rules = [rule for rule in inferred["rules"] if rule["type"] in ("TRACK", "IDENTIFY")]
    kept = [rule for rule in rules if rule["type"] == "IDENTIFY" or rule["key"] in EVENT_NAMES]
    template = next(rule for rule in kept if rule["type"] == "TRACK")
    n = 0
    while len(kept) < 50:
        kept.append({**template, "key": f"Never Sent {n}"})
        n += 1
    return {"rules": kept[:50]}


def timed(function, items: list[dict]) -> float:
    started = time.perf_counter()
    for _ in range(REPEAT):
        for item in items:
            function(item)
    return (time.perf_counter() - started) / (REPEAT * len(items))


def checking_cost(rounds: int) -> tuple[float, float, int]:
    sample = events()
    plan = parse_plan(orjson.dumps(fifty_rules(sample)))
    checking = Checking(plan)
    now = time.time()
    violations = sum(bool(checking.event(event)) for event in sample)
    linted, checked = [], []
    for _ in range(rounds):
        linted.append(timed(lambda event: lint(event, now=now), sample))
        checked.append(timed(checking.event, sample))
    print(f"checking vs linting, {len(sample)} events x {REPEAT}, {rounds} rounds, plan of {len(plan.rules)} rules "
          f"({violations} events with a plan finding):")
    for n, (a, b) in enumerate(zip(linted, checked, strict=True), 1):
        print(f"  round {n}: lint {a * 1e6:7.1f} us/event   check {b * 1e6:7.1f} us/event   ratio {b / a:.2f}")
    return statistics.median(linted), statistics.median(checked), len(plan.rules)


def ingest_ratio(rounds: int, duration: float, loadgen: str) -> float:
    work = Path(tempfile.mkdtemp(prefix="inspector-plans-"))
    try:
        plan = work / "plan.json"
        plan.write_bytes(orjson.dumps(fifty_rules(events())))
        env = {**os.environ, "XDG_CONFIG_HOME": str(work / "config"), "XDG_DATA_HOME": str(work / "xdg"),
               "PYTHONUNBUFFERED": "1"}
        lua = work / "segment-track.lua"
        lua.write_text(ingest.lua_script("p"))
        loadgen = ("wrk" if shutil.which("wrk") else "python") if loadgen == "auto" else loadgen
        print(f"ingest, serve with and without --plan ({loadgen}, {duration:g} s runs, {rounds} rounds):")
        rates: dict[str, list[float]] = {"plain": [], "planned": []}
        for n in range(1, rounds + 1):
            for name, extra in (("plain", []), ("planned", ["--plan", str(plan)])):
                args = argparse.Namespace(duration=duration, loadgen=loadgen, serve_args=extra)
                result = ingest.one_run("inspector", 0, None, work, n, args, env, lua)
                rates[name].append(result["eps"])
                lost = result["stored"] - result["ok"]
                print(f"  round {n} {name:<8} {result['eps']:8,.0f} events/s  p99 {result['p99_ms']:.1f} ms  "
                      f"stored-2xx {lost:+,}", flush=True)
        return statistics.median(rates["planned"]) / statistics.median(rates["plain"])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--no-ingest", action="store_true", help="only the checking cost")
    args = parser.parse_args()
    linted, checked, rules = checking_cost(3 if args.quick else 7)
    ratio = checked / linted
    print(f"checking against {rules} rules: {checked * 1e6:.1f} us/event; Spec linter {linted * 1e6:.1f} us/event; "
          f"ratio {ratio:.2f} (target <= 1) -> {'met' if ratio <= 1 else 'NOT met'}")
    if args.no_ingest:
        return 0
    quick = args.quick
    ingested = ingest_ratio(2 if quick else 3, 3.0 if quick else 5.0, args.loadgen)
    print(f"ingest with --plan / without: {ingested:.2f} (target >= 0.9) -> {'met' if ingested >= 0.9 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

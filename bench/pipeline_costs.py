"""What each step of the receiver's per-request work costs, without HTTP, in one process.

    .venv/bin/python bench/pipeline_costs.py [--count 30000] [--history 0]

Feeds the same ~1.1 KB track events bench/ingest.py sends through the steps that
`receive()` (inspector/receiver/app.py) and serve's line printer run for each request,
timing each with time.perf_counter: received (and, separately, its parts:
parse_body, check_headers, lint), Hub.answer, History.add, the "recorded" notice that
prints serve's line (to a real file, flushed, as serve does to its stdout), and the GC
passes they trigger (gc.callbacks). The history's writer thread runs, as in serve.
Compare with a bare aiohttp request, about 50 µs of CPU at ~20,000 req/s on one core.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from segment_events import SEGMENT_HEADERS, wrk_template  # noqa: E402


def drive(coro):  # a coroutine that never suspends (no delay, no hold) runs to its end at once
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    raise RuntimeError("the coroutine suspended")


def run(count: int, history_size: int, gc_on: bool, rounds_out: list[str]) -> dict[str, float]:
    from inspector.cli import line_of
    from inspector.core.checks import lint
    from inspector.core.headers import check_headers
    from inspector.core.history import History
    from inspector.core.history.format import stored
    from inspector.core.hub import Hub
    from inspector.core.intake import parse_body, received
    from inspector.core.policy import Policy

    work = Path(tempfile.mkdtemp(prefix="inspector-pipeline-"))
    if history_size:
        import ingest
        ingest.populate(work, history_size)
        gc.enable()
    history = History(work).load()
    history.start_session()
    hub = Hub(history, Policy())
    out = open(work / "stdout.txt", "w")

    def show_line(notice) -> None:  # what serve subscribes (inspector/cli.py)
        if notice.kind == "recorded":
            print(line_of(notice.exchange.summary()), file=out, flush=True)

    hub.subscribe(show_line)
    before, between, after = wrk_template("pc")
    gc_time = [0.0]
    gc_count = {0: 0, 1: 0, 2: 0}
    gc_start = [0.0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            gc_start[0] = time.perf_counter()
        else:
            gc_time[0] += time.perf_counter() - gc_start[0]
            gc_count[info["generation"]] += 1

    gc.callbacks.append(on_gc)
    if not gc_on:
        gc.disable()
    names = ("received", "  parse_body", "  check_headers", "  lint", "Hub.answer",
             "format.stored (in add)", "History.add", "notice + serve's line")
    samples: dict[str, list[float]] = {name: [] for name in names}
    flush_time = [0.0, 0]
    real_flush = History.flush

    def timed_flush(self) -> None:  # the writer thread's work, timed
        t = time.perf_counter()
        real_flush(self)
        flush_time[0] += time.perf_counter() - t
        flush_time[1] += 1

    History.flush = timed_flush
    clock = time.perf_counter
    started = clock()
    try:
        for i in range(count):
            body = f"{before}{i:08x}{between}{i % 5000}{after}".encode()
            headers = [("Host", "127.0.0.1:8686"), *SEGMENT_HEADERS.items(), ("Content-Length", str(len(body)))]
            t0 = clock()
            exchange = received(method="POST", path="/", peer="127.0.0.1:40000", headers=headers,
                                      body=body)
            t1 = clock()
            data, _ = parse_body(body)
            t2 = clock()
            check_headers(headers, len(body))
            t3 = clock()
            lint(data, now=exchange.time)
            t4 = clock()
            drive(hub.answer(exchange))
            t5 = clock()
            stored(exchange)
            t6 = clock()
            history.add(exchange)
            t7 = clock()
            hub._notify("recorded", exchange)
            t8 = clock()
            for name, value in zip(names, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5,
                                           t7 - t6, t8 - t7)):
                samples[name].append(value)
    finally:
        total = clock() - started
        gc.enable()
        gc.callbacks.remove(on_gc)
        history.close()
        History.flush = real_flush
        out.close()
    result = {k: (sum(v) / count * 1e6, statistics.median(v) * 1e6) for k, v in samples.items()}
    result["GC passes (inside the steps above)"] = (gc_time[0] / count * 1e6, 0.0)
    top = [k for k in names if not k.startswith("  ") and not k.startswith("format.stored")]
    result["all steps, per exchange"] = (sum(result[k][0] for k in top), sum(result[k][1] for k in top))
    result["writer thread: History.flush"] = (flush_time[0] / count * 1e6, 0.0)
    rounds_out.append(f"gc {'on' if gc_on else 'off'}: {count:,} exchanges in {total:.1f} s "
                      f"(with the extra timing copies); GC passes gen0 {gc_count[0]}, gen1 {gc_count[1]}, "
                      f"gen2 {gc_count[2]}, {gc_time[0] * 1000:.0f} ms in all; writer thread flushed {flush_time[1]} "
                      f"times, {flush_time[0] * 1000:.0f} ms in all")
    import shutil
    shutil.rmtree(work, ignore_errors=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=30_000)
    parser.add_argument("--history", type=int, default=0, help="exchanges in the history before")
    args = parser.parse_args()
    notes: list[str] = []
    on = run(args.count, args.history, True, notes)
    off = run(args.count, args.history, False, notes)
    print(f"Per-exchange cost of the receiver's steps, µs (mean over {args.count:,}; history before: "
          f"{args.history:,}); format.stored is also inside History.add")
    print("mean includes stalls (GC passes, waiting for the GIL the writer thread holds); median does not")
    print(f"{'step':<38} | {'GC on: mean':>11} | {'median':>6} | {'GC off: mean':>12} | {'median':>6}")
    for key in on:
        print(f"{key:<38} | {on[key][0]:>11.1f} | {on[key][1]:>6.1f} | {off[key][0]:>12.1f} | {off[key][1]:>6.1f}")
    for note in notes:
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())

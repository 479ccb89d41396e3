"""Big bodies and the history: shard sizes, `show` beside them, memory, and --keep.

    .venv/bin/python bench/big_bodies.py               # 60 bodies of 8 MiB (480 MiB), 1,000 small
    .venv/bin/python bench/big_bodies.py --big 20      # a quicker run

In a child process, `History.add` keeps --big bodies of 8 MiB among --small small events
(one big body every few small ones), then `close()`; its peak RSS (ru_maxrss) is read.
Then: the largest shard file, `show` of a small exchange and of a big one (the CLI in its own
process: wall time and peak RSS), free text for a word inside one big body, and the same
adds into a history with --keep 256MiB, whose size on disk is read at the end.
Targets: `show` <= 1 s and <= 300 MB; the adding process <= 400 MB; no shard file over
100 MB; --keep holds within 25 %. Everything runs in a temp dir, removed at the end.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MIB = 1024 * 1024
PYTHON = [sys.executable, "-m", "inspector"]


def fill(directory: str, big: int, small: int, keep: int | None) -> None:
    """The child: add the exchanges, close, print ids and the peak RSS as JSON."""
    from inspector.core.history import History
    from tests.factories import make_event, make_exchange

    history = History(directory, keep_bytes=keep)
    blob = b'{"type":"track","event":"Big","userId":"u","properties":{"blob":"' + b"b" * (8 * MIB - 80) + b'"}}'
    every = max(1, small // max(1, big))
    ids: dict[str, str] = {}
    started = time.perf_counter()
    made = 0
    for n in range(small + big):
        if made < big and n % (every + 1) == every:
            body = blob.replace(b'"Big"', b'"Big%05d"' % made, 1).replace(b'"u"', b'"findme"' if made == 1 else b'"u"')
            exchange = make_exchange(body)
            made += 1
            ids.setdefault("big", exchange.id)
        else:
            exchange = make_exchange(make_event(event="Small"))
            ids["small"] = exchange.id
        history.add(exchange)
    history.close()
    seconds = time.perf_counter() - started
    print(orjson.dumps({**ids, "seconds": seconds, "disk": history.disk_size(),
                        "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}).decode())


def timed_cli(args: list[str]) -> tuple[float, float]:
    started = time.perf_counter()
    child = subprocess.Popen(PYTHON + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    if status:
        raise RuntimeError(f"{args} exited {status}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def run(directory: Path, big: int, small: int, keep: int | None) -> dict[str, object]:
    argv = [sys.executable, __file__, "--child", str(directory), "--big", str(big), "--small", str(small)]
    if keep is not None:
        argv += ["--keep-bytes", str(keep)]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return orjson.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--big", type=int, default=60)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--keep-bytes", type=int, default=None)
    parser.add_argument("--child", default=None)
    args = parser.parse_args()
    if args.child:
        fill(args.child, args.big, args.small, args.keep_bytes)
        return 0
    work = Path(tempfile.mkdtemp(prefix="inspector-big-"))
    try:
        plain = run(work / "plain", args.big, args.small, None)
        shards = list((work / "plain").rglob("0????.json"))
        largest = max(p.stat().st_size for p in shards) / MIB
        bodies = sum(p.stat().st_size for p in (work / "plain").rglob("bodies/*")) / MIB
        show_small = timed_cli(["show", str(plain["small"]), "--data-dir", str(work / "plain")])
        show_big = timed_cli(["show", str(plain["big"]), "--json", "--data-dir", str(work / "plain")])
        found = timed_cli(["history", "findme", "--data-dir", str(work / "plain")])
        keep = 256 * MIB
        kept = run(work / "kept", args.big, args.small, keep)
        print(f"{args.big} bodies of 8 MiB ({args.big * 8} MiB) among {args.small:,} small events")
        print(f"  History.add + close: {plain['seconds']:.1f} s, peak RSS {plain['rss']:.0f} MB (target 400 MB)")
        print(f"  largest shard file: {largest:.2f} MB of {len(shards)}; bodies out of line: {bodies:.0f} MB")
        print(f"  show of a small exchange beside them: {show_small[0]:.2f} s, {show_small[1]:.0f} MB "
              "(targets 1 s, 300 MB)")
        print(f"  show --json of a big one: {show_big[0]:.2f} s, {show_big[1]:.0f} MB")
        print(f"  history <word in one big body>: {found[0]:.2f} s, {found[1]:.0f} MB")
        size = int(kept["disk"]) / MIB  # type: ignore[call-overload]
        print(f"  --keep 256MiB: the running session ends at {size:.0f} MB on disk "
              f"({size / 256 - 1:+.0%} of --keep; target within 25 %), peak RSS {kept['rss']:.0f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What a SIGKILL of `segment-inspector serve` can lose.

    .venv/bin/python bench/sigkill.py [--runs 5] [--after 2.0] [--concurrency 32]

Each run starts `segment-inspector serve --port 0 --data-dir D` (a fresh temp dir), sends
Segment track events from 32 concurrent aiohttp connections on 127.0.0.1, each with its
own messageId, and records which got a 200 answer. About 2 s in, the server gets SIGKILL.
Then `History(D).load()` reads what survived, and the run reports:

- acknowledged but missing: answered 200, not in the history. Expected 0: the store
  journals each exchange (os.write) before the answer is sent.
- stored but not acknowledged: in the history, yet the client never saw the 200
  (in flight when the server died; at most `concurrency`). Harmless: Segment retries those.

Then serve is started once more on the same dir and stopped cleanly, and the history is
loaded again: a restart after a crash must keep what the crashed session journaled.
Everything stops by itself; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from segment_events import SEGMENT_HEADERS, wrk_template  # noqa: E402

INSPECTOR = str(Path(sys.executable).with_name("segment-inspector"))
URL_LINE = re.compile(r"receiving on (http://\S+)")


def start_serve(data_dir: Path, log: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str, object]:
    out = open(log, "wb")
    proc = subprocess.Popen([INSPECTOR, "serve", "--port", "0", "--data-dir", str(data_dir)],
                            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = URL_LINE.search(log.read_text(errors="replace")[:4000])
        if found:
            return proc, found[1], out
        if proc.poll() is not None:
            raise RuntimeError(f"serve exited {proc.returncode}: {log.read_text()[-2000:]}")
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("serve printed no URL")


def stored_message_ids(data_dir: Path) -> tuple[set[str], int]:
    from inspector.core.history import History

    history = History(data_dir).load()
    ids = {m for summary in history.search() for m in summary.messages}
    return ids, len(history)


async def load_until_killed(url: str, proc: subprocess.Popen, run: int, concurrency: int,
                            after: float) -> tuple[set[str], set[str], int, float]:
    before, between, after_part = wrk_template(f"kill{run}")
    headers = {k: v for k, v in SEGMENT_HEADERS.items() if k != "Connection"}
    sent: set[str] = set()
    acked: set[str] = set()
    non200 = 0
    counter = 0
    killed = asyncio.Event()
    deadline = time.monotonic() + after + 15  # a hard bound, whatever happens

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal counter, non200
        while not killed.is_set() and time.monotonic() < deadline:
            counter += 1
            message_id = f"{before.rsplit(chr(34), 1)[1]}{counter:08x}"
            body = f"{before}{counter:08x}{between}{counter % 5000}{after_part}".encode()
            sent.add(message_id)
            try:
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    if resp.status == 200:
                        acked.add(message_id)
                    else:
                        non200 += 1
            except (TimeoutError, aiohttp.ClientError, ConnectionError):
                if not killed.is_set():
                    await asyncio.sleep(0.01)

    async def killer() -> float:
        await asyncio.sleep(after)
        os.kill(proc.pid, signal.SIGKILL)
        started = time.monotonic()
        while proc.poll() is None and time.monotonic() - started < 10:
            await asyncio.sleep(0.005)
        killed.set()
        return after

    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency),
                                     timeout=timeout) as session:
        kill_task = asyncio.create_task(killer())
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        when = await kill_task
    return sent, acked, non200, when


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--after", type=float, default=2.0, help="seconds of load before SIGKILL")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="inspector-sigkill-"))
    env = {**os.environ, "XDG_CONFIG_HOME": str(work / "config"), "XDG_DATA_HOME": str(work / "xdg-data")}
    print(f"SIGKILL test: {args.runs} runs, {args.concurrency} concurrent aiohttp connections, "
          f"SIGKILL after {args.after:g} s of load; work dir {work}", flush=True)
    total_missing = 0
    try:
        for run in range(1, args.runs + 1):
            data_dir = work / f"data-{run}"
            data_dir.mkdir()
            proc, url, out = start_serve(data_dir, work / f"serve-{run}.log", env)
            try:
                sent, acked, non200, when = asyncio.run(
                    load_until_killed(url, proc, run, args.concurrency, args.after))
            finally:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
                out.close()
            files = sorted(p.relative_to(data_dir / "history") for p in (data_dir / "history").rglob("*.*"))
            journal_lines = sum(p.read_bytes().count(b"\n") for p in (data_dir / "history").rglob("*.jsonl"))
            stored, exchanges = stored_message_ids(data_dir)
            missing = acked - stored
            unacked = stored - acked
            strangers = stored - sent
            total_missing += len(missing)
            # a restart after the crash, stopped cleanly, must keep all of it
            proc2, _, out2 = start_serve(data_dir, work / f"serve-{run}-restart.log", env)
            proc2.send_signal(signal.SIGTERM)
            try:
                proc2.wait(60)
            except subprocess.TimeoutExpired:
                proc2.kill()
                proc2.wait()
            out2.close()
            after_restart, exchanges2 = stored_message_ids(data_dir)
            print(f"run {run}: killed (exit {proc.returncode}) after {when:.1f} s; sent {len(sent):,}, "
                  f"acknowledged 200 {len(acked):,} (other answers {non200}), stored {exchanges:,} "
                  f"({len(files)} files, {journal_lines:,} journal lines); "
                  f"acknowledged but MISSING {len(missing)}; stored but never acknowledged {len(unacked)}; "
                  f"stored but never sent {len(strangers)}; after a restart: {exchanges2:,} stored, "
                  f"{len(acked - after_restart)} acknowledged missing", flush=True)
            if missing:
                print(f"  missing e.g. {sorted(missing)[:5]}", flush=True)
            shutil.rmtree(data_dir, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"summary: {total_missing} acknowledged exchanges lost over {args.runs} runs "
          + ("(expected 0: OK)" if total_missing == 0 else "(expected 0: FAILED)"), flush=True)
    return 0 if total_missing == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

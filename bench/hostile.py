"""Attacks on `serve`, each printed side by side with the unattacked run.

    python bench/hostile.py [--attack headers|bodies|batch|big] [--slow 900] [--files 1024]
                            [--hold 20] [--probes 40] [--events 70000]

Starts `segment-inspector serve --no-tunnel --port 0` with its file limit (RLIMIT_NOFILE)
set to --files, times --probes normal requests (a Segment event, answered 200) before the
attack (the baseline), starts the attack in a process of its own, waits --hold seconds, and
times the probes again while it goes on:

- `headers`: --slow connections sending their request headers one byte a second,
  reconnecting at once when closed. Targets: a normal request <= 1 s; serve's log < 200 KB.
- `bodies`: --slow connections sending whole headers, then the body one byte a second,
  reconnecting when closed. Target: at least 90% of the probes answered (36 of 40).
- `batch`: one 8 MiB batch of --events events after another (70,000 are refused 413 for their
  count once read; 10,000 are parsed and linted whole). Target: no probe waits > 300 ms.
- `big`: 8 MiB bodies one after another (--hold seconds' worth, 480 MiB at most), then `show`
  of a small exchange among them. Targets: probes <= 300 ms; serve's RSS <= 400 MB;
  `show` <= 1 s and <= 300 MB.

Only ever against 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

EVENT = (b'{"type":"track","event":"Order Completed","userId":"u1","messageId":"bench-%d",'
         b'"timestamp":"2026-01-01T00:00:00.000Z"}')
BIG_BODY = 8 * 1024 * 1024 - 4096


def request(body: bytes, close: bool = True) -> bytes:
    return (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Authorization: Basic c2VnbWVudDo=\r\nContent-Length: %d\r\n%s\r\n"
            % (len(body), b"Connection: close\r\n" if close else b"")) + body


async def normal(port: int, n: int, timeout: float = 30.0) -> tuple[float, bytes]:
    """Seconds from connecting to the whole answer of one ordinary request, and its status line."""
    started = time.perf_counter()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
        writer.write(request(EVENT % n))
        answer = await asyncio.wait_for(reader.read(), timeout)
        writer.close()
    except (TimeoutError, OSError) as err:
        answer = f"failed: {type(err).__name__}".encode()
    return time.perf_counter() - started, answer.split(b"\r\n", 1)[0]


async def trickle(port: int, stop: asyncio.Event, stats: Counter[str], head: bytes, body: bytes) -> None:
    """Send `head` at once, then `body` a byte a second, for ever; reconnect when closed."""
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            stats["connect failed"] += 1
            await asyncio.sleep(1)
            continue
        stats["connections"] += 1
        try:
            if head:
                writer.write(head)
            for byte in body:
                if stop.is_set() or reader.at_eof():
                    break
                writer.write(bytes([byte]))
                await writer.drain()
                try:
                    await asyncio.wait_for(reader.read(1), 1.0)  # wait 1 s, or learn we were closed
                    if reader.at_eof():
                        stats["closed by server"] += 1
                        break
                except TimeoutError:
                    pass
        except OSError:
            stats["closed by server"] += 1
        writer.close()


async def flood(port: int, body: bytes, stats: Counter[str]) -> None:
    """One big request after another on one connection at a time."""
    while True:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request(body))
            await writer.drain()
            status = (await reader.read()).split(b"\r\n", 1)[0]
            writer.close()
            stats[status.decode("latin-1", "replace")[:40]] += 1
        except OSError:
            stats["failed"] += 1
            await asyncio.sleep(0.1)


async def attack(port: int, kind: str, slow: int, big: bytes) -> None:
    """The attack, for ever (in a process of its own, so probes are timed on an idle loop)."""
    stop = asyncio.Event()
    stats: Counter[str] = Counter({"connections": 0, "closed by server": 0, "connect failed": 0})
    if kind == "headers":
        head = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\nX-Slow: " + b"s" * 4096
        tasks = [asyncio.create_task(trickle(port, stop, stats, b"", head)) for _ in range(slow)]
    elif kind == "bodies":
        head = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n"
        tasks = [asyncio.create_task(trickle(port, stop, stats, head, b"{" + b" " * 4095)) for _ in range(slow)]
    else:
        tasks = [asyncio.create_task(flood(port, big, stats))]
    while True:
        await asyncio.sleep(5)
        print(f"  attacker: {dict(stats)}", flush=True)
    await asyncio.gather(*tasks)


def attacker(port: int, kind: str, slow: int, big: bytes) -> None:
    asyncio.run(attack(port, kind, slow, big))


def batch_body(count: int) -> bytes:
    """An 8 MiB batch of `count` events (70,000: refused for its count; 10,000: read and linted whole)."""
    pad = b"x" * max(0, 8 * 1024 * 1024 // count - 140)
    events = [b'{"type":"track","event":"Batch Item","userId":"u%d","messageId":"b-%d","properties":{"n":%d,'
              b'"pad":"%s"}}' % (n, n, n, pad) for n in range(count)]
    body = b"[" + b",".join(events) + b"]"
    return body[:-1] + b" " * max(0, 8 * 1024 * 1024 - 8192 - len(body)) + b"]"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attack", choices=("headers", "bodies", "batch", "big"), default="headers")
    parser.add_argument("--slow", type=int, default=900)
    parser.add_argument("--files", type=int, default=1024)
    parser.add_argument("--hold", type=float, default=20.0)
    parser.add_argument("--probes", type=int, default=40)
    parser.add_argument("--events", type=int, default=70_000, help="events in the batch attack's 8 MiB")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.slow + 256)), hard))

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (args.files, hard))

    big = batch_body(args.events) if args.attack == "batch" else b'{"type":"track","event":"Big","userId":"u",' \
        b'"messageId":"big","properties":{"blob":"' + b"b" * (BIG_BODY - 80) + b'"}}'
    data = tempfile.mkdtemp(prefix="hostile-")
    log = open(os.path.join(data, "stderr.log"), "w+b")  # noqa: SIM115  (serve writes to it as it runs)
    server = subprocess.Popen([sys.executable, "-m", "inspector", "serve", "--no-tunnel", "--port", "0",
                               "--data-dir", data], stdout=subprocess.PIPE, stderr=log, preexec_fn=limit,
                              bufsize=0)
    show: tuple[float, float] | None = None
    peak = 0.0
    try:
        assert server.stdout is not None
        text = server.stdout.readline().decode("utf-8", "replace")
        if "receiving on http://" not in text:
            print("serve did not start:", text)
            return 3
        port = int(text.split("receiving on http://")[1].split("/")[0].rsplit(":", 1)[1])
        subprocess.Popen(["cat"], stdin=server.stdout, stdout=subprocess.DEVNULL)  # one line an exchange
        log.seek(0, os.SEEK_END)
        start_size = log.tell()

        async def probe(first: int) -> tuple[list[float], list[bytes]]:
            times, statuses = [], []
            for n in range(args.probes):
                took, status = await normal(port, first + n)
                times.append(took)
                statuses.append(status)
                await asyncio.sleep(0.25)
            return times, statuses

        baseline, _ = asyncio.run(probe(0))
        attacking = multiprocessing.Process(target=attacker, args=(port, args.attack, args.slow, big), daemon=True)
        attacking.start()
        ended = time.monotonic() + args.hold
        while time.monotonic() < ended:
            peak = max(peak, rss_mb(server.pid))
            time.sleep(0.5)
        times, statuses = asyncio.run(probe(1000))
        peak = max(peak, rss_mb(server.pid))
        attacking.terminate()
        attacking.join()
        log.seek(0, os.SEEK_END)
        log_size = log.tell() - start_size
        if args.attack == "big":
            show = show_small(data)
    finally:
        server.terminate()
        server.wait(30)
    base, under = statistics.median(baseline), statistics.median(times)
    answered = sum(b" 200 " in s + b" " for s in statuses)
    print(f"attack {args.attack}: {args.slow if args.attack in ('headers', 'bodies') else 1} client(s) "
          f"under a {args.files}-file limit, held {args.hold:g} s")
    print(f"normal request, baseline:      median {base * 1000:8.1f} ms, max {max(baseline) * 1000:8.1f} ms")
    print(f"normal request, under attack:  median {under * 1000:8.1f} ms, max {max(times) * 1000:8.1f} ms "
          f"(x{under / base:.1f} the baseline); {answered} of {len(statuses)} answered 200"
          + (f"; the others: {sorted({s.decode('latin-1') for s in statuses if b' 200 ' not in s + b' '})}"
             if answered < len(statuses) else ""))
    print(f"serve: RSS peak {peak:.0f} MB; stderr during the attack {log_size} bytes")
    ok = {"headers": max(times) <= 1.0 and log_size < 200_000 and answered == len(statuses),
          "bodies": answered >= 0.9 * len(statuses),
          "batch": max(times) <= 0.3 and answered == len(statuses),
          "big": max(times) <= 0.3 and peak <= 400}[args.attack]
    if show is not None:
        print(f"show of a small exchange beside the big ones: {show[0]:.2f} s, {show[1]:.0f} MB (targets 1 s, 300 MB)")
        ok = ok and show[0] <= 1.0 and show[1] <= 300
    print("targets met" if ok else "targets NOT met")
    return 0 if ok else 1


def show_small(data: str) -> tuple[float, float]:
    """Seconds and peak MB of `show` for the newest small exchange."""
    listed = subprocess.run([sys.executable, "-m", "inspector", "history", "event:\"Order Completed\"", "--limit", "1",
                             "--json", "--data-dir", data], capture_output=True, text=True, timeout=120)
    exchange_id = json.loads(listed.stdout.splitlines()[0])["id"]
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-m", "inspector", "show", exchange_id,
                           "--data-dir", data], capture_output=True, text=True, timeout=120)
    took = time.perf_counter() - started
    return took, int(done.stderr.strip().splitlines()[-1]) / 1024


if __name__ == "__main__":
    sys.exit(main())

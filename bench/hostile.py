"""The slow-client attack: many connections sending a request at 1 byte a second.

    python bench/hostile.py [--slow 1100] [--files 1024] [--hold 20] [--build BUILD]

Starts `segment-inspector serve --no-tunnel --port 0` with its file limit (RLIMIT_NOFILE)
set to --files, opens --slow connections that each send request headers one byte a
second (and reconnect at once when closed, as a persistent attacker would), waits
--hold seconds, then times normal requests (a Segment event, answered 200) while the
attack goes on. The baseline is the same request to the same server before the attack.
Prints the latencies, their ratio to the baseline, and the size of what `serve` wrote
to stderr. Targets: a normal request <= 1 s; the log < 200 KB.

Only ever against 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

EVENT = (b'{"type":"track","event":"Order Completed","userId":"u1","messageId":"bench-%d",'
         b'"timestamp":"2026-01-01T00:00:00.000Z"}')


def request(n: int) -> bytes:
    body = EVENT % n
    return (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Authorization: Basic c2VnbWVudDo=\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
            % len(body)) + body


async def normal(port: int, n: int, timeout: float = 30.0) -> tuple[float, bytes]:
    """Seconds from connecting to the whole answer of one ordinary request."""
    started = time.perf_counter()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
        writer.write(request(n))
        answer = await asyncio.wait_for(reader.read(), timeout)
        writer.close()
    except (TimeoutError, OSError) as err:
        answer = f"failed: {type(err).__name__}".encode()
    return time.perf_counter() - started, answer.split(b"\r\n", 1)[0]


async def slow_client(port: int, stop: asyncio.Event, stats: dict[str, int]) -> None:
    head = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\nX-Slow: " + b"s" * 4096
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            stats["connect failed"] += 1
            await asyncio.sleep(1)
            continue
        stats["connections"] += 1
        try:
            for byte in head:
                if stop.is_set() or reader.at_eof():
                    break
                writer.write(bytes([byte]))
                await writer.drain()
                try:
                    await asyncio.wait_for(reader.read(1), 1.0)  # sleep 1 s, or learn we were closed
                    if reader.at_eof():
                        stats["closed by server"] += 1
                        break
                except TimeoutError:
                    pass
        except OSError:
            stats["closed by server"] += 1
        writer.close()


async def attack(port: int, slow: int) -> None:
    """The slow clients, for ever (run in a process of its own, so probes are timed on an idle loop)."""
    stop = asyncio.Event()
    stats = {"connections": 0, "closed by server": 0, "connect failed": 0}
    tasks = [asyncio.create_task(slow_client(port, stop, stats)) for _ in range(slow)]
    while True:
        await asyncio.sleep(5)
        print(f"  attacker: {stats}", flush=True)
    await asyncio.gather(*tasks)


def attacker(port: int, slow: int) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE))
    asyncio.run(attack(port, slow))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slow", type=int, default=1100)
    parser.add_argument("--files", type=int, default=1024)
    parser.add_argument("--hold", type=float, default=20.0)
    parser.add_argument("--probes", type=int, default=5)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.slow + 256)), hard))

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (args.files, hard))

    data = tempfile.mkdtemp(prefix="hostile-")
    log = open(os.path.join(data, "stderr.log"), "w+b")
    server = subprocess.Popen([sys.executable, "-m", "inspector", "serve", "--no-tunnel", "--port", "0",
                               "--data-dir", data], stdout=subprocess.PIPE, stderr=log, preexec_fn=limit,
                              bufsize=0)
    try:
        assert server.stdout is not None
        text = server.stdout.readline().decode("utf-8", "replace")
        if "receiving on http://" not in text:
            print("serve did not start:", text)
            return 3
        port = int(text.split("receiving on http://")[1].split("/")[0].rsplit(":", 1)[1])
        drain = subprocess.Popen(["cat"], stdin=server.stdout, stdout=subprocess.DEVNULL)  # one line an exchange
        log.seek(0, os.SEEK_END)
        start_size = log.tell()

        async def probe(first: int) -> tuple[list[float], list[bytes]]:
            times, statuses = [], []
            for n in range(args.probes):
                took, status = await normal(port, first + n)
                times.append(took)
                statuses.append(status)
                await asyncio.sleep(0.5)
            return times, statuses

        baseline, _ = asyncio.run(probe(0))
        slow = multiprocessing.Process(target=attacker, args=(port, args.slow), daemon=True)
        slow.start()
        time.sleep(args.hold)
        times, statuses = asyncio.run(probe(1000))
        slow.terminate()
        slow.join()
        stats = "see the attacker's lines above"
        log.seek(0, os.SEEK_END)
        log_size = log.tell() - start_size
    finally:
        server.terminate()
        server.wait(20)
    base = statistics.median(baseline)
    under = statistics.median(times)
    print(f"slow clients: {args.slow} under a {args.files}-file limit, held {args.hold:g} s; {stats}")
    print(f"normal request, baseline:      median {base * 1000:8.1f} ms")
    print(f"normal request, under attack:  median {under * 1000:8.1f} ms, max {max(times) * 1000:.1f} ms "
          f"(x{under / base:.1f} the baseline; target <= 1000 ms) statuses {sorted(set(statuses))}")
    print(f"serve's stderr during the attack: {log_size} bytes (target < 200 KB)")
    return 0 if max(times) <= 1.0 and log_size < 200_000 and all(b" 200 " in s + b" " for s in statuses) else 1


if __name__ == "__main__":
    sys.exit(main())

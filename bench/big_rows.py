"""The receiver's answers while the TUI's cursor moves over rows with 8 MiB bodies.

    .venv/bin/python bench/big_rows.py              # 60 big rows among 60 small, 15 s a phase
    .venv/bin/python bench/big_rows.py --seconds 8  # quicker

The real `InspectorApp` runs headless (`run_test(size=(160, 45))`) over a real `History`
holding --big exchanges of 8 MiB bodies, one after each small one, with its real
`Receiver` on 127.0.0.1 port 0: the TUI and the receiver share one event loop, as when
`segment-inspector` runs. A prober in its own process posts an ordinary Segment event
every 20 ms and times each answer (connect to whole answer). Three phases, each --seconds:
the cursor still (the baseline); the cursor moving down and up over the big rows, one
press every 50 ms (`j`/`k`, each selecting a row whose detail pane starts to load its
body); then one press as soon as the selected row's 8 MiB body is laid out, so every body
passed is read and drawn. The list is filtered to leave the prober's requests out
(`-event:Probe`). Prints the phases' answer times side by side. Target: the slowest
answer while moving <= 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MIB = 1024 * 1024
EVENT = (b'{"type":"track","event":"Probe","userId":"p","messageId":"probe-%d",'
         b'"timestamp":"2026-01-01T00:00:00.000Z"}')


async def probe(port: int, seconds: float) -> list[float]:
    """The prober's process: one ordinary request every 20 ms for `seconds`; each answer's time."""
    times: list[float] = []
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        started = time.perf_counter()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        body = EVENT % n
        writer.write(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Authorization: Basic c2VnbWVudDo=\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                     % (len(body), body))
        await reader.read()
        writer.close()
        times.append(time.perf_counter() - started)
        n += 1
        await asyncio.sleep(max(0.0, 0.02 - (time.perf_counter() - started)))
    return times


def fill(directory: Path, big: int) -> None:
    from inspector.core.history import History
    from tests.factories import make_event, make_exchange

    history = History(directory)
    history.start_session()
    blob = b'{"type":"track","event":"Big","userId":"u","properties":{"blob":"' + b"b" * (8 * MIB - 80) + b'"}}'
    for n in range(big):
        history.add(make_exchange(make_event(event="Small", messageId=f"s{n}")))
        history.add(make_exchange(blob.replace(b'"Big"', b'"Big%05d"' % n, 1)))
    history.close()


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return (f"{len(times):4} answers: median {statistics.median(times) * 1000:6.1f} ms, p99 {p99 * 1000:6.1f} ms, "
            f"max {max(times) * 1000:6.1f} ms")


Phase = tuple[list[float], int, int]  # answer times, keys pressed, big rows the detail pane showed


async def measure(directory: Path, big: int, seconds: float) -> tuple[list[float], Phase, Phase]:
    from textual import events

    from inspector.core.history import History
    from inspector.core.hub import Hub
    from inspector.core.policy import Policy
    from inspector.listeners import Listeners
    from inspector.receiver import Receiver
    from inspector.tui.app import InspectorApp
    from inspector.tui.widgets.detail.body import BodyView
    from inspector.tui.widgets.detail.pane import DetailPane
    from inspector.tui.widgets.exchange_list import ExchangeList

    history = History(directory).load()
    history.start_session()
    hub = Hub(history, Policy())
    app = InspectorApp(hub, receiver=Listeners(Receiver(hub, host="127.0.0.1", port=0)))
    async with app.run_test(size=(160, 45)) as pilot:
        while not app.local_url:
            await pilot.pause(0.05)
        port = int(app.local_url.rstrip("/").rsplit(":", 1)[1])
        exchanges = app.query_one(ExchangeList)
        while exchanges.row_count < 2:
            await pilot.pause(0.05)
        await pilot.press("/", *"-event:Probe", "enter")  # the prober's requests stay out of the list
        while exchanges.row_count != 2 * big:
            await pilot.pause(0.05)
        exchanges.focus()

        async def prober() -> list[float]:
            argv = [sys.executable, __file__, "--probe", str(port), str(seconds)]
            child = await asyncio.create_subprocess_exec(*argv, stdout=subprocess.PIPE)
            out, _ = await child.communicate()
            return orjson.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]

        still = await prober()
        detail = app.query_one(DetailPane)
        body = app.query_one(BodyView)

        async def move(wait_for_body: bool) -> Phase:
            """Press j (then k, at the ends) until the prober is done; each press 50 ms after the
            last, or as soon as the selected row's body is laid out."""
            shown: set[str] = set()
            presses = 0
            moving = asyncio.ensure_future(prober())
            down, key = 0, "j"
            while not moving.done():
                # As the terminal driver sends a key: `pilot.press` would wait for the whole
                # process to go idle after each key, which the prober never lets it.
                before = exchanges._selected_id
                app.post_message(events.Key(key, key))
                presses += 1
                deadline = time.perf_counter() + (30 if wait_for_body else 0.05)
                while not moving.done() and time.perf_counter() < deadline:
                    selected = exchanges.selected
                    if (wait_for_body and exchanges._selected_id != before and selected is not None
                            and detail.exchange is not None and detail.exchange.id == selected.id
                            and body.laid_out is not None):
                        break
                    await asyncio.sleep(0.01)
                if detail.exchange is not None and detail.exchange.body_size > MIB and body.laid_out is not None:
                    shown.add(detail.exchange.id)
                down += 1
                if down == 2 * big - 1:
                    down, key = 0, "k" if key == "j" else "j"
            return await moving, presses, len(shown)

        moved = await move(wait_for_body=False)
        settled = time.perf_counter() + 60  # the keys of a held j still queued are handled first
        while app._message_queue.qsize() and time.perf_counter() < settled:
            await asyncio.sleep(0.05)
        stepped = await move(wait_for_body=True)
    history.close()
    return still, moved, stepped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--big", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--probe", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        print(orjson.dumps(asyncio.run(probe(int(args.probe[0]), float(args.probe[1])))).decode())
        return 0
    work = Path(tempfile.mkdtemp(prefix="inspector-big-rows-"))
    os.environ["XDG_CONFIG_HOME"] = str(work / "config")
    try:
        started = time.perf_counter()
        fill(work / "data", args.big)
        print(f"{args.big} bodies of 8 MiB among {args.big} small events, kept in "
              f"{time.perf_counter() - started:.1f} s")
        still, (moved, pressed, passed), (stepped, steps, opened) = asyncio.run(measure(work / "data", args.big, args.seconds))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"cursor still:                  {summary(still)}")
    print(f"a press every 50 ms:           {summary(moved)}  ({pressed} presses, {passed} bodies of 8 MiB laid out)")
    print(f"a press when the body is shown: {summary(stepped)}  ({steps} presses, {opened} bodies of 8 MiB laid out)")
    worst = max(moved + stepped)
    print(f"slowest answer while moving: {worst * 1000:.0f} ms (target <= 300 ms) -> "
          + ("met" if worst <= 0.3 else "NOT met"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

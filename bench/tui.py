"""How long a key press takes to show on screen while Segment events arrive, against no traffic.

    .venv/bin/python bench/tui.py                 # 2 rounds of (no traffic, 1,000 events/s), 50 presses each
    .venv/bin/python bench/tui.py --rounds 1      # quicker, noisier
    .venv/bin/python bench/tui.py --breakdown     # also: main-thread CPU per piece of app code
    .venv/bin/py-spy record -o prof.txt -f raw -- .venv/bin/python bench/tui.py --run-case traffic
                                                  # one case in this process, e.g. under a profiler

Each case runs in its own fresh Python process (bench/tui.py --run-case ...), so the
two cases never share a heap, GC state or caches; the cases alternate, round after
round, so noise on the shared machine hits both, and the samples of all rounds are
pooled per case.

Set-up of a case: the real `InspectorApp` runs headless in-process
(`app.run_test(size=(160, 45))`) with a real `Receiver` on 127.0.0.1, port 0, and a
real `History` in a temp dir. bench/paced_loadgen.py (an aiohttp client, its own
process) first posts 300 track events (~1.1 KB, Segment's headers) to fill the list; the
cursor is put on the 150th. In the "1,000 events/s" case the same generator then posts
at a steady, paced 1,000 events/s (the n-th request due at start + n/1000 s, not as fast
as possible) from 1 s before the first press until after the last, then stops by itself;
in the "no traffic" case nothing is sent while measuring.

Key press: `pilot.press` waits for the app to go idle, so it cannot be used while
traffic flows. Instead a plain thread does what Textual's Linux driver does when a key
arrives on stdin: it builds `events.Key("j", "j")` and calls
`app._driver.process_message(event)` from outside the event loop (the driver's input
thread does exactly this; it posts the event to the app's queue with
`asyncio.run_coroutine_threadsafe`). The press time t0 is taken in that thread just
before, so it is the moment the terminal would have delivered the key, however busy the
event loop is. Presses alternate j/k (cursor down/up, so the selection moves back and
forth) about every 100 ms: the gaps are drawn uniformly from 70-130 ms (seeded, the same
in both cases), because a fixed 100 ms would lock every press to one phase of the app's
own throttle of arrivals and make a run's figures depend on that phase; each press also
waits for the previous one to be shown (or 2 s) plus 20 ms.

"Shown on screen": in headless mode Textual still composes every frame. The screen's
update timer calls `Compositor.render_update()` (which calls the widgets' `render_line`)
and passes the result, a `LayoutUpdate` or `ChopsUpdate`, to `App._display(screen,
update)`, the one place that writes a frame to the terminal (headless mode skips the
write itself). The bench replaces `app._display` on the instance with a wrapper that
calls the original, then does the work headless mode skips (`update.render_segments()`
into a truecolor console writing to nowhere, as a real driver's write path would, in
both cases alike), and then, if a press is outstanding and its action has run (the
list's selected id is no longer the one before the press), looks in that frame's own
strips: among the ExchangeList's content rows that this update repaints (for a
`ChopsUpdate`, only the spans that cover the list's left edge), is there one whose strip
at the list's left edge has the cursor's background colour (calibrated from a full
render before measuring) and contains the newly selected exchange's userId (unique per
request)? The time of the first such frame, minus t0, is the latency. It is split into
key->action (t0 to the call of `action_cursor_down/up`, timed by wrapping them on the
widget instance) and action->frame.

Also measured, per case, over the measurement window (first press to last shown): the
event-loop lag (a task in the app's loop sleeping 10 ms, reporting how much longer it
slept); frames composed per second; Python GC passes (gc.callbacks; a pass in any
thread holds the GIL, so the loop waits) and how many presses had a full (gen 2) pass
between t0 and their frame; the achieved event rate (exchanges the History gained per
second) next to what the generator reports (issued, 2xx, late = issued >10 ms after
due); and the CPU used by other processes on the machine (from /proc/stat, minus this
process and the generator), since the machine is shared.

Reading the figures: with no traffic the latency is bimodal (a press whose first frame
comes before the app has handled `ExchangeList.Selected` shows in ~9 ms; one whose frame
also repaints the detail pane takes 20-30 ms), so the idle p50 can land on either side
and the p50 ratio moves with it; the mean is printed too. The machine is shared: when
"others" CPU is high, the app's process gets less than a core and every figure worsens.

Targets: p50(traffic) <= 2 x p50(no traffic), and p95(traffic) under 100 ms.

"A new arrival is on screen" (the "arrivals" case, run after the rounds above, or alone
with `--arrivals-only`): the same prefilled list with a row selected (the newest, so
the list follows new arrivals, as it does until the user moves the cursor), and paced
traffic at --rate for --arrivals-seconds. Every arrival the hub records is timed (a hub
subscriber in the app's process, perf_counter); the frame hook reads the userIds in the
ExchangeList rows each frame repaints. An arrival counts as on screen at the first frame
that shows it or a later arrival (at 1,000 events/s most arrivals are pushed past the top
by newer ones between two frames: what matters is that the screen is not stale). Its
latency is that frame's time minus its recording time. Target: p95 <= 300 ms.

Everything stops by itself; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from inspector.core.history import History
    from inspector.tui.app import InspectorApp
    from inspector.tui.widgets.exchange_list import ExchangeList

PYTHON = sys.executable
LOADGEN = HERE / "paced_loadgen.py"
PREFILL = 300
PREFILL_RATE = 1000.0
SIZE = (160, 45)
LAG_PERIOD = 0.010
SHOW_TIMEOUT = 2.0
MIN_GAP = 0.020
JITTER = 0.3  # press gaps vary +-30%, so presses do not lock to the app's throttle of arrivals
TICKS = os.sysconf("SC_CLK_TCK")
CPUS = os.cpu_count() or 1

TARGET_RATIO = 2.0
TARGET_P95_MS = 100.0
TARGET_ARRIVAL_P95_MS = 300.0


# -- the measured process (--run-case) ---------------------------------------------


@dataclass
class Press:
    key: str
    before_id: str | None
    t_press: float
    t_action: float | None = None
    t_shown: float | None = None
    done: threading.Event = field(default_factory=threading.Event)


@dataclass
class Probe:
    """What the hooks inside the app's process record."""

    exchanges: ExchangeList
    cursor_bg: Any
    pending: Press | None = None
    frames: int = 0
    frame_bytes: int = 0
    counting: bool = False
    lags: list[float] = field(default_factory=list)
    gc_passes: list[tuple[int, float, float]] = field(default_factory=list)  # (generation, start, seconds)
    _gc_started: float = 0.0

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self.counting:
            self.gc_passes.append((info["generation"], self._gc_started, time.perf_counter() - self._gc_started))


def import_app() -> Any:
    """The app's modules; retried, as others edit the tree while benchmarks run."""
    for attempt in range(1, 4):
        try:
            from inspector.core import hub, policy
            try:
                from inspector.core.history import History  # the history package
            except ImportError:  # before it: one module, `store` (a parent commit, run side by side)
                from inspector.core.store import History  # type: ignore[no-redef]
            from inspector.receiver import Receiver
            try:  # the TUI is handed the listeners (receiver, tunnel, control API)
                from inspector.listeners import Listeners

                def receiving(hub: Any) -> Any:
                    return Listeners(Receiver(hub, port=0))
            except ImportError:  # a parent commit: the TUI is handed the receiver itself
                def receiving(hub: Any) -> Any:
                    return Receiver(hub, port=0)
            from inspector.tui import app
            from inspector.tui.widgets import exchange_list
            return argparse.Namespace(Hub=hub.Hub, Policy=policy.Policy, History=History,
                                      receiving=receiving, InspectorApp=app.InspectorApp,
                                      ExchangeList=exchange_list.ExchangeList)
        except Exception as err:  # e.g. a half-edited working tree that does not import
            if attempt == 3:
                raise
            print(f"  the app does not import (attempt {attempt}), retrying in 20 s: {type(err).__name__}: {err}",
                  file=sys.stderr, flush=True)
            for name in [m for m in sys.modules if m == "inspector" or m.startswith("inspector.")]:
                del sys.modules[name]
            time.sleep(20)
    raise AssertionError("unreachable")


def frame_shows(update: Any, probe: Probe, marker: str) -> bool:
    """Does this frame paint the list's cursor row on the exchange whose userId is `marker`?"""
    from textual._compositor import ChopsUpdate, LayoutUpdate

    exchanges = probe.exchanges
    region = exchanges.content_region
    x0 = region.x
    rows = range(region.y, region.y + region.height)
    if isinstance(update, LayoutUpdate):
        cuts = exchanges.screen._compositor.cuts
        for y in rows:
            index = y - update.region.y
            if 0 <= index < len(update.strips):
                for cut, strip in zip(cuts[y], update.strips[index]):
                    if cut == x0:
                        if _is_cursor_row(strip, probe, marker):
                            return True
                        break
        return False
    if isinstance(update, ChopsUpdate):
        for y, x1, x2 in update.spans:
            if y in rows and x1 <= x0 < x2:
                strip = update.chops[y].get(x0)
                if strip is not None and _is_cursor_row(strip, probe, marker):
                    return True
    return False


def _is_cursor_row(strip: Any, probe: Probe, marker: str) -> bool:
    for segment in strip:
        style = segment.style
        return style is not None and style.bgcolor == probe.cursor_bg and marker in strip.text
    return False


def install_hooks(app: InspectorApp, probe: Probe) -> None:
    from rich.console import Console

    term = Console(file=io.StringIO(), color_system="truecolor", force_terminal=True,
                   width=SIZE[0], height=SIZE[1], legacy_windows=False)
    original_display = app._display
    exchanges = probe.exchanges

    def display(screen: Any, renderable: Any) -> None:
        original_display(screen, renderable)
        if renderable is None or not hasattr(renderable, "render_segments"):
            return
        data = renderable.render_segments(term)  # what a real driver would write
        if probe.counting:
            probe.frames += 1
            probe.frame_bytes += len(data)
        press = probe.pending
        if press is None or press.t_shown is not None or exchanges._selected_id == press.before_id:
            return
        selected = exchanges.selected
        if selected is None or not selected.users or not selected.users[0]:
            return
        if frame_shows(renderable, probe, selected.users[0]):
            press.t_shown = time.perf_counter()
            press.done.set()

    app._display = display  # type: ignore[method-assign]

    for name in ("action_cursor_down", "action_cursor_up"):
        original = getattr(exchanges, name)

        def timed(original: Any = original) -> None:
            press = probe.pending
            if press is not None and press.t_action is None:
                press.t_action = time.perf_counter()
            original()

        setattr(exchanges, name, timed)


async def lag_probe(probe: Probe, stop: asyncio.Event) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(LAG_PERIOD)
        if probe.counting:
            probe.lags.append(time.perf_counter() - started - LAG_PERIOD)


def presser(app: InspectorApp, probe: Probe, count: int, spacing: float) -> list[Press]:
    """Runs in its own thread, like a terminal driver's input thread."""
    from textual import events

    driver = app._driver
    assert driver is not None
    presses: list[Press] = []
    rng = random.Random(count)  # the same gaps in both cases
    for i in range(count):
        if presses:
            last = presses[-1]
            due = last.t_press + spacing * rng.uniform(1 - JITTER, 1 + JITTER)
            if last.t_shown is not None:
                due = max(due, last.t_shown + MIN_GAP)
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        key = "j" if i % 2 == 0 else "k"
        press = Press(key, probe.exchanges._selected_id, time.perf_counter())
        probe.pending = press
        driver.process_message(events.Key(key, key))
        press.done.wait(SHOW_TIMEOUT)
        presses.append(press)
    probe.pending = None
    return presses


async def start_loadgen(url: str, rate: float, duration: float, tag: str,
                        until_eof: bool = False) -> asyncio.subprocess.Process:
    """The generator runs for `duration`, or with until_eof until finish_loadgen closes its stdin."""
    argv = [PYTHON, str(LOADGEN), url, "--rate", str(rate), "--duration", str(duration), "--tag", tag]
    proc = await asyncio.create_subprocess_exec(
        *argv, *(["--until-eof"] if until_eof else []),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    if line.strip() != b"STARTED":
        rest = await proc.communicate()
        raise RuntimeError(f"load generator did not start: {line!r} {rest!r}")
    return proc


async def finish_loadgen(proc: asyncio.subprocess.Process) -> dict[str, Any]:
    out, err = await asyncio.wait_for(proc.communicate(b""), 60)  # closes its stdin (until_eof: stop now)
    lines = [line for line in out.decode().splitlines() if line.startswith("BENCH_JSON ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"load generator failed ({proc.returncode}): {out!r} {err.decode()[-2000:]}")
    return orjson.loads(lines[-1][len("BENCH_JSON "):])


def cpu_ticks(pid: int | str = "self") -> int:
    """User + system clock ticks of a process (all its threads); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def machine_busy_ticks() -> int:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(values) - values[3] - values[4]  # all but idle and iowait


class Breakdown:
    """Main-thread CPU time (time.thread_time) per piece of app code, for --breakdown.

    Wraps a few methods on their classes (exclusive time: a wrapped call inside another
    is counted only once, in the inner one) and times GC passes run on the main thread.
    Adds about a microsecond per wrapped call; the latencies are a little worse with it.
    """

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.on = False
        self._stack: list[float] = []
        self._gc_started = 0.0
        self._main = threading.main_thread()
        self.total = 0.0
        self._t0 = 0.0

    def wrap(self, owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not self.on or threading.current_thread() is not self._main:
                return original(*args, **kwargs)
            started = time.thread_time()
            self._stack.append(0.0)
            try:
                return original(*args, **kwargs)
            finally:
                spent = time.thread_time() - started
                inner = self._stack.pop()
                self.cpu[label] = self.cpu.get(label, 0.0) + spent - inner
                self.calls[label] = self.calls.get(label, 0) + 1
                if self._stack:
                    self._stack[-1] += spent

        setattr(owner, name, wrapped)

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if not self.on or threading.current_thread() is not self._main:
            return
        if phase == "start":
            self._gc_started = time.thread_time()
        else:
            label = f"GC, generation {info['generation']} (wherever it falls)"
            self.cpu[label] = self.cpu.get(label, 0.0) + time.thread_time() - self._gc_started
            self.calls[label] = self.calls.get(label, 0) + 1

    def install(self) -> None:
        from textual.screen import Screen

        import inspector.receiver.app as receiver_app
        from inspector.core.hub import Hub
        from inspector.tui.app import InspectorApp
        from inspector.tui.widgets.detail.body import BodyView
        from inspector.tui.widgets.exchange_list import ExchangeList

        self.wrap(Screen, "_on_timer_update", "frame: Textual layout + compose (Screen._on_timer_update, rest)")
        self.wrap(ExchangeList, "render_line", "frame: ExchangeList.render_line")
        self.wrap(BodyView, "render_line", "frame: BodyView.render_line")
        self.wrap(InspectorApp, "_apply_notices", "InspectorApp._apply_notices (arrivals into the list)")
        self.wrap(InspectorApp, "on_exchange_list_selected", "InspectorApp.on_exchange_list_selected (DetailPane.show)")
        self.wrap(receiver_app, "received", "request: received (parse + lint)")
        self.wrap(Hub, "record", "request: Hub.record (History.add + notices)")
        gc.callbacks.append(self.on_gc)

    def start(self) -> None:
        self._t0 = time.thread_time()
        self.on = True

    def stop(self) -> None:
        self.on = False
        self.total = time.thread_time() - self._t0


async def wait_until(holds: Any, failure: Any, pause: Any = lambda: asyncio.sleep(0.05),
                     timeout: float = 30) -> None:
    """Poll `holds()` until it is true; past the deadline, raise with `failure()`."""
    deadline = time.monotonic() + timeout
    while not holds():
        if time.monotonic() > deadline:
            raise RuntimeError(failure())
        await pause()


async def wait_count(history: History, n: int) -> None:
    await wait_until(lambda: len(history) >= n, lambda: f"history holds {len(history)}, expected {n}")


async def run_case(m: Any, rate: float, presses: int, spacing: float, warmup: float, work: Path,
                   breakdown: Breakdown | None = None) -> dict[str, Any]:
    history = m.History(work).load()
    history.start_session()
    hub = m.Hub(history, m.Policy())
    app = m.InspectorApp(hub, receiver=m.receiving(hub))
    result: dict[str, Any] = {"rate": rate}
    try:
        async with app.run_test(size=SIZE) as pilot:
            url = app.local_url
            assert url.startswith("http://127.0.0.1:"), url
            await finish_loadgen(await start_loadgen(url, PREFILL_RATE, PREFILL / PREFILL_RATE, "p"))
            await wait_count(history, PREFILL)
            exchanges = app.query_one(m.ExchangeList)
            await wait_until(lambda: exchanges.row_count >= PREFILL,  # arrivals of a burst are merged, then applied
                             lambda: f"the list shows {exchanges.row_count} rows, expected {PREFILL}",
                             lambda: pilot.pause(0.02))
            assert app.focused is exchanges, app.focused
            assert exchanges.row_count == PREFILL, exchanges.row_count
            exchanges.select(exchanges._rows[PREFILL // 2].id)
            await pilot.pause()
            # The cursor's colour, from a full render of the screen as it is now.
            strips = app.screen._compositor.render_strips()
            region = exchanges.content_region
            cursor_y = region.y + exchanges._line_of(exchanges._selected_id) - exchanges.scroll_offset.y
            cursor_bg = next(iter(strips[cursor_y])).style.bgcolor
            other_bg = next(iter(strips[cursor_y + 1])).style.bgcolor
            assert cursor_bg is not None and cursor_bg != other_bg, (cursor_bg, other_bg)
            assert exchanges.selected.users[0] in strips[cursor_y].text

            probe = Probe(exchanges, cursor_bg)
            install_hooks(app, probe)
            stop = asyncio.Event()
            lag_task = asyncio.create_task(lag_probe(probe, stop))
            load = None
            if rate:
                # Closed right after the last press; the duration only bounds it if we never get there.
                longest = warmup + presses * (spacing * (1 + JITTER) + SHOW_TIMEOUT) + 5
                load = await start_loadgen(url, rate, longest, "t", until_eof=True)
            await asyncio.sleep(warmup)

            n0, t0 = len(history), time.perf_counter()
            busy0, self0 = machine_busy_ticks(), cpu_ticks()
            gen0 = cpu_ticks(load.pid) if load is not None else 0
            gc.callbacks.append(probe.on_gc)
            probe.counting = True
            if breakdown is not None:
                breakdown.start()
            done = await asyncio.get_running_loop().run_in_executor(None, presser, app, probe, presses, spacing)
            probe.counting = False
            if breakdown is not None:
                breakdown.stop()
            gc.callbacks.remove(probe.on_gc)
            n1, t1 = len(history), time.perf_counter()
            busy1, self1 = machine_busy_ticks(), cpu_ticks()
            gen1 = max(gen0, cpu_ticks(load.pid)) if load is not None else 0
            stop.set()
            await lag_task
            if load is not None:
                result["loadgen"] = await finish_loadgen(load)
            await asyncio.sleep(0.3)
            await pilot.pause()
    finally:
        history.close()
    seconds = t1 - t0
    capacity = seconds * TICKS * CPUS / 100  # ticks per percent of the whole machine
    result.update(
        presses=[(p.key, p.t_press, p.t_action, p.t_shown) for p in done], seconds=seconds,
        events_per_s=(n1 - n0) / seconds, lags=probe.lags, frames=probe.frames,
        frame_bytes=probe.frame_bytes, gc_passes=probe.gc_passes, history=len(history),
        cpu_self_pct=(self1 - self0) / capacity, cpu_loadgen_pct=(gen1 - gen0) / capacity,
        cpu_others_pct=max(0.0, (busy1 - busy0) - (self1 - self0) - (gen1 - gen0)) / capacity)
    if breakdown is not None:
        result["breakdown"] = {"total": breakdown.total, "cpu": breakdown.cpu, "calls": breakdown.calls}
    return result


async def run_arrivals(m: Any, rate: float, seconds: float, work: Path) -> dict[str, Any]:
    """Time from each arrival's recording to the first frame that shows it or a newer one."""
    from textual._compositor import ChopsUpdate, LayoutUpdate

    history = m.History(work).load()
    history.start_session()
    hub = m.Hub(history, m.Policy())
    app = m.InspectorApp(hub, receiver=m.receiving(hub))
    recorded: dict[str, tuple[int, float]] = {}  # userId -> (arrival number, when recorded)
    times: list[float] = []
    shown_up_to = -1
    latencies: list[float] = []
    measuring = False

    def on_notice(notice: Any) -> None:
        if measuring and notice.kind == "recorded" and notice.exchange.body:
            summary = notice.summary
            if summary is not None and summary.users and summary.users[0]:
                recorded[summary.users[0]] = (len(times), time.perf_counter())
                times.append(recorded[summary.users[0]][1])

    try:
        async with app.run_test(size=SIZE) as pilot:
            url = app.local_url
            await finish_loadgen(await start_loadgen(url, PREFILL_RATE, PREFILL / PREFILL_RATE, "p"))
            await wait_count(history, PREFILL)
            await asyncio.sleep(0.3)
            await pilot.pause()
            exchanges = app.query_one(m.ExchangeList)
            exchanges.action_newest()
            await pilot.pause()
            assert exchanges.selected is not None and exchanges.following
            unsubscribe = hub.subscribe(on_notice)
            original_display = app._display

            def display(screen: Any, update: Any) -> None:
                nonlocal shown_up_to
                original_display(screen, update)
                region = exchanges.content_region
                rows = range(region.y, region.y + region.height)
                if isinstance(update, LayoutUpdate):
                    texts = [update.strips[y - update.region.y].text for y in rows
                             if 0 <= y - update.region.y < len(update.strips)]
                elif isinstance(update, ChopsUpdate):
                    texts = [strip.text for y, chops in enumerate(update.chops) if y in rows
                             for strip in chops.values() if strip is not None]
                else:
                    return
                newest = max((recorded[word][0] for text in texts for word in text.split() if word in recorded),
                             default=-1)
                if newest > shown_up_to:
                    now = time.perf_counter()
                    latencies.extend((now - times[n]) * 1000 for n in range(shown_up_to + 1, newest + 1))
                    shown_up_to = newest

            app._display = display  # type: ignore[method-assign]
            measuring = True
            load = await start_loadgen(url, rate, seconds, "a")
            result = {"loadgen": await finish_loadgen(load)}
            await asyncio.sleep(1.0)  # the last arrivals reach the screen
            await pilot.pause()
            measuring = False
            unsubscribe()
    finally:
        history.close()
    result.update(latencies=latencies, recorded=len(times), shown=shown_up_to + 1, seconds=seconds)
    return result


# -- the driver: one process per case, report -----------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def press_figures(r: dict[str, Any]) -> dict[str, list[float]]:
    shown = [p for p in r["presses"] if p[3] is not None]
    full_gcs = [(start, start + d) for g, start, d in r["gc_passes"] if g == 2]
    return {
        "total": [(s - t) * 1000 for _, t, _, s in shown],
        "to_action": [(a - t) * 1000 for _, t, a, s in shown if a is not None],
        "to_frame": [(s - a) * 1000 for _, t, a, s in shown if a is not None],
        "with_full_gc": [1.0 for _, t, _, s in shown if any(g0 < s and g1 > t for g0, g1 in full_gcs)],
    }


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    figures: dict[str, list[float]] = {"total": [], "to_action": [], "to_frame": [], "with_full_gc": []}
    for r in runs:
        for k, v in press_figures(r).items():
            figures[k] += v
    total = figures["total"]
    seconds = sum(r["seconds"] for r in runs)
    lags = [lag * 1000 for r in runs for lag in r["lags"]]
    passes = [p for r in runs for p in r["gc_passes"]]
    s = {"presses": sum(len(r["presses"]) for r in runs), "shown": len(total),
         "p50": percentile(total, 0.5), "p95": percentile(total, 0.95), "max": max(total, default=float("nan")),
         "mean": statistics.fmean(total) if total else float("nan"),
         "action_p50": percentile(figures["to_action"], 0.5), "action_p95": percentile(figures["to_action"], 0.95),
         "frame_p50": percentile(figures["to_frame"], 0.5), "frame_p95": percentile(figures["to_frame"], 0.95),
         "with_full_gc": len(figures["with_full_gc"]),
         "lag_p50": percentile(lags, 0.5), "lag_p95": percentile(lags, 0.95), "lag_max": max(lags, default=0.0),
         "eps": sum(r["events_per_s"] * r["seconds"] for r in runs) / seconds,
         "fps": sum(r["frames"] for r in runs) / seconds,
         "kb_frame": sum(r["frame_bytes"] for r in runs) / max(1, sum(r["frames"] for r in runs)) / 1024,
         "gc_per_s": len(passes) / seconds,
         "gc2_per_s": sum(1 for g, _, _ in passes if g == 2) / seconds,
         "gc2_max": max((d * 1000 for g, _, d in passes if g == 2), default=0.0),
         "gc_ms_per_s": sum(d * 1000 for _, _, d in passes) / seconds,
         "cpu_self": sum(r["cpu_self_pct"] * r["seconds"] for r in runs) / seconds,
         "cpu_loadgen": sum(r["cpu_loadgen_pct"] * r["seconds"] for r in runs) / seconds,
         "cpu_others": sum(r["cpu_others_pct"] * r["seconds"] for r in runs) / seconds,
         "history": max(r["history"] for r in runs)}
    gens = [r["loadgen"] for r in runs if "loadgen" in r]
    if gens:
        s["gen"] = {k: sum(g[k] for g in gens) for k in ("issued", "completed", "ok", "non2xx", "errors", "late")}
        s["gen"]["early"] = sum(g.get("stopped_by") != "stdin closed" for g in gens)
        s["gen"]["rate"] = sum(g["issued"] for g in gens) / sum(g["seconds"] for g in gens)
    return s


def run_child(case: str, args: argparse.Namespace) -> dict[str, Any]:
    argv = [PYTHON, str(Path(__file__).resolve()), "--run-case", case, "--presses", str(args.presses),
            "--spacing", str(args.spacing), "--rate", str(args.rate), "--warmup", str(args.warmup),
            "--arrivals-seconds", str(args.arrivals_seconds)]
    if args.breakdown:
        argv.append("--breakdown")
    out = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    lines = [line for line in out.stdout.splitlines() if line.startswith("CASE_JSON ")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"{case} run failed ({out.returncode}):\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    sys.stderr.write(out.stderr)  # import retries, if any
    return orjson.loads(lines[-1][len("CASE_JSON "):])


def report(results: dict[str, list[dict[str, Any]]], args: argparse.Namespace) -> None:
    idle, traffic = summarize(results["idle"]), summarize(results["traffic"])
    cases = (("no traffic", idle), (f"{args.rate:,.0f} events/s", traffic))
    print()
    print(f"Key press -> first frame showing the cursor on the newly selected exchange (ms; "
          f"{len(results['idle'])} round(s) pooled)")
    head = (f"{'case':<16} | {'shown':>7} | {'p50':>6} | {'p95':>6} | {'max':>6} | {'mean':>6} | "
            f"{'key->action p50/p95':>19} | {'action->frame p50/p95':>21} | {'presses with a full GC':>22}")
    print(head)
    print("-" * len(head))
    for label, s in cases:
        print(f"{label:<16} | {s['shown']:>3}/{s['presses']:<3} | {s['p50']:>6.1f} | {s['p95']:>6.1f} | "
              f"{s['max']:>6.1f} | {s['mean']:>6.1f} | {s['action_p50']:>8.1f} / {s['action_p95']:>8.1f} | "
              f"{s['frame_p50']:>9.1f} / {s['frame_p95']:>9.1f} | {s['with_full_gc']:>22}")
    print()
    print("The app's process over the same windows (first press to last frame)")
    head = (f"{'case':<16} | {'events/s':>8} | {'loop lag p50/p95/max ms':>23} | {'frames/s':>8} | {'KB/frame':>8} | "
            f"{'GC passes/s':>11} | {'full GC/s':>9} | {'full GC max ms':>14} | {'GC ms/s':>7} | "
            f"{'CPU app/gen/others':>18}")
    print(head)
    print("-" * len(head))
    for label, s in cases:
        print(f"{label:<16} | {s['eps']:>8,.0f} | {s['lag_p50']:>6.1f} / {s['lag_p95']:>5.1f} / {s['lag_max']:>6.1f} | "
              f"{s['fps']:>8.1f} | {s['kb_frame']:>8.1f} | {s['gc_per_s']:>11.0f} | {s['gc2_per_s']:>9.2f} | "
              f"{s['gc2_max']:>14.1f} | {s['gc_ms_per_s']:>7.0f} | "
              f"{s['cpu_self']:>4.0f}% /{s['cpu_loadgen']:>3.0f}% /{s['cpu_others']:>3.0f}%")
    print(f"(CPU: % of the machine's {CPUS} cores used by the app's process, the load generator, "
          f"and every other process)")
    if "gen" in traffic:
        g = traffic["gen"]
        print(f"load generator: issued {g['issued']:,} at {g['rate']:,.0f}/s, {g['ok']:,} 2xx, {g['non2xx']} other, "
              f"{g['errors']} errors, {g['late']:,} issued >10 ms late; history ended at {traffic['history']:,}"
              + (f"; in {g['early']} run(s) the traffic stopped BEFORE the last press" if g["early"] else ""))
    print()
    ratio = traffic["p50"] / idle["p50"]
    print(f"ratio p50(traffic)/p50(idle): {ratio:.2f}   p95: {idle['p95']:.1f} -> {traffic['p95']:.1f} ms "
          f"(ratio {traffic['p95'] / idle['p95']:.2f})   mean: {idle['mean']:.1f} -> {traffic['mean']:.1f} ms "
          f"(ratio {traffic['mean'] / idle['mean']:.2f})")
    print("Targets:")
    print(f"  p50 ratio <= {TARGET_RATIO:g}: {ratio:.2f} -> " + ("met" if ratio <= TARGET_RATIO else "NOT met"))
    print(f"  p95 under traffic < {TARGET_P95_MS:.0f} ms: {traffic['p95']:.1f} ms -> "
          + ("met" if traffic["p95"] < TARGET_P95_MS else "NOT met"))
    missing = idle["presses"] - idle["shown"] + traffic["presses"] - traffic["shown"]
    print(f"  every press shown within {SHOW_TIMEOUT:g} s: " + ("yes" if not missing else f"NO, {missing} never shown"))
    held = traffic["eps"] >= 0.95 * args.rate
    print(f"  traffic held at {args.rate:,.0f}/s (>= 95%): {traffic['eps']:,.0f}/s -> " + ("yes" if held else "NO"))
    if args.breakdown:
        print_breakdown(results, args)
    if max(idle["cpu_others"], traffic["cpu_others"]) > 15:
        print(f"  note: other processes used up to {max(idle['cpu_others'], traffic['cpu_others']):.0f}% of the "
              f"machine during the runs: the figures are noisier than usual")


def print_breakdown(results: dict[str, list[dict[str, Any]]], args: argparse.Namespace) -> None:
    print()
    print("Main-thread CPU per piece of code over the windows "
          "(--breakdown; exclusive times, ms per second of wall time)")
    rows: dict[str, dict[str, float]] = {}
    columns = []
    for case, label in (("idle", "no traffic"), ("traffic", f"{args.rate:,.0f} events/s")):
        runs = [r for r in results[case] if "breakdown" in r]
        seconds = sum(r["seconds"] for r in runs)
        columns.append(label)
        for r in runs:
            for name, cpu in r["breakdown"]["cpu"].items():
                rows.setdefault(name, {})[label] = rows.get(name, {}).get(label, 0.0) + cpu * 1000 / seconds
        total = sum(r["breakdown"]["total"] for r in runs) * 1000 / seconds
        named = sum(v.get(label, 0.0) for k, v in rows.items() if not k.startswith("GC"))
        rows.setdefault("everything else (aiohttp, message pumps, key dispatch, timers)", {})[label] = total - named
        rows.setdefault("TOTAL main thread", {})[label] = total
    order = sorted((k for k in rows if k != "TOTAL main thread"), key=lambda k: -rows[k].get(columns[-1], 0.0))
    print(f"{'':<72} | " + " | ".join(f"{c:>16}" for c in columns))
    for name in order + ["TOTAL main thread"]:
        print(f"{name:<72} | " + " | ".join(f"{rows[name].get(c, 0.0):>16.1f}" for c in columns))
    print("(GC is timed separately and may fall inside the other rows; the total is the main thread's own CPU time)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presses", type=int, default=50, help="key presses per case and round (default 50)")
    parser.add_argument("--spacing", type=float, default=0.1, help="mean seconds between presses (default 0.1)")
    parser.add_argument("--rate", type=float, default=1000.0, help="events/s in the traffic case (default 1000)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of (no traffic, traffic) (default 2)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of traffic before pressing (default 1)")
    parser.add_argument("--breakdown", action="store_true",
                        help="also time the main thread's CPU per piece of app code (slightly perturbs the latencies)")
    parser.add_argument("--arrivals-seconds", type=float, default=10.0,
                        help="seconds of traffic in the arrivals case (default 10)")
    parser.add_argument("--arrivals-only", action="store_true", help="run only the arrivals case")
    parser.add_argument("--run-case", choices=("idle", "traffic", "arrivals"),
                        help="run one case in this process and print CASE_JSON (used by the driver; for profilers)")
    args = parser.parse_args()

    if args.run_case == "arrivals":
        work = Path(tempfile.mkdtemp(prefix="inspector-tui-bench-"))
        try:
            r = asyncio.run(run_arrivals(import_app(), args.rate, args.arrivals_seconds, work))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print("CASE_JSON " + orjson.dumps(r).decode(), flush=True)
        return 0
    if args.run_case:
        modules = import_app()
        breakdown = Breakdown() if args.breakdown else None
        if breakdown is not None:
            breakdown.install()
        work = Path(tempfile.mkdtemp(prefix="inspector-tui-bench-"))
        try:
            rate = args.rate if args.run_case == "traffic" else 0.0
            r = asyncio.run(run_case(modules, rate, args.presses, args.spacing, args.warmup, work, breakdown))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        f = press_figures(r)
        print(f"{args.run_case}: {len(f['total'])}/{len(r['presses'])} shown, p50 {percentile(f['total'], .5):.1f} ms, "
              f"p95 {percentile(f['total'], .95):.1f} ms, max {max(f['total'], default=float('nan')):.1f} ms; "
              f"{r['events_per_s']:,.0f} events/s; loop lag p95 {percentile(r['lags'], .95) * 1000:.1f} ms; "
              f"others' CPU {r['cpu_others_pct']:.0f}%", flush=True)
        print("CASE_JSON " + orjson.dumps(r).decode(), flush=True)
        return 0

    print(f"segment-inspector TUI key latency: {args.presses} j/k presses ~{args.spacing * 1000:.0f} ms apart "
          f"per case, {args.rounds} round(s) of (no traffic, {args.rate:,.0f} events/s paced by "
          f"bench/paced_loadgen.py); app {SIZE[0]}x{SIZE[1]} headless, one process per case, list prefilled "
          f"with {PREFILL}", flush=True)
    results: dict[str, list[dict[str, Any]]] = {"idle": [], "traffic": []}
    for n in range(1, 0 if args.arrivals_only else args.rounds + 1):
        for case in ("idle", "traffic"):
            r = run_child(case, args)
            results[case].append(r)
            f = press_figures(r)
            print(f"  round {n} {case:<7}: {len(f['total'])}/{len(r['presses'])} shown, p50 "
                  f"{percentile(f['total'], .5):6.1f} ms, p95 {percentile(f['total'], .95):6.1f} ms; "
                  f"{r['events_per_s']:5,.0f} events/s into the history; loop lag p95 "
                  f"{percentile(r['lags'], .95) * 1000:5.1f} ms; others' CPU {r['cpu_others_pct']:3.0f}%", flush=True)
    if not args.arrivals_only:
        report(results, args)
    report_arrivals(run_child("arrivals", args), args)
    return 0


def report_arrivals(r: dict[str, Any], args: argparse.Namespace) -> None:
    lat = r["latencies"]
    g = r["loadgen"]
    print()
    print(f"A new arrival is on screen (ms from its recording to the first frame showing it or a newer one), "
          f"a row selected, {args.rate:,.0f} events/s for {r['seconds']:g} s")
    print(f"  arrivals recorded {r['recorded']:,}, caught up on screen {r['shown']:,}; "
          f"p50 {percentile(lat, .5):.1f}  p95 {percentile(lat, .95):.1f}  max {max(lat, default=float('nan')):.1f}; "
          f"generator issued {g['issued']:,} at {g['issued'] / g['seconds']:,.0f}/s, {g['ok']:,} 2xx")
    p95 = percentile(lat, .95)
    print(f"  target p95 <= {TARGET_ARRIVAL_P95_MS:.0f} ms: " + ("met" if p95 <= TARGET_ARRIVAL_P95_MS else "NOT met")
          + ("" if r["shown"] == r["recorded"] else f"; {r['recorded'] - r['shown']} never caught up"))


if __name__ == "__main__":
    sys.exit(main())

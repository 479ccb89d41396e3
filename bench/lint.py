"""How fast the Spec linter runs, next to plain json.loads of the same bytes.

The corpus of Segment's endpoint tester (placeholders filled) is repeated to 10,000
events. Both sides parse every event's bytes with json.loads; the linter side also
lints it, as the receiver does for every request. Prints events/s for both and their
ratio (target: at least 0.25). Rounds alternate so machine noise hits both sides.

    .venv/bin/python bench/lint.py
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inspector.core.checks import lint  # noqa: E402
from inspector.core.templates import fill  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "direct-integration-tester"
COUNT = 10_000
ROUNDS = 7


def corpus_bytes() -> list[bytes]:
    rng = random.Random(1)
    lines = [line for path in sorted(CORPUS.glob("*.log")) for line in path.read_text().splitlines()
             if line.strip()]
    return [fill(lines[n % len(lines)], rng).encode() for n in range(COUNT)]


def parse_only(bodies: list[bytes], now: float) -> None:
    for body in bodies:
        json.loads(body)


def parse_and_lint(bodies: list[bytes], now: float) -> None:
    for body in bodies:
        lint(json.loads(body), now=now)


def rate(function, bodies: list[bytes]) -> float:
    now = time.time()
    started = time.perf_counter()
    function(bodies, now)
    return len(bodies) / (time.perf_counter() - started)


def main() -> None:
    bodies = corpus_bytes()
    parse_and_lint(bodies[:500], time.time())  # warm up
    plain, linted = [], []
    for _ in range(ROUNDS):
        plain.append(rate(parse_only, bodies))
        linted.append(rate(parse_and_lint, bodies))
    p, l = statistics.median(plain), statistics.median(linted)
    size = sum(map(len, bodies)) / len(bodies)
    print(f"{COUNT} events of Segment's tester corpus, {size:.0f} bytes on average, median of {ROUNDS} rounds")
    print(f"json.loads           {p:>10,.0f} events/s")
    print(f"json.loads + lint    {l:>10,.0f} events/s")
    print(f"ratio                {l / p:>10.2f}   (target >= 0.25)")


if __name__ == "__main__":
    main()

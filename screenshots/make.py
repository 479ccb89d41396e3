"""Render the README's screenshots from the real app, so they never drift from what it shows.

Each picture is the TUI running headless over the fixed scene in tests/tui/scenes.py
(the same one the snapshot tests compare), driven to the screen it shows and saved as
SVG next to this script. Run it from anywhere:

    .venv/bin/python screenshots/make.py [NAME ...]

with no NAME, every picture is made: main, findings, headers, held, answer, rules, search,
help, tester, delivery, and narrow (the main screen in an 80x24 terminal).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SIZE = (160, 45)
# Pictures of a scene at another terminal size: name -> (scene, size).
RESIZED = {"narrow": ("main", (80, 24))}

os.environ["TEXTUAL_ANIMATIONS"] = "none"
sys.path.insert(0, str(ROOT))

from tests.tui.scenes import SHOTS, make_scene_app, use_utc  # noqa: E402


async def render(name: str) -> Path:
    """Run the app over a fresh copy of the scene, go to the picture's screen, save it."""
    scene, size = RESIZED.get(name, (name, SIZE))
    shot = SHOTS[scene]
    with tempfile.TemporaryDirectory(prefix="inspector-scene-") as directory:
        app = make_scene_app(directory, held=shot.held)
        try:
            async with app.run_test(size=size) as pilot:
                await shot.setup(pilot)
                app.save_screenshot(f"{name}.svg", path=str(HERE))
        finally:
            app.hub.history.close()
    return HERE / f"{name}.svg"


def main(names: list[str]) -> int:
    every = [*SHOTS, *RESIZED]
    unknown = [name for name in names if name not in every]
    if unknown:
        print(f"unknown picture {', '.join(unknown)}; choose from {', '.join(every)}", file=sys.stderr)
        return 2
    use_utc()
    for name in names or every:
        print(asyncio.run(render(name)).relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

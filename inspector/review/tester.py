"""Segment's endpoint-tester templates, shipped in `templates/` (MIT, see its NOTICE.md): the
events the review sends by default, `{{placeholders}}` filled each time."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..core.files import read_events
from ..core.templates import fill

TEMPLATES = Path(__file__).parent / "templates"


def templates_of(paths: Iterable[str] = ()) -> tuple[str, ...]:
    """The texts of the tester's template files (a directory means its *.log files); with no
    paths, those shipped in `templates/`.

    OSError for a file that cannot be read, UnreadableError for one whose lines are not
    JSON once filled: both before anything is sent.
    """
    texts = []
    for name in list(paths) or [str(TEMPLATES)]:
        path = Path(name).expanduser()
        files = sorted(path.glob("*.log")) if path.is_dir() else [path]
        for file in files:
            text = file.read_text("utf-8", "replace")
            read_events(fill(text).encode(), str(file))
            texts.append(text)
    return tuple(texts)

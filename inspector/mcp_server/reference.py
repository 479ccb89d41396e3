"""What each finding code means, for an agent reading a finding: docs/checks.md, shipped in the
package as checks.md (a test keeps the two the same), one entry a code."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

COLUMNS = ("code", "severity", "why", "means", "bad", "good", "link")


@cache
def document() -> str:
    """The whole reference: how severities are chosen, then every code by section."""
    return (files(__package__) / "checks.md").read_text(encoding="utf-8")


@cache
def entries() -> dict[str, str]:
    """Each code's row of the reference, as a short Markdown page of its own."""
    found: dict[str, str] = {}
    section = ""
    for line in document().splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != len(COLUMNS) or not cells[0].strip("`")[-1:].isdigit():
            continue  # a header, a rule, or a row of another table
        row = dict(zip(COLUMNS, cells, strict=True))
        code = row["code"].strip("`")
        found[code] = "\n\n".join((
            f"# {code} ({row['severity']})", f"Section: {section}", f"What it means: {row['means']}",
            f"Why this severity: {row['why']}", f"Bad: {row['bad']}", f"Good: {row['good']}",
            f"Segment's docs: {row['link']}"))
    return found

"""The house's shape, checked: which package may import which, and no module over 500 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "inspector"
MOST_LINES = 500

# A package and what it must never import: the core knows no terminal, HTTP server or CLI;
# nothing below the UIs knows the TUI or the command line.
FORBIDDEN = {
    "core": ("textual", "rich", "aiohttp", "inspector.cli", "inspector.tui", "inspector.receiver"),
    "review": ("textual", "inspector.cli", "inspector.tui"),
    "local_segment": ("textual", "inspector.cli", "inspector.tui"),
    "receiver": ("textual", "inspector.cli", "inspector.tui"),
    "delivery": ("textual", "inspector.cli", "inspector.tui"),
    "control": ("textual", "inspector.cli", "inspector.tui"),
}


def imported(path: Path) -> set[str]:
    """Every module a file imports, relative imports made absolute."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module.removesuffix(".__init__")
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                names.add(".".join([*base, node.module] if node.module else base))
            elif node.module:
                names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_what_each_package_never_imports(package):
    found = [f"{path.relative_to(PACKAGE.parent)} imports {name}"
             for path in sorted((PACKAGE / package).rglob("*.py")) for name in sorted(imported(path))
             if any(name == banned or name.startswith(banned + ".") for banned in FORBIDDEN[package])]
    assert found == []


def test_no_module_is_over_500_lines():
    long = {str(path.relative_to(PACKAGE.parent)): lines for path in sorted(PACKAGE.rglob("*.py"))
            if (lines := len(path.read_text().splitlines())) > MOST_LINES}
    assert long == {}

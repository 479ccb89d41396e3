"""What the package promises about itself: which layers import what, a complete check
registry, and the pyngrok internals the tunnel relies on."""

from __future__ import annotations

import pkgutil
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import inspector

PYTHON = sys.executable
SOURCE = Path(inspector.__file__).parent
UI_LIBRARIES = ("textual", "rich")
NETWORK_LIBRARIES = ("aiohttp", "pyngrok")


def headless_modules() -> list[str]:
    """Every module of the package but the TUI's (and `__main__`, which runs the program)."""
    names = [m.name for m in pkgutil.walk_packages(inspector.__path__, "inspector.")]
    return sorted(name for name in ["inspector", *names]
                  if not name.startswith("inspector.tui") and not name.endswith("__main__"))


def imported_after(module: str, before: str = "") -> tuple[int, set[str], str]:
    """The top-level packages in sys.modules once `module` alone is imported in a fresh interpreter."""
    code = (f"{before}\nimport importlib, sys\nimportlib.import_module({module!r})\n"
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n")
    result = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=120)
    return result.returncode, set(result.stdout.split()), result.stderr


def test_the_walk_finds_the_headless_layers():
    modules = headless_modules()
    for expected in ("inspector.cli.serve", "inspector.cli.factory", "inspector.core.checks.request",
                     "inspector.core.exporters.har", "inspector.receiver.server", "inspector.tunnel"):
        assert expected in modules
    assert not [m for m in modules if m.startswith("inspector.tui")]


def test_headless_modules_never_import_textual_and_the_core_no_network_library():
    modules = headless_modules()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(modules, pool.map(imported_after, modules), strict=False))
    problems = []
    for module, (code, loaded, err) in results.items():
        if code != 0:
            problems.append(f"{module}: import failed: {err.strip().splitlines()[-1:]}")
            continue
        forbidden = UI_LIBRARIES + (NETWORK_LIBRARIES if module.startswith("inspector.core") else ())
        problems += [f"{module} imports {name}" for name in forbidden if name in loaded]
    assert problems == []


@pytest.mark.parametrize("library", UI_LIBRARIES + NETWORK_LIBRARIES)
def test_the_import_check_sees_each_forbidden_library(library):
    code, loaded, err = imported_after("inspector.core.model", before=f"import {library}")
    assert code == 0, err
    assert library in loaded


def _registered(imports: str) -> set[str]:
    code = f"{imports}\nfrom inspector.core.checks import CHECKS\nprint(' '.join(sorted(CHECKS)))\n"
    result = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def test_the_check_registry_is_complete_whatever_is_imported():
    alone = _registered("")
    everything = _registered("import importlib\n" + "".join(
        f"importlib.import_module({m!r})\n" for m in [*headless_modules(), "inspector.tui.app"]))
    assert alone == everything
    named = set()  # every code the source names in a string, wherever it is raised from
    for path in SOURCE.rglob("*.py"):
        named |= set(re.findall(r"""["']([A-Z]{3,4}\d{3})["']""", path.read_text(encoding="utf-8")))
    assert {"AUTH001", "HDR001", "REQ001", "INSP001", "SPEC001"} <= named
    assert named <= alone, sorted(named - alone)
    assert {code.rstrip("0123456789") for code in alone} >= {"AUTH", "HDR", "REQ", "INSP", "SPEC", "ANS"}


def test_pyngrok_still_has_the_internals_the_tunnel_uses():
    """tunnel.py finds the agent pyngrok is starting and forgets a dead tunnel through these."""
    from pyngrok import ngrok, process

    assert isinstance(process._current_processes, dict)
    assert isinstance(ngrok._current_tunnels, dict)
    tunnel_source = (SOURCE / "tunnel.py").read_text(encoding="utf-8")
    used = set(re.findall(r"\b(?:process|ngrok)\._[a-z_]+", tunnel_source))
    assert used == {"process._current_processes", "ngrok._current_tunnels"}

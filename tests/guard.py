"""The suite fails if a test reaches for a file outside the checkout.

A test that reads a folder beside the checkout passes on the machine it was written on and fails on a fresh
clone with nothing beside it. An audit hook (`sys.addaudithook`) sees every `open`, directory
listing, glob, file removal and rename, and the working directory of every subprocess, while
pytest collects and runs the tests; a path outside the places a test may use is recorded
against the test (or the module being collected) and named at the end of the run, which then
fails. The places: the checkout, pytest's temp directory (where `tempfile` is pointed too),
the Python installation and virtual environment, and the system's directories. A sibling of
the checkout is outside even when the checkout itself lives in the temp directory.
"""

from __future__ import annotations

import os
import site
import sys
import sysconfig
import tempfile
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NODE_CLIENTS = ROOT / ".ci" / "node_clients"  # Segment's Node SDK, installed by .ci/run
SYSTEM = ("/dev", "/proc", "/sys", "/etc", "/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/run",
          "/var/lib", "/var/cache")
# Audit events and the positions of their path arguments.
WATCHED = {"open": (0,), "os.listdir": (0,), "os.scandir": (0,), "glob.glob": (0,), "glob.glob/2": (0, 2),
           "os.mkdir": (0,), "os.remove": (0,), "os.rmdir": (0,), "os.rename": (0, 1),
           "shutil.copyfile": (0, 1), "shutil.rmtree": (0,), "subprocess.Popen": (2,)}


class Guard:
    """Which paths outside the allowed places were touched, by test."""

    def __init__(self, temp: Path) -> None:
        self.first = [str(ROOT), str(NODE_CLIENTS), str(temp)]  # inside the checkout's parent, yet allowed
        self.sibling = str(ROOT.parent)
        python = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                  *sysconfig.get_paths().values(), *site.getsitepackages(), site.getusersitepackages()}
        self.then = sorted({*python, *(os.path.realpath(path) for path in python), *SYSTEM,
                            tempfile.gettempdir()})
        self.where = "collection"
        self.found: dict[str, set[str]] = defaultdict(set)
        self.judged: dict[str, bool] = {}

    def allowed(self, path: str) -> bool:
        known = self.judged.get(path)
        if known is None:
            known = self.judged[path] = _under(path, self.first) or (
                not _under(path, [self.sibling]) and _under(path, self.then))
        return known

    def hook(self, event: str, args: tuple[object, ...]) -> None:
        positions = WATCHED.get(event)
        if positions is None:
            return
        for index in positions:
            value = args[index] if index < len(args) else None
            if isinstance(value, int) or value is None:  # a file descriptor, or the working directory
                continue
            try:
                path = os.fsdecode(value)  # type: ignore[call-overload]
            except TypeError:
                continue
            if not os.path.isabs(path):
                path = os.path.join(os.getcwd(), path)
            path = os.path.normpath(path)
            if not self.allowed(path):
                self.found[self.where].add(path)


def _under(path: str, places: list[str]) -> bool:
    return any(path == place or path.startswith(place.rstrip("/") + "/") for place in places)


_guard: Guard | None = None


@pytest.hookimpl(trylast=True)  # after pytest's temp directory is set up
def pytest_configure(config: pytest.Config) -> None:
    global _guard
    if _guard is not None:
        return
    factory = getattr(config, "_tmp_path_factory", None)
    base = factory.getbasetemp() if factory is not None else Path(tempfile.mkdtemp())
    temp = base / "tmp"  # what tempfile hands out lives in pytest's temp directory
    temp.mkdir(exist_ok=True)
    tempfile.tempdir = os.environ["TMPDIR"] = str(temp)
    _guard = Guard(base.parent)
    sys.addaudithook(_guard.hook)  # an audit hook cannot be removed: it checks `_guard` each time


@pytest.hookimpl(wrapper=True)
def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> object:
    if _guard is not None:
        _guard.where = f"collecting {file_path.relative_to(ROOT) if file_path.is_relative_to(ROOT) else file_path}"
    return (yield)


def pytest_runtest_logstart(nodeid: str) -> None:
    if _guard is not None:
        _guard.where = nodeid


def pytest_runtest_logfinish(nodeid: str) -> None:
    if _guard is not None:
        _guard.where = "between tests"


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    if _guard is not None and _guard.found:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _guard is None or not _guard.found:
        return
    terminalreporter.section("paths outside the checkout", sep="=", red=True, bold=True)
    for where, paths in sorted(_guard.found.items()):
        for path in sorted(paths):
            terminalreporter.line(f"{where}: {path}", red=True)
    terminalreporter.line("Tests use only the checkout, pytest's temp directory and the Python installation: "
                          "put what they need in the repository (tests/data).", bold=True)

"""A fake ngrok agent per test (its own path and config: pyngrok keys agents by path)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from inspector.core.history import History
from inspector.core.hub import Hub, TunnelState
from inspector.core.policy import Policy
from inspector.tunnel import Timing, Tunnel

FAKE = Path(__file__).with_name("fake_ngrok.py")
# Short waits, so that each failure shows within a test's few seconds.
FAST = Timing(start=3.0, call=1.0, poll=0.2, first_retry=0.2, max_retry=1.0, stable=30.0)


def install_fake_ngrok(directory: Path) -> Path:
    """The fake agent as an executable `ngrok` whose #! line is this Python."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "ngrok"
    path.write_text(f"#!{sys.executable}\n" + FAKE.read_text(encoding="utf-8"), encoding="utf-8")
    path.chmod(0o755)
    return path


class Agent:
    """What the fake agents of one test did: every run's pid and arguments."""

    def __init__(self, path: Path, record: Path) -> None:
        self.path = path
        self.record = record

    def runs(self) -> list[dict]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture
def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Agent:
    record = tmp_path / "agent-runs.jsonl"
    monkeypatch.setenv("FAKE_NGROK_RECORD", str(record))
    monkeypatch.delenv("NGROK_AUTHTOKEN", raising=False)
    for name in ("FAKE_NGROK_MODE", "FAKE_NGROK_DROP_AFTER"):
        monkeypatch.delenv(name, raising=False)
    return Agent(install_fake_ngrok(tmp_path / "bin"), record)


@pytest.fixture
def hub(tmp_path: Path):
    history = History(tmp_path / "data").load()
    history.start_session()
    yield Hub(history, Policy())
    history.close()


@pytest.fixture
def states(hub: Hub) -> list[TunnelState]:
    """Every tunnel state the hub announced, in order."""
    seen: list[TunnelState] = []
    hub.subscribe(lambda notice: notice.kind == "tunnel" and seen.append(hub.tunnel))
    return seen


@pytest.fixture
async def make_tunnel(hub: Hub, tmp_path: Path) -> AsyncIterator[Callable[..., Tunnel]]:
    made: list[Tunnel] = []

    def make(**options) -> Tunnel:
        options.setdefault("config_dir", tmp_path / "data" / "ngrok")
        options.setdefault("timing", FAST)
        tunnel = Tunnel(hub, **options)
        made.append(tunnel)
        return tunnel

    yield make
    for tunnel in made:
        await tunnel.close()


def status(hub: Hub) -> str | None:
    return hub.tunnel.status if isinstance(hub.tunnel, TunnelState) else None


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment with no real ngrok reachable: empty PATH, a fresh HOME, no token."""
    home = tmp_path / "home"
    (home / "empty-bin").mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if k not in ("NGROK_AUTHTOKEN", "PYNGROK_NGROK_PATH") and not k.startswith("FAKE_NGROK")}
    env.update(PATH=str(home / "empty-bin"), HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_DATA_HOME=str(home / ".local" / "share"))
    env.update(extra)
    return env

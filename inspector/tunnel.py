"""The ngrok tunnel: the public HTTPS URL that Segment delivers to.

A `Tunnel` starts the ngrok agent through pyngrok once the receiver listens, opens
an HTTPS endpoint to it and tells the hub (`Hub.set_tunnel`) how it goes: opening,
up with its public URL, down and reconnecting, or unavailable and why.

pyngrok is a blocking library that can block for ever (an agent that prints nothing
holds `connect()` and the lock `kill()` needs), downloads ngrok when the binary is
missing, prints, and writes ngrok's own config file. So here:

- every pyngrok call runs in a daemon thread with a timeout; on overrun the agent
  process is killed directly, which releases the stuck thread;
- the binary is found first (`--ngrok-path`, `PATH`, pyngrok's place) and the agent
  started with `pyngrok.process.get_process`, which never downloads;
- the agent gets a config file of its own in our data directory, so ngrok's own
  config is only ever read (for the authtoken), never written;
- pyngrok's logging goes nowhere, and the authtoken is removed from any text we
  show (the agent repeats a rejected token in its error);
- the authtoken reaches the agent in its environment (NGROK_AUTHTOKEN), never on
  its command line, which every local user can read in `ps`.

A watcher checks the agent every `Timing.poll` seconds (the process lives, its API
answers and lists our endpoint) and hears its "session closed" log lines, marks the
tunnel down at once and starts a new agent with exponential backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from .core.hub import Hub, TunnelState, TunnelStatus
from .core.text import inert

DOWNLOAD_URL = "https://ngrok.com/download"
ENDPOINT_NAME = "segment-inspector"
NO_TOKEN = "no ngrok authtoken; run `ngrok config add-authtoken <token>` or set NGROK_AUTHTOKEN"
NO_BINARY = f"ngrok not found; install it ({DOWNLOAD_URL}) or pass --ngrok-path"
NEITHER = (f"ngrok not found and no authtoken; install ngrok ({DOWNLOAD_URL}), "
           "then run `ngrok config add-authtoken <token>`")

T = TypeVar("T")


@dataclass(frozen=True)
class Timing:
    """How long the tunnel waits for the agent, and how it retries (seconds)."""

    start: float = 20.0  # the agent starting and the endpoint opening
    call: float = 5.0  # one request to the agent's API, and stopping it
    poll: float = 1.0  # how often a running agent is checked
    first_retry: float = 1.0
    max_retry: float = 30.0
    stable: float = 30.0  # up this long, and the next failure retries after first_retry again


class AgentTimeout(Exception):
    """The agent did not answer in time."""


# -- finding ngrok and the authtoken ------------------------------------------------


def find_ngrok(explicit: str | os.PathLike[str] | None = None, *, search_path: str | None = None,
               pyngrok_path: str | None = None) -> Path | None:
    """`--ngrok-path`, else `ngrok` on PATH, else where pyngrok keeps it; None if none is there.

    An explicit path is returned as given, so that `problem()` can say what is wrong with it.
    """
    if explicit:
        return Path(explicit).expanduser()
    found = shutil.which("ngrok", path=search_path)
    if found:
        return Path(found)
    if pyngrok_path is None:
        from pyngrok import conf

        pyngrok_path = os.environ.get("PYNGROK_NGROK_PATH") or conf.DEFAULT_NGROK_PATH
    kept = Path(pyngrok_path)
    return kept if kept.is_file() else None


def ngrok_config_paths() -> list[Path]:
    """Where ngrok keeps its own config on this platform (v3, then the v2 place)."""
    from pyngrok import conf

    return [Path(conf.DEFAULT_NGROK_CONFIG_PATH), Path.home() / ".ngrok2" / "ngrok.yml"]


def find_authtoken(env: Mapping[str, str], configured: str | None,
                   ngrok_configs: Sequence[Path]) -> str | None:
    """NGROK_AUTHTOKEN, else our config file's `ngrok-authtoken`, else ngrok's own config (read only)."""
    token = (env.get("NGROK_AUTHTOKEN") or "").strip() or (configured or "").strip()
    if token:
        return token
    import yaml

    for path in ngrok_configs:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if not isinstance(data, dict):
            continue
        agent = data.get("agent")
        found = (agent.get("authtoken") if isinstance(agent, dict) else None) or data.get("authtoken")
        if isinstance(found, str) and found.strip():
            return found.strip()
    return None


def upstream_url(host: str, local_url: str) -> str:
    """Where the agent forwards to: the receiver's port on an address it listens on."""
    parts = urlsplit(local_url)
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}:{parts.port}"


# -- the tunnel ---------------------------------------------------------------------------


def _silence_pyngrok() -> None:
    """pyngrok logs every agent line; with no handler Python prints warnings over the TUI."""
    log = logging.getLogger("pyngrok")
    if not any(isinstance(handler, logging.NullHandler) for handler in log.handlers):
        log.addHandler(logging.NullHandler())
    log.propagate = False


def _exit_text(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


_environment_lock = threading.Lock()


@contextlib.contextmanager
def _agent_environment(authtoken: str | None) -> Iterator[None]:
    """NGROK_AUTHTOKEN set while the agent starts: pyngrok passes only argv, which `ps` shows."""
    with _environment_lock:
        before = os.environ.get("NGROK_AUTHTOKEN")
        if authtoken:
            os.environ["NGROK_AUTHTOKEN"] = authtoken
        try:
            yield
        finally:
            if before is None:
                os.environ.pop("NGROK_AUTHTOKEN", None)
            else:
                os.environ["NGROK_AUTHTOKEN"] = before


class Tunnel:
    """An ngrok HTTPS endpoint to the receiver, kept open while the inspector runs."""

    def __init__(self, hub: Hub, *, ngrok_path: Path | None, authtoken: str | None,
                 config_dir: Path, domain: str | None = None, region: str | None = None,
                 explicit_path: bool = False, timing: Timing = Timing()) -> None:
        self.hub = hub
        self.ngrok_path = ngrok_path
        self.config_path = config_dir / "ngrok.yml"
        self.domain = domain
        self.region = region
        self.explicit_path = explicit_path
        self.timing = timing
        self.upstream = ""
        self.public_url: str | None = None
        self._authtoken = authtoken  # never shown: see _redact
        self._task: asyncio.Task[None] | None = None
        self._agent: subprocess.Popen[str] | None = None
        self._api_url: str | None = None
        self._attempt = 0
        self._dropped: asyncio.Event | None = None
        self._drop_reason = ""
        _silence_pyngrok()

    def __repr__(self) -> str:
        return f"<Tunnel {self.public_url or 'closed'} -> {self.upstream or '?'}>"

    @property
    def agent_pid(self) -> int | None:
        """The running agent's process id, if one runs."""
        agent = self._agent
        return agent.pid if agent is not None and agent.poll() is None else None

    def problem(self) -> str | None:
        """What keeps the tunnel from opening (no binary, no token), with the fix; None if nothing."""
        path = self.ngrok_path
        if path is None or not path.exists():
            if self.explicit_path and path is not None:
                return f"ngrok not found at {path}; install it ({DOWNLOAD_URL}) or fix --ngrok-path"
            return NO_BINARY if self._authtoken else NEITHER
        if not path.is_file() or not os.access(path, os.X_OK):
            return f"{path} is not an executable; run `chmod +x {path}` or pass --ngrok-path"
        if not self._authtoken:
            return NO_TOKEN
        return None

    # -- life cycle ------------------------------------------------------------------------

    def open(self, upstream: str) -> None:
        """Open the tunnel to `upstream` in the background; the hub hears how it goes."""
        self.upstream = upstream
        self._task = asyncio.get_running_loop().create_task(self._run(), name="ngrok tunnel")

    async def close(self) -> None:
        """Close the tunnel and stop the agent; nothing is left running."""
        task, self._task = self._task, None
        # Python 3.11's wait_for can swallow a cancel that races with its result: cancel
        # again until the task has really ended.
        while task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task], timeout=0.1)
        try:
            await self._in_thread(self._stop_agent, self.timing.call)
        except AgentTimeout:
            self._kill_agent()

    def _set(self, status: TunnelStatus, note: str = "", public_url: str | None = None) -> None:
        self.public_url = public_url
        self.hub.set_tunnel(TunnelState(status, public_url, self._redact(note)))

    async def _run(self) -> None:
        problem = self.problem()
        if problem is not None:
            self._set("unavailable", f"no tunnel: {problem}")
            return
        try:
            self._write_config()
        except OSError as err:
            self._set("unavailable", f"no tunnel: cannot write {self.config_path}: {err.strerror or err}")
            return
        retry, was_up = self.timing.first_retry, False
        while True:
            self._set("opening", "reconnecting to ngrok…" if was_up else "opening an ngrok tunnel…")
            try:
                url = await self._start()
            except AgentTimeout:
                reason = f"ngrok did not start within {self.timing.start:g}s (stopped it)"
            except Exception as err:  # pyngrok raises many kinds; each is a reason
                reason = self._reason(err)
            else:
                was_up, up_since = True, time.monotonic()
                self._set("up", f"ngrok tunnel to {self.upstream}", url)
                reason = await self._watch()
                if time.monotonic() - up_since >= self.timing.stable:
                    retry = self.timing.first_retry
            self._kill_agent()
            again = "reconnecting" if was_up else "retrying"
            self._set("down", f"tunnel down: {reason}; {again} in {retry:g}s")
            await asyncio.sleep(retry)
            retry = min(retry * 2, self.timing.max_retry)

    # -- starting the agent (in a thread) ---------------------------------------------

    def _write_config(self) -> None:
        """The agent's own config file (never ngrok's): the version, and nothing secret."""
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        if not self.config_path.exists():
            self.config_path.write_text('version: "3"\n', encoding="utf-8")
        os.chmod(self.config_path, 0o600)

    async def _start(self) -> str:
        self._attempt += 1
        self._dropped = asyncio.Event()
        self._agent = self._api_url = None
        loop = asyncio.get_running_loop()
        attempt = self._attempt

        def on_log(log: Any) -> None:  # in pyngrok's threads
            message = (log.msg or "").lower()
            if "session closed" in message or "reconnect" in message:
                reason = "ngrok lost its session" + (f" ({log.err})" if log.err else "")
                try:
                    loop.call_soon_threadsafe(self._agent_dropped, attempt, reason)
                except RuntimeError:  # the loop is closed: nobody is watching any more
                    pass

        abandoned = threading.Event()
        try:
            return await self._in_thread(lambda: self._start_blocking(abandoned, on_log), self.timing.start)
        except (AgentTimeout, asyncio.CancelledError):
            abandoned.set()
            self._kill_agent()
            raise

    def _start_blocking(self, abandoned: threading.Event, on_log: Callable[[Any], None]) -> str:
        from pyngrok import conf, ngrok, process

        assert self.ngrok_path is not None
        config = conf.PyngrokConfig(
            ngrok_path=str(self.ngrok_path), config_path=str(self.config_path),
            region=self.region or None, monitor_thread=True,
            log_event_callback=on_log, startup_timeout=max(1, math.ceil(self.timing.start)),
            request_timeout=self.timing.call, start_new_session=True)
        # PyngrokConfig reads NGROK_AUTHTOKEN itself and would pass it as --authtoken, which
        # `ps` shows: the agent reads it from its environment instead.
        config.auth_token = None
        # The monitor thread drains the agent's output (a full pipe would stall the agent);
        # get_process starts the agent without pyngrok's download-if-missing.
        with _agent_environment(self._authtoken):
            agent = process.get_process(config)
        if abandoned.is_set():  # the wait for it timed out meanwhile
            agent.proc.kill()
            raise AgentTimeout
        self._agent, self._api_url = agent.proc, agent.api_url
        options: dict[str, Any] = {}
        if self.domain:
            options["url"] = self.domain if "://" in self.domain else f"https://{self.domain}"
        tunnel = ngrok.connect(self.upstream, pyngrok_config=config, name=ENDPOINT_NAME, **options)
        if not tunnel.public_url:
            raise RuntimeError("ngrok opened an endpoint without a URL")
        return tunnel.public_url

    def _running_agent(self) -> subprocess.Popen[str] | None:
        """The agent, also while pyngrok is still starting it (it registers it first)."""
        if self._agent is not None:
            return self._agent
        if self.ngrok_path is None:
            return None
        from pyngrok import process

        starting = process._current_processes.get(str(self.ngrok_path))
        return starting.proc if starting is not None else None

    def _kill_agent(self) -> None:
        """Kill the agent now; whatever pyngrok call waits on it returns."""
        agent = self._running_agent()
        if agent is not None and agent.poll() is None:
            agent.kill()
            try:
                agent.wait(timeout=self.timing.call)
            except subprocess.TimeoutExpired:
                pass
        self._forget()

    def _stop_agent(self) -> None:
        """Stop the agent gently (it closes its session), killing it if it does not stop."""
        agent = self._running_agent()
        if agent is not None and agent.poll() is None:
            agent.terminate()
            try:
                agent.wait(timeout=2)
            except subprocess.TimeoutExpired:
                agent.kill()
                agent.wait(timeout=self.timing.call)
        self._forget()

    def _forget(self) -> None:
        from pyngrok import ngrok

        if self.public_url:
            ngrok._current_tunnels.pop(self.public_url, None)
        self._agent = None

    # -- watching -----------------------------------------------------------------------------

    def _agent_dropped(self, attempt: int, reason: str) -> None:
        if attempt == self._attempt and self.public_url and self._dropped is not None:
            self._drop_reason = reason
            self._dropped.set()

    async def _watch(self) -> str:
        """Wait until the tunnel fails; returns why."""
        agent, dropped = self._agent, self._dropped
        assert agent is not None and dropped is not None
        while True:
            try:
                await asyncio.wait_for(dropped.wait(), self.timing.poll)
            except TimeoutError:
                pass
            if dropped.is_set():
                return self._drop_reason
            if agent.poll() is not None:
                return f"the ngrok agent exited ({_exit_text(agent.returncode)})"
            try:
                urls = await self._in_thread(self._endpoints, self.timing.call)
            except Exception:  # timeout, refused, bad answer: the agent is gone
                if agent.poll() is not None:
                    return f"the ngrok agent exited ({_exit_text(agent.returncode)})"
                return "the ngrok agent stopped answering"
            if self.public_url not in urls:
                if not urls:
                    return "ngrok closed the tunnel"
                # The agent reconnected on its own with another URL: show the live one.
                self._set("up", f"ngrok tunnel to {self.upstream}", urls[0])

    def _endpoints(self) -> list[str]:
        from pyngrok import ngrok

        data = ngrok.api_request(f"{self._api_url}/api/endpoints", timeout=self.timing.call)
        items = data.get("endpoints") or data.get("tunnels") or []
        return [url for item in items if (url := item.get("public_url") or item.get("url"))]

    # -- helpers ------------------------------------------------------------------------------

    async def _in_thread(self, function: Callable[[], T], timeout: float) -> T:
        """Run `function` in a daemon thread (never one exit waits for); AgentTimeout on overrun."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def settle(result: Any, error: BaseException | None) -> None:
            if not future.done():
                if error is None:
                    future.set_result(result)
                else:
                    future.set_exception(error)

        def run() -> None:
            result, error = None, None
            try:
                result = function()
            except BaseException as err:  # handed to the waiting task
                error = err
            try:
                loop.call_soon_threadsafe(settle, result, error)
            except RuntimeError:  # the loop is closed: nobody waits for this answer
                pass

        threading.Thread(target=run, name="segment-inspector ngrok", daemon=True).start()
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise AgentTimeout from None

    def _redact(self, text: str) -> str:
        """Text fit for a header or a log: one line, no escapes, never the authtoken."""
        if self._authtoken:
            text = text.replace(self._authtoken, "<authtoken>")
        return inert(" ".join(text.split()))

    def _reason(self, err: BaseException) -> str:
        from pyngrok.exception import PyngrokError, PyngrokNgrokError

        if isinstance(err, PyngrokNgrokError) and err.ngrok_error:
            # ngrok's errors run over several lines (escaped as \n in its log): keep the first.
            first = re.split(r"\\[rn]|[\r\n]", err.ngrok_error.strip())[0].strip()
            code = err.ngrok_error_code
            return f"ngrok failed to start: {first}" + (f" ({code})" if code and code not in first else "")
        if isinstance(err, PyngrokNgrokError) and str(err).startswith("The ngrok process was unable"):
            return "ngrok exited while starting, without saying why"
        if isinstance(err, PermissionError):
            return f"cannot run {self.ngrok_path}: permission denied"
        if isinstance(err, PyngrokError):
            return f"ngrok failed: {str(err).splitlines()[0] if str(err) else type(err).__name__}"
        if isinstance(err, OSError):
            return f"cannot run {self.ngrok_path}: {err.strerror or err}"
        return f"ngrok failed: {type(err).__name__}: {err}"

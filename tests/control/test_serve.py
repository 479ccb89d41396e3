"""`serve` opens the control API itself: its URL and the attach command at start, never the token."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from inspector.control.client import ControlClient, ControlError, trusting
from inspector.control.server import ControlServer
from inspector.core.history import History
from inspector.core.hub import Hub
from inspector.listeners import Listeners
from inspector.receiver import Receiver


def status(url: str, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(url + "/api/status", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_serve_says_where_its_control_api_is_and_keeps_the_token_to_itself(tmp_path):
    data = tmp_path / "data"
    process = subprocess.Popen([sys.executable, "-m", "inspector", "serve", "--no-tunnel", "--port", "0",
                                "--control-port", "0", "--data-dir", str(data)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert "control API on http://127.0.0.1:" in line, line
        url = line.split("control API on ")[1].split(";")[0]
        assert f"segment-inspector attach {url} --token-file {data / 'control-token'}" in line
        token = (data / "control-token").read_text().strip()
        assert status(url, token)[0] == 200 and status(url, token + "x")[0] == 401
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0 and token not in out + err + line
    kept = b"".join(path.read_bytes() for path in data.rglob("*") if path.is_file() and path.name != "control-token")
    assert token.encode() not in kept  # nor in the history


def test_a_control_host_beyond_loopback_needs_tls(tmp_path):
    refused = subprocess.run([sys.executable, "-m", "inspector", "serve", "--no-tunnel", "--control-host", "0.0.0.0",
                              "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "--control-host 0.0.0.0: beyond this machine the control API needs TLS" \
        in refused.stderr


@pytest.mark.parametrize("required", [False, True])
async def test_a_control_port_that_is_taken(tmp_path, required):
    """The default port taken (another inspector): a note, and the rest runs; a port asked for: the start fails."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        history = History(tmp_path)
        history.start_session()
        hub = Hub(history)
        listeners = Listeners(Receiver(hub, port=0), control=ControlServer(hub, tmp_path, port=port),
                              control_required=required)
        if required:
            with pytest.raises(OSError, match=f"the control API cannot listen on 127.0.0.1:{port}"):
                await listeners.start()
            receiving = int(listeners.url.rstrip("/").rsplit(":", 1)[1])
            with pytest.raises(ConnectionRefusedError):  # the receiver it had started is closed again
                socket.create_connection(("127.0.0.1", receiving), timeout=5).close()
        else:
            await listeners.start()
            assert listeners.control_url == "" and listeners.attach_command() == ""
            assert f"the control API is off: 127.0.0.1:{port} is taken" in listeners.notes[0]
            await listeners.stop()
        history.close()


def test_a_viewer_attaches_over_tls_trusting_the_certificate_serve_names(tmp_path):
    """`serve --tls` makes its own certificate: its attach command names it, and nothing else trusts it."""
    data = tmp_path / "data"
    process = subprocess.Popen([sys.executable, "-m", "inspector", "serve", "--no-tunnel", "--port", "0", "--tls",
                                "--control-port", "0", "--data-dir", str(data)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        line = ""
        while "control API on" not in line:
            line = process.stderr.readline()
            assert line, "serve stopped before naming its control API"
        url = line.split("control API on ")[1].split(";")[0]
        assert url.startswith("https://127.0.0.1:")
        cafile = line.split("--cafile ")[1].split()[0]
        assert f"segment-inspector attach {url} --token-file {data / 'control-token'} --cafile {cafile}" in line
        token = (data / "control-token").read_text().strip()

        async def attach() -> None:
            async with ControlClient(url, token, trust=trusting(cafile)) as trusted:
                assert "viewers" in await trusted.status()
            async with ControlClient(url, token) as other:
                with pytest.raises(ControlError, match="certificate"):
                    await other.status()

        asyncio.run(attach())
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)


@pytest.mark.parametrize("command", [["attach", "https://127.0.0.1:9"], ["mcp", "--attach", "https://127.0.0.1:9"]])
def test_a_cafile_that_is_no_certificate_is_a_usage_error(tmp_path, command):
    token, cafile = tmp_path / "token", tmp_path / "not-a-cert.pem"
    token.write_text("t" * 32)
    token.chmod(0o600)
    cafile.write_text("hello")
    run = subprocess.run([sys.executable, "-m", "inspector", *command, "--token-file", str(token),
                          "--cafile", str(cafile), "--data-dir", str(tmp_path / "data")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and f"--cafile {cafile}: not a certificate to trust" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr

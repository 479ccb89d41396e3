"""`segment-inspector serve` with a tunnel, --public-url and --tls, as a user runs it."""

from __future__ import annotations

import queue
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import orjson

from inspector import tls

from ..conftest import SEGMENT_HEADERS
from ..factories import make_event
from ..waiting import DEADLINE
from .conftest import alive, clean_env, install_fake_ngrok

PYTHON = sys.executable
TOKEN = "2cliSecretToken_0123456789"


class Serving:
    """`serve` in a subprocess: its receiving line, and its stderr lines as they come."""

    def __init__(self, data_dir: Path, *flags: str, env: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.process = subprocess.Popen(
            [PYTHON, "-m", "inspector", "serve", "--port", "0", "--control-port", "0", "--data-dir", str(data_dir),
             *flags],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        first = self.process.stdout.readline()
        assert "receiving on" in first, first
        self.url = first.split("receiving on ")[1].split()[0]

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, words: str, timeout: float = DEADLINE) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(line)
            if words in line:
                return line
        raise AssertionError(f"no line with {words!r} within {timeout}s; saw {self.seen}")

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGINT)
        out, _ = self.process.communicate(timeout=DEADLINE)
        self.reader.join(DEADLINE)  # it ends with the process's stderr: every line is in
        assert not self.reader.is_alive()
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return self.process.returncode, out


def test_serve_opens_the_tunnel_prints_its_url_and_stops_the_agent(tmp_path):
    ngrok = install_fake_ngrok(tmp_path / "bin")
    record = tmp_path / "runs.jsonl"
    env = clean_env(tmp_path, NGROK_AUTHTOKEN=TOKEN, FAKE_NGROK_RECORD=str(record))
    server = Serving(tmp_path / "data", "--ngrok-path", str(ngrok), "--region", "eu", env=env)
    line = server.wait_for("public URL")
    assert line.startswith("segment-inspector: public URL https://") and ".ngrok-free.app" in line
    assert "paste it into Segment's destination settings" in line
    run = orjson.loads(record.read_text().splitlines()[0])
    assert run["argv"][-2:] == ["--region", "eu"] and TOKEN not in " ".join(run["argv"])  # not in `ps`
    assert run["token_in_env"]  # the agent reads it from its environment
    assert run["argv"][run["argv"].index("--config") + 1] == str(tmp_path / "data" / "ngrok" / "ngrok.yml")
    request = urllib.request.Request(server.url, data=orjson.dumps(make_event()), headers=SEGMENT_HEADERS)
    assert urllib.request.urlopen(request, timeout=10).status == 200
    code, out = server.stop()
    assert code == 0
    assert not alive(run["pid"])  # nothing left running
    # the token is in no output and no file we keep
    assert all(TOKEN not in text for text in [out, *server.seen])
    assert all(TOKEN.encode() not in path.read_bytes()
               for path in (tmp_path / "data").rglob("*") if path.is_file())
    assert not (tmp_path / "home" / ".config" / "ngrok").exists()  # ngrok's own config untouched


def test_serve_without_ngrok_runs_local_only_and_says_what_to_do(tmp_path):
    server = Serving(tmp_path / "data", env=clean_env(tmp_path, NGROK_AUTHTOKEN=TOKEN))
    line = server.wait_for("no tunnel")
    assert line == ("segment-inspector: no tunnel: ngrok not found; install it (https://ngrok.com/download) "
                    "or pass --ngrok-path")
    request = urllib.request.Request(server.url, data=orjson.dumps(make_event()), headers=SEGMENT_HEADERS)
    assert urllib.request.urlopen(request, timeout=10).status == 200
    assert server.stop()[0] == 0
    assert not (tmp_path / "home" / ".config" / "ngrok").exists()  # pyngrok installed nothing


def test_serve_reads_the_token_from_ngroks_own_config(tmp_path):
    ngrok = install_fake_ngrok(tmp_path / "bin")
    env = clean_env(tmp_path)
    own = tmp_path / "home" / ".config" / "ngrok" / "ngrok.yml"
    own.parent.mkdir(parents=True)
    own.write_text(f'version: "3"\nagent:\n  authtoken: {TOKEN}\n')
    server = Serving(tmp_path / "data", "--ngrok-path", str(ngrok), env=env)
    server.wait_for("public URL")
    assert server.stop()[0] == 0
    assert own.read_text() == f'version: "3"\nagent:\n  authtoken: {TOKEN}\n'


def test_serve_without_a_token_names_the_command(tmp_path):
    ngrok = install_fake_ngrok(tmp_path / "bin")
    server = Serving(tmp_path / "data", "--ngrok-path", str(ngrok), env=clean_env(tmp_path))
    line = server.wait_for("no tunnel")
    assert "run `ngrok config add-authtoken <token>` or set NGROK_AUTHTOKEN" in line
    server.stop()


def test_public_url_and_no_tunnel_start_no_agent(tmp_path):
    ngrok = install_fake_ngrok(tmp_path / "bin")
    record = tmp_path / "runs.jsonl"
    env = clean_env(tmp_path, NGROK_AUTHTOKEN=TOKEN, FAKE_NGROK_RECORD=str(record))
    server = Serving(tmp_path / "a", "--ngrok-path", str(ngrok), "--public-url",
                     "https://hooks.example.com/segment", env=env)
    assert server.wait_for("public URL") == ("segment-inspector: public URL https://hooks.example.com/segment"
                                             "  (paste it into Segment's destination settings)")
    server.stop()
    quiet = Serving(tmp_path / "b", "--ngrok-path", str(ngrok), "--no-tunnel", env=env)
    # Answered: serve is past start-up, where a tunnel line would have been printed.
    request = urllib.request.Request(quiet.url, data=orjson.dumps(make_event()), headers=SEGMENT_HEADERS)
    assert urllib.request.urlopen(request, timeout=DEADLINE).status == 200
    code, out = quiet.stop()
    assert code == 0 and [line for line in quiet.seen if "control API" not in line] == []  # no tunnel line
    assert "200 delivered" in out and "track" in out  # and the request was printed
    assert not record.exists()

    bad = subprocess.run([PYTHON, "-m", "inspector", "serve", "--public-url", "hooks.example.com"],
                         capture_output=True, text=True, env=env, timeout=30)
    assert bad.returncode == 2 and "--public-url: 'hooks.example.com' is not an http:// or https:// URL" in bad.stderr


def test_config_file_settings_for_the_tunnel(tmp_path):
    ngrok = install_fake_ngrok(tmp_path / "bin")
    record = tmp_path / "runs.jsonl"
    config = tmp_path / "config.toml"
    config.write_text(f'ngrok-authtoken = "{TOKEN}"\nngrok-path = "{ngrok}"\n'
                      'ngrok-domain = "inspector.example.ngrok.app"\n')
    env = clean_env(tmp_path, FAKE_NGROK_RECORD=str(record))
    process = subprocess.Popen([PYTHON, "-m", "inspector", "--config", str(config), "serve", "--port", "0",
                                "--control-port", "0", "--data-dir", str(tmp_path / "data")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = process.stderr.readline()
        while "public URL" not in line and line:
            line = process.stderr.readline()
        assert "public URL https://inspector.example.ngrok.app " in line
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)
    # the agent got it (the fake fails without one), but not on its command line
    assert record.read_text() and TOKEN not in record.read_text()


def test_serve_tls_generates_a_certificate_that_a_trusting_client_accepts(tmp_path):
    server = Serving(tmp_path / "data", "--tls", "--no-tunnel", env=clean_env(tmp_path))
    try:
        assert server.url.startswith("https://127.0.0.1:")
        cert = tmp_path / "data" / "tls" / "cert.pem"
        request = urllib.request.Request(server.url, data=orjson.dumps(make_event()), headers=SEGMENT_HEADERS)
        trusting = ssl.create_default_context(cafile=str(cert))
        assert urllib.request.urlopen(request, timeout=10, context=trusting).status == 200
        try:
            urllib.request.urlopen(request, timeout=10, context=ssl.create_default_context())
        except urllib.error.URLError as err:
            assert isinstance(err.reason, ssl.SSLCertVerificationError)
        else:
            raise AssertionError("an untrusting client got through")
    finally:
        code, out = server.stop()
    assert code == 0 and len(out.splitlines()) == 1  # the one trusted request


def test_serve_with_the_users_own_certificate(tmp_path):
    cert, key = tls.ensure_certificate(tmp_path / "mine")
    server = Serving(tmp_path / "data", "--cert", str(cert), "--key", str(key), "--no-tunnel",
                     env=clean_env(tmp_path))
    try:
        request = urllib.request.Request(server.url, data=orjson.dumps(make_event()), headers=SEGMENT_HEADERS)
        trusting = ssl.create_default_context(cafile=str(cert))
        assert urllib.request.urlopen(request, timeout=10, context=trusting).status == 200
    finally:
        server.stop()
    assert not (tmp_path / "data" / "tls").exists()  # nothing generated

    half = subprocess.run([PYTHON, "-m", "inspector", "serve", "--cert", str(cert)],
                          capture_output=True, text=True, timeout=30, env=clean_env(tmp_path))
    assert half.returncode == 2 and "--cert and --key go together" in half.stderr
    missing = subprocess.run([PYTHON, "-m", "inspector", "serve", "--cert", str(cert), "--key",
                              str(tmp_path / "nokey.pem")], capture_output=True, text=True, timeout=30,
                             env=clean_env(tmp_path))
    assert missing.returncode == 2 and f"no such file: {tmp_path / 'nokey.pem'}" in missing.stderr

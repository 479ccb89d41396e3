"""The tunnel with the real pyngrok against a fake ngrok agent: opening, failing, watching."""

from __future__ import annotations

import json
import logging
import os
import signal
import urllib.request
from pathlib import Path

import pytest

from inspector.tunnel import NEITHER, NO_BINARY, NO_TOKEN, Timing, find_authtoken, find_ngrok, upstream_url

from ..waiting import until
from .conftest import FAST, alive, install_fake_ngrok, status

UPSTREAM = "http://127.0.0.1:8686"


async def test_the_tunnel_opens_and_its_url_reaches_the_hub(agent, hub, states, make_tunnel, tmp_path, capfd):
    tunnel = make_tunnel(ngrok_path=agent.path, authtoken="tok-open-1", region="eu")
    tunnel.open(UPSTREAM)
    await until(lambda: status(hub) == "up", what="the tunnel is up")
    url = hub.tunnel.public_url
    assert url.startswith("https://") and url.endswith(".ngrok-free.app")
    assert hub.public_urls == [url]
    assert [s.status for s in states] == ["opening", "up"]

    # the agent was started with our own config file and the region; the token is not on
    # its command line, which any local user reads in `ps`
    [run] = agent.runs()
    config = tmp_path / "data" / "ngrok" / "ngrok.yml"
    assert run["argv"] == ["start", "--none", "--log", "stdout", "--config", str(config),
                           "--region", "eu"]
    assert "tok-open-1" not in config.read_text()
    assert config.stat().st_mode & 0o777 == 0o600
    cmdline = (Path("/proc") / str(run["pid"]) / "cmdline").read_bytes()
    assert b"ngrok" in cmdline and b"tok-open-1" not in cmdline
    environ = (Path("/proc") / str(run["pid"]) / "environ").read_bytes().split(b"\0")
    assert b"NGROK_AUTHTOKEN=tok-open-1" in environ  # readable only by our own user
    assert os.environ.get("NGROK_AUTHTOKEN") != "tok-open-1"
    # and it forwards to the receiver
    [endpoint] = _endpoints(tunnel)
    assert endpoint["public_url"] == url and endpoint["upstream"] == {"url": UPSTREAM}

    pid = tunnel.agent_pid
    assert pid == run["pid"] and alive(pid)
    await tunnel.close()
    assert not alive(pid)
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # pyngrok printed nothing


async def test_a_token_from_the_environment_is_not_on_the_agents_command_line(agent, hub, make_tunnel,
                                                                              monkeypatch):
    """NGROK_AUTHTOKEN is the first source the README names; pyngrok reads it on its own."""
    monkeypatch.setenv("NGROK_AUTHTOKEN", "tok-from-env-7")
    token = find_authtoken(os.environ, None, [])
    tunnel = make_tunnel(ngrok_path=agent.path, authtoken=token)
    tunnel.open(UPSTREAM)
    await until(lambda: status(hub) == "up", what="the tunnel is up")
    [run] = agent.runs()
    assert "tok-from-env-7" not in " ".join(run["argv"])
    cmdline = (Path("/proc") / str(run["pid"]) / "cmdline").read_bytes()
    assert b"tok-from-env-7" not in cmdline
    environ = (Path("/proc") / str(run["pid"]) / "environ").read_bytes().split(b"\0")
    assert b"NGROK_AUTHTOKEN=tok-from-env-7" in environ


def _endpoints(tunnel) -> list[dict]:
    with urllib.request.urlopen(f"{tunnel._api_url}/api/endpoints", timeout=2) as response:
        return json.load(response)["endpoints"]


async def test_a_reserved_domain_is_asked_for(agent, hub, make_tunnel):
    tunnel = make_tunnel(ngrok_path=agent.path, authtoken="tok", domain="inspector-test.ngrok.app")
    tunnel.open(UPSTREAM)
    await until(lambda: status(hub) == "up")
    assert hub.public_urls == ["https://inspector-test.ngrok.app"]


async def test_a_missing_binary_says_how_to_install_it_and_downloads_nothing(agent, hub, make_tunnel,
                                                                             tmp_path, capfd):
    missing = tmp_path / "nowhere" / "ngrok"
    tunnel = make_tunnel(ngrok_path=None, authtoken="tok")
    tunnel.open(UPSTREAM)
    await until(lambda: status(hub) == "unavailable")
    assert hub.tunnel.note == f"no tunnel: {NO_BINARY}"
    assert "https://ngrok.com/download" in NO_BINARY and "--ngrok-path" in NO_BINARY
    assert hub.public_urls == []

    explicit = make_tunnel(ngrok_path=missing, authtoken="tok", explicit_path=True)
    explicit.open(UPSTREAM)
    await until(lambda: str(missing) in hub.tunnel.note)
    assert hub.tunnel.note == (f"no tunnel: ngrok not found at {missing}; install it "
                               f"(https://ngrok.com/download) or fix --ngrok-path")
    assert not missing.exists() and not missing.parent.exists()  # pyngrok did not download it
    assert "Downloading" not in capfd.readouterr().out


async def test_no_binary_and_no_token_names_both_fixes(hub, make_tunnel):
    make_tunnel(ngrok_path=None, authtoken=None).open(UPSTREAM)
    await until(lambda: status(hub) == "unavailable")
    assert hub.tunnel.note == f"no tunnel: {NEITHER}"
    assert "https://ngrok.com/download" in NEITHER and "ngrok config add-authtoken <token>" in NEITHER


async def test_a_binary_that_is_not_executable_says_so(hub, make_tunnel, tmp_path):
    path = tmp_path / "ngrok"
    path.write_text("not a program")
    make_tunnel(ngrok_path=path, authtoken="tok").open(UPSTREAM)
    await until(lambda: status(hub) == "unavailable")
    assert hub.tunnel.note == f"no tunnel: {path} is not an executable; run `chmod +x {path}` or pass --ngrok-path"


async def test_a_missing_token_says_how_to_add_one_and_starts_no_agent(agent, hub, make_tunnel):
    make_tunnel(ngrok_path=agent.path, authtoken=None).open(UPSTREAM)
    await until(lambda: status(hub) == "unavailable")
    assert hub.tunnel.note == ("no tunnel: no ngrok authtoken; run `ngrok config add-authtoken <token>` "
                               "or set NGROK_AUTHTOKEN")
    assert NO_TOKEN in hub.tunnel.note
    assert agent.runs() == []


async def test_an_agent_that_fails_at_start_is_a_clear_message_without_the_token(
        agent, hub, states, make_tunnel, monkeypatch, tmp_path, capfd, caplog):
    monkeypatch.setenv("FAKE_NGROK_MODE", "fail")
    caplog.set_level(logging.DEBUG)
    secret = "2xSecretTokenValue_abcdef"
    tunnel = make_tunnel(ngrok_path=agent.path, authtoken=secret)
    tunnel.open(UPSTREAM)
    await until(lambda: status(hub) == "down", what="the failure is reported")
    assert hub.tunnel.note == ("tunnel down: ngrok failed to start: authentication failed: The authtoken "
                               "you specified is not valid: <authtoken> (ERR_NGROK_107); retrying in 0.2s")
    # it retries (the agent repeated the token in its error: it is shown nowhere)
    await until(lambda: len(agent.runs()) >= 2, what="a second attempt")
    await tunnel.close()
    shown = [state.note for state in states]
    out, err = capfd.readouterr()
    logged = [record.getMessage() for record in caplog.records]
    kept = [path.read_bytes() for path in (tmp_path / "data").rglob("*") if path.is_file()]
    assert all(secret not in text for text in [*shown, out, err, *logged])
    assert all(secret.encode() not in data for data in kept)


async def test_an_agent_that_hangs_is_killed_and_reported_within_the_timeout(agent, hub, make_tunnel,
                                                                             monkeypatch):
    monkeypatch.setenv("FAKE_NGROK_MODE", "hang")
    tunnel = make_tunnel(ngrok_path=agent.path, authtoken="tok",
                         timing=Timing(start=1.0, call=1.0, poll=0.2, first_retry=5.0))
    tunnel.open(UPSTREAM)
    took = await until(lambda: status(hub) == "down", what="the hang is reported")
    assert took > 0.9  # it waited the whole start timeout
    assert hub.tunnel.note == "tunnel down: ngrok did not start within 1s (stopped it); retrying in 5s"
    [run] = agent.runs()
    await until(lambda: not alive(run["pid"]), what="the hung agent is gone")
    await tunnel.close()


async def test_an_agent_that_exits_silently_at_start_says_so(agent, hub, make_tunnel, monkeypatch):
    monkeypatch.setenv("FAKE_NGROK_MODE", "exit")
    make_tunnel(ngrok_path=agent.path, authtoken="tok").open(UPSTREAM)
    await until(lambda: status(hub) == "down")
    assert hub.tunnel.note.startswith("tunnel down: ngrok exited while starting, without saying why; retrying")


async def test_an_agent_killed_mid_session_is_noticed_and_replaced(agent, hub, states, make_tunnel):
    tunnel = make_tunnel(ngrok_path=agent.path, authtoken="tok")
    tunnel.open(UPSTREAM)
    await until(lambda: status(hub) == "up")
    first_url, first_pid = hub.tunnel.public_url, tunnel.agent_pid
    os.kill(first_pid, signal.SIGKILL)
    await until(lambda: status(hub) == "down", what="the header says the tunnel is down")
    assert hub.tunnel.note == ("tunnel down: the ngrok agent exited (killed by SIGKILL); "
                               "reconnecting in 0.2s")
    assert hub.public_urls == []  # a dead URL is not shown
    await until(lambda: status(hub) == "up", what="a new agent")
    assert tunnel.agent_pid not in (None, first_pid)
    assert hub.public_urls == [hub.tunnel.public_url] != [first_url]
    assert [s.status for s in states] == ["opening", "up", "down", "opening", "up"]
    assert states[3].note == "reconnecting to ngrok…"
    assert len(agent.runs()) == 2


async def test_a_dropped_session_is_noticed_and_reconnected(agent, hub, states, make_tunnel, monkeypatch):
    monkeypatch.setenv("FAKE_NGROK_DROP_AFTER", "0.3")
    tunnel = make_tunnel(ngrok_path=agent.path, authtoken="tok")
    tunnel.open(UPSTREAM)
    await until(lambda: status(hub) == "up")
    first_pid = tunnel.agent_pid
    await until(lambda: status(hub) == "down", what="the drop is noticed")
    assert hub.tunnel.note.startswith("tunnel down: ngrok lost its session (read tcp: connection reset by peer)")
    await until(lambda: status(hub) == "up" and tunnel.agent_pid not in (None, first_pid), what="reconnected")
    await tunnel.close()
    assert not alive(first_pid)


async def test_the_retry_delay_doubles_up_to_its_limit(agent, hub, states, make_tunnel, monkeypatch):
    monkeypatch.setenv("FAKE_NGROK_MODE", "fail")
    make_tunnel(ngrok_path=agent.path, authtoken="tok",
                timing=Timing(start=2, call=1, poll=0.2, first_retry=0.1, max_retry=0.4)).open(UPSTREAM)
    await until(lambda: sum(s.status == "down" for s in states) >= 5, what="five failures")
    delays = [s.note.rsplit(" in ", 1)[1] for s in states if s.status == "down"][:5]
    assert delays == ["0.1s", "0.2s", "0.4s", "0.4s", "0.4s"]


async def test_the_agent_is_stopped_when_the_receiver_stops(agent, hub, tmp_path):
    from inspector.listeners import Listeners
    from inspector.receiver import Receiver
    from inspector.tunnel import Tunnel

    tunnel = Tunnel(hub, ngrok_path=agent.path, authtoken="tok", config_dir=tmp_path / "ngrok", timing=FAST)
    receiver = Listeners(Receiver(hub, port=0), tunnel)
    url = await receiver.start()
    await until(lambda: status(hub) == "up")
    port = url.rsplit(":", 1)[1].strip("/")
    assert tunnel.upstream == f"http://127.0.0.1:{port}"
    pid = tunnel.agent_pid
    await receiver.stop()
    assert not alive(pid)


def test_the_binary_is_found_at_the_flag_then_on_path_then_where_pyngrok_keeps_it(tmp_path):
    on_path = install_fake_ngrok(tmp_path / "path-bin")
    kept = install_fake_ngrok(tmp_path / "pyngrok")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert str(find_ngrok("~/my/ngrok", search_path=str(on_path.parent), pyngrok_path=str(kept))) \
        == os.path.expanduser("~/my/ngrok")
    assert find_ngrok(None, search_path=str(on_path.parent), pyngrok_path=str(kept)) == on_path
    assert find_ngrok(None, search_path=str(empty), pyngrok_path=str(kept)) == kept
    assert find_ngrok(None, search_path=str(empty), pyngrok_path=str(tmp_path / "none")) is None


def test_the_token_comes_from_the_environment_then_our_config_then_ngroks_config(tmp_path):
    v3 = tmp_path / "v3.yml"
    v3.write_text('version: "3"\nagent:\n  authtoken: from-ngrok-v3\n')
    v2 = tmp_path / "v2.yml"
    v2.write_text("authtoken: from-ngrok-v2\n")
    broken = tmp_path / "broken.yml"
    broken.write_text("agent: [unclosed\n")
    assert find_authtoken({"NGROK_AUTHTOKEN": "from-env"}, "from-ours", [v3]) == "from-env"
    assert find_authtoken({}, "from-ours", [v3]) == "from-ours"
    assert find_authtoken({"NGROK_AUTHTOKEN": ""}, None, [broken, tmp_path / "none.yml", v3]) == "from-ngrok-v3"
    assert find_authtoken({}, None, [v2, v3]) == "from-ngrok-v2"
    assert find_authtoken({}, None, [broken]) is None
    assert v3.read_text() == 'version: "3"\nagent:\n  authtoken: from-ngrok-v3\n'  # read, never written


@pytest.mark.parametrize("host, url, expected", [
    ("127.0.0.1", "http://127.0.0.1:8686/", "http://127.0.0.1:8686"),
    ("0.0.0.0", "http://myhost:9000/", "http://127.0.0.1:9000"),
    ("::", "https://myhost:9000/", "https://[::1]:9000"),
    ("::1", "http://[::1]:9000/", "http://[::1]:9000"),
    ("192.168.1.5", "http://192.168.1.5:80/", "http://192.168.1.5:80"),
])
def test_the_agent_forwards_to_an_address_the_receiver_listens_on(host, url, expected):
    assert upstream_url(host, url) == expected


async def test_an_agent_that_stops_answering_is_replaced(agent, hub, make_tunnel):
    tunnel = make_tunnel(ngrok_path=agent.path, authtoken="tok")
    tunnel.open(UPSTREAM)
    await until(lambda: status(hub) == "up")
    frozen = tunnel.agent_pid
    os.kill(frozen, signal.SIGSTOP)  # alive, but its API is silent
    try:
        await until(lambda: status(hub) == "down", what="the silence is noticed")
        assert hub.tunnel.note == "tunnel down: the ngrok agent stopped answering; reconnecting in 0.2s"
        await until(lambda: status(hub) == "up", what="a new agent")
        assert tunnel.agent_pid != frozen and not alive(frozen)
    finally:
        if alive(frozen):
            os.kill(frozen, signal.SIGKILL)


def test_tunnel_and_tls_never_import_textual_and_load_pyngrok_only_when_used():
    import subprocess
    import sys

    code = ("import sys, inspector.tunnel, inspector.tls\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich', 'pyngrok'}))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"

"""The command line as a user runs it: real processes, real signals, real files."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import orjson
import pytest

from inspector.core.history import History

from ..conftest import SEGMENT_HEADERS
from ..factories import make_event, make_exchange

PYTHON = sys.executable


def run(*args: str, data_dir: Path | None = None, input: str | None = None,
        env: dict | None = None) -> subprocess.CompletedProcess[str]:
    extra = ["--data-dir", str(data_dir)] if data_dir else []
    return subprocess.run([PYTHON, "-m", "inspector", *args, *extra], capture_output=True,
                          text=True, timeout=60, input=input, env=env)


class Serve:
    """`segment-inspector serve` in a subprocess, with its URL read from its first line."""

    def __init__(self, data_dir: Path, *flags: str) -> None:
        self.process = subprocess.Popen(
            [PYTHON, "-m", "inspector", "serve", "--no-tunnel", "--port", "0", "--control-port", "0",
             "--data-dir", str(data_dir), *flags],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        assert "receiving on" in line, line + self.process.stderr.read()
        self.url = line.split("receiving on ")[1].split()[0]

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url, data=body, method="POST",
                                         headers=headers or SEGMENT_HEADERS)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def stop(self, signum: int = signal.SIGINT) -> tuple[int, str, str]:
        self.process.send_signal(signum)
        out, err = self.process.communicate(timeout=20)
        return self.process.returncode, out, err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_serve_prints_a_line_per_exchange_stops_cleanly_and_history_survives(tmp_path, signum):
    server = Serve(tmp_path, "--rule", "event:Purchase => 400:use Order Completed")
    assert server.post(orjson.dumps(make_event(messageId="keep-1")))[0] == 200
    status, body = server.post(orjson.dumps(make_event(event="Purchase", messageId="keep-2")))
    assert (status, json.loads(body)) == (400, {"message": "use Order Completed"})
    code, out, err = server.stop(signum)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 2
    assert " 200 delivered track" in lines[0] and "Order Completed" in lines[0] and "user-1" in lines[0]
    assert " 400 dropped   track" in lines[1] and "Purchase" in lines[1]
    assert "Traceback" not in err

    # a new process, after the server is gone, finds both again
    listed = run("history", "--json", data_dir=tmp_path)
    assert listed.returncode == 0
    docs = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [d["events"][0]["messageId"] for d in docs] == ["keep-2", "keep-1"]
    assert docs[0]["response"] == {**docs[0]["response"], "status": 400, "chosenBy": "rule 1",
                                   "outcome": "dropped"}
    found = run("history", "message:keep-1", data_dir=tmp_path)
    assert found.returncode == 0 and len(found.stdout.splitlines()) == 1


def test_serve_json_lines_and_the_url_on_stderr(tmp_path):
    process = subprocess.Popen(
        [PYTHON, "-m", "inspector", "serve", "--no-tunnel", "--port", "0", "--control-port", "0", "--json",
         "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stderr.readline()
    url = line.split("receiving on ")[1].split()[0]
    urllib.request.urlopen(urllib.request.Request(url, data=orjson.dumps(make_event()),
                                                  headers=SEGMENT_HEADERS)).read()
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=20)
    [doc] = [json.loads(line) for line in out.splitlines()]
    assert doc["events"][0]["event"] == "Order Completed" and doc["response"]["status"] == 200


def test_history_survives_sigkill_of_the_server(tmp_path):
    server = Serve(tmp_path)
    for n in range(20):
        assert server.post(orjson.dumps(make_event(messageId=f"k{n}")))[0] == 200
    server.process.kill()
    server.process.communicate(timeout=20)
    listed = run("history", "--limit", "0", "--json", data_dir=tmp_path)
    assert len(listed.stdout.splitlines()) == 20


def test_serve_reports_an_address_in_use(tmp_path):
    server = Serve(tmp_path / "a")
    port = server.url.rsplit(":", 1)[1].strip("/")
    try:
        second = run("serve", "--no-tunnel", "--port", port, data_dir=tmp_path / "b")
    finally:
        server.stop()
    assert second.returncode == 3
    assert "cannot listen" in second.stderr and "Traceback" not in second.stderr


def test_show_prints_everything_and_unknown_ids_exit_1(tmp_path):
    server = Serve(tmp_path)
    server.post(orjson.dumps(make_event(event="Order \x1b]0;pwned\x07Completed")))
    server.stop()
    [doc] = [json.loads(line) for line in run("history", "--json", data_dir=tmp_path).stdout.splitlines()]
    shown = run("show", doc["id"][:10], data_dir=tmp_path)
    assert shown.returncode == 0
    for words in ("POST /", "Authorization: Basic", "API key 'segment'", "answered 200",
                  "Segment: delivered", "\\u001b]0;pwned\\u0007"):
        assert words in shown.stdout, words
    assert "\x1b" not in shown.stdout and "\x07" not in shown.stdout
    as_json = run("show", doc["id"], "--json", data_dir=tmp_path)
    assert json.loads(as_json.stdout)["id"] == doc["id"]
    missing = run("show", "NOSUCHEXCHANGE", data_dir=tmp_path)
    assert missing.returncode == 1 and "no exchange" in missing.stderr


def test_show_says_when_an_id_prefix_names_several_exchanges(tmp_path):
    history = History(tmp_path / "data").load()
    history.start_session()
    for n in range(3):
        exchange = make_exchange(make_event(messageId=f"m{n}"))
        exchange.id = f"01HF7YAT00AAAAAAAAAAAAAAA{n}"
        history.add(exchange)
    history.close()
    shown = run("show", "01HF7YAT00AA", data_dir=tmp_path / "data")
    assert shown.returncode == 1
    assert "ambiguous: 3 exchanges start with '01HF7YAT00AA'" in shown.stderr
    assert run("show", "01HF7YAT00AAAAAAAAAAAAAAA1", data_dir=tmp_path / "data").returncode == 0
    short = run("show", "01HF7", data_dir=tmp_path / "data")  # it would name all three: too short to be one
    assert short.returncode == 2 and "an id prefix needs 6 or more characters: '01HF7' has 5" in short.stderr


def test_escape_sequences_never_reach_the_terminal(tmp_path):
    server = Serve(tmp_path)
    server.post(orjson.dumps(make_event(event="\x1b[31mred\x9b2J", userId="\x1b[2J")))
    _code, out, _ = server.stop()
    for text in (out, run("history", data_dir=tmp_path).stdout,
                 run("history", "--json", data_dir=tmp_path).stdout):
        assert "\x1b" not in text and "\x9b" not in text
        assert "red" in text


def test_query_syntax_error_exits_2_with_its_position(tmp_path):
    result = run("history", "(type:track", data_dir=tmp_path)
    assert result.returncode == 2
    assert "query error" in result.stderr and "position" in result.stderr


@pytest.mark.parametrize("flags, words", [
    (["--rule", "type:track"], "QUERY => STATUS"),
    (["--rule", "type:(track => 500"], "rule query"),
    (["--rule", "type:track status:500 => 200"], "'status:500' can never match: a rule chooses the answer"),
    (["--rule", "kind:delivery => 503"], "'kind:delivery' can never match"),
    (["--rule", "is:dropped => 503"], "'is:dropped' can never match"),
    (["--respond", "700"], "outside 100-599"),
    (["--respond", "ok"], "expected a status"),
    (["--max-body", "lots"], "not a size"),
])
def test_bad_serve_flags_exit_2(tmp_path, flags, words):
    result = run("serve", "--no-tunnel", "--port", "0", *flags, data_dir=tmp_path)
    assert result.returncode == 2
    assert words in result.stderr and "Traceback" not in result.stderr


def test_an_exposed_tracking_api_delivering_elsewhere_without_a_write_key_is_refused(tmp_path):
    result = run("serve", "--port", "0", "--deliver-to", "http://127.0.0.1:9/in", data_dir=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--deliver-to without --write-key" in result.stderr and "a tunnel will be opened" in result.stderr
    assert "--write-key KEY" in result.stderr and "--no-tunnel" in result.stderr
    assert "receiving on" not in result.stdout


@pytest.mark.parametrize("text, words", [
    ('port = 9000\nrespond = "500"\nhost = \n', "line 3"),
    ('port = 9000\n\nfavourite-colour = "red"\n', "line 3: unknown setting 'favourite-colour'"),
    ('api-key = ["a"]\nport = "high"\n', "line 2: port must be an integer"),
    ('rule = [1, 2]\n', "line 1: rule must be a list of strings"),
    ('port = 9000\nhold-timeout = "soon"\n', "line 2: hold-timeout: not a duration: 'soon'"),
    ('forward = "ftp://x"\n', "line 1: forward: 'ftp://x' is not an http:// or https:// URL"),
    ('max-body = "lots"\n', "line 1: max-body: not a size: 'lots'"),
    ('port = 70000\n', "line 1: port: must be from 0 to 65535"),
])
def test_invalid_config_file_is_an_error_naming_the_line(tmp_path, text, words):
    config = tmp_path / "config.toml"
    config.write_text(text)
    result = run("--config", str(config), "history", data_dir=tmp_path)
    assert result.returncode == 2
    assert words in result.stderr and str(config) in result.stderr


def test_config_file_sets_defaults_and_flags_win(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'respond = "503:down for maintenance"\ndata-dir = "{tmp_path / "data"}"\n')
    server_args = ["--config", str(config), "serve", "--no-tunnel", "--port", "0", "--control-port", "0"]
    process = subprocess.Popen([PYTHON, "-m", "inspector", *server_args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    url = process.stdout.readline().split("receiving on ")[1].split()[0]
    request = urllib.request.Request(url, data=orjson.dumps(make_event()), headers=SEGMENT_HEADERS)
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request)
    assert answer.value.code == 503
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=20)
    assert (tmp_path / "data" / "history").is_dir()

    server = Serve(tmp_path / "flags", "--respond", "202")
    assert server.post(orjson.dumps(make_event()))[0] == 202
    server.stop()


def test_api_key_flag_enforces_keys(tmp_path):
    server = Serve(tmp_path, "--api-key", "k1", "--api-key", "k2")
    body = orjson.dumps(make_event())
    try:
        assert server.post(body)[0] == 401  # the key is "segment"
        import base64
        for key, expected in (("k1", 200), ("k2", 200), ("k3", 401)):
            auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
            assert server.post(body, dict(SEGMENT_HEADERS, Authorization=auth))[0] == expected
    finally:
        server.stop()


def test_python_m_inspector_and_the_console_script_agree():
    module = run("--version")
    script = Path(PYTHON).with_name("segment-inspector")
    assert module.returncode == 0 and "segment-inspector" in module.stdout
    assert subprocess.run([str(script), "--version"], capture_output=True, text=True).stdout == module.stdout


def test_lint_segment_templates_filled_exit_0(tmp_path):
    from ..conftest import CORPUS
    result = run("lint", "--fill", *sorted(str(p) for p in CORPUS.glob("*.log")))
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().endswith("98 events: 0 errors, 6 warnings, 0 info")
    assert "identify.log:6  identify" in result.stdout and "SPEC022" in result.stdout
    assert "--fill" not in result.stderr
    unfilled = run("lint", *sorted(str(p) for p in CORPUS.glob("*.log")))  # {{now.utc}} is no timestamp
    assert unfilled.returncode == 1 and "add --fill to lint them filled with fake data" in unfilled.stderr


def test_lint_exit_1_on_errors_with_json_lines_output(tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps(make_event(event="Purchase", timestamp="yesterday")) + "\n\n"
                      + json.dumps(make_event()) + "\n")
    result = run("lint", "--json", str(events))
    assert result.returncode == 1
    first, second = [json.loads(line) for line in result.stdout.splitlines()]
    assert first["source"] == f"{events}:1" and first["event"] == "Purchase"
    assert [(f["code"], f["severity"]) for f in first["findings"]] == [("SPEC013", "error"), ("SPEC042", "warning")]
    assert first["findings"][1]["url"] == "https://segment.com/docs/connections/spec/semantic/"
    assert second["source"] == f"{events}:3" and second["findings"] == []


def test_lint_reads_stdin_arrays_and_pretty_json(tmp_path):
    batch = json.dumps([make_event(), make_event(type="identify", traits={"email": 7})], indent=2)
    result = run("lint", "-", input=batch)
    assert result.returncode == 0
    assert "stdin[1]  identify" in result.stdout and "SPEC021" in result.stdout


def test_lint_splits_a_json_lines_array_into_its_events(tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps(make_event()) + "\n"
                      + json.dumps([make_event(), make_event(type="identify", traits={"email": 7})]) + "\n")
    result = run("lint", "--json", str(events))
    assert [json.loads(line)["source"] for line in result.stdout.splitlines()] == \
        [f"{events}:1", f"{events}:2[0]", f"{events}:2[1]"]
    assert json.loads(result.stdout.splitlines()[2])["type"] == "identify"


@pytest.mark.parametrize("content, words", [
    ("{\n  \"type\": \"track\",\n  oops\n}", "line 3 column 3"),
    ('{"type": "track"}\n{"type": \n', "line 2"),
    ("", "empty"),
])
def test_lint_unreadable_input_exits_2_with_where(tmp_path, content, words):
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = run("lint", str(path))
    assert result.returncode == 2
    assert words in result.stderr and str(path) in result.stderr and "Traceback" not in result.stderr
    missing = run("lint", str(tmp_path / "missing.json"))
    assert missing.returncode == 2 and "No such file" in missing.stderr
    assert "events:" not in result.stdout + missing.stdout  # nothing read: no "0 events" summary

"""Settings from flags, config file and defaults, and the inspector the factory builds from them."""

from __future__ import annotations

import argparse
import base64
import dataclasses
from pathlib import Path

import aiohttp
import orjson
import pytest

from inspector.cli.common import UsageError
from inspector.cli.factory import make_inspector, tracking_options
from inspector.cli.parser import make_parser
from inspector.cli.settings import OPTIONS, SECRET_ENV, Config, ConfigError, Settings, load, remember
from inspector.core import DEFAULT_PORT, naming
from inspector.core.history import History
from inspector.core.model import Summary
from inspector.core.policy import Reply
from inspector.local_segment.api import TRACKING
from inspector.receiver.app import DEFAULT_MAX_BODY

from ..conftest import SEGMENT_HEADERS
from ..factories import make_event


def test_a_flag_wins_over_the_config_file_which_wins_over_the_default():
    config = Config(None, {"port": 9000, "respond": "503", "hold-timeout": "2m"})
    settings = Settings.read(make_parser().parse_args(["--port", "9100"]), config, {})
    assert settings.port == 9100
    assert settings.respond == Reply(503)
    assert settings.hold_timeout == 120.0
    assert settings.max_body == DEFAULT_MAX_BODY
    default = Settings.of()
    assert default.port == DEFAULT_PORT and default.local_url == f"http://127.0.0.1:{DEFAULT_PORT}/"
    assert (default.keep, default.dedupe_window, default.time_scale) == (2 * 1024**3, 24 * 3600.0, 1.0)
    assert default.respond == Reply(200) and default.rules == () and default.keep_days is None


def test_the_shared_secret_comes_from_the_flag_then_the_environment_then_the_config_file():
    parse, config = make_parser().parse_args, Config(None, {"shared-secret": "from-config"})
    assert Settings.read(parse([]), config, {}).shared_secret == "from-config"
    assert Settings.read(parse([]), config, {SECRET_ENV: ""}).shared_secret == "from-config"  # empty: unset
    assert Settings.read(parse([]), config, {SECRET_ENV: "from-env"}).shared_secret == "from-env"
    assert Settings.read(parse(["--shared-secret", "flag"]), config, {SECRET_ENV: "from-env"}).shared_secret == "flag"
    send = ["send", "--to", "http://127.0.0.1:9/"]  # send signs with the same setting
    assert Settings.read(parse(send), config, {SECRET_ENV: "from-env"}).shared_secret == "from-env"
    assert Settings.read(parse([*send, "--shared-secret", "flag"]), config, {}).shared_secret == "flag"
    assert Settings.of().shared_secret is None  # for tests and tools: no environment, no config file


def test_every_value_is_read_once_into_its_type():
    args = make_parser().parse_args([
        "--max-body", "1MiB", "--keep", "10MB", "--keep-days", "12h", "--delay", "1.5s", "--hold-timeout", "1m",
        "--dedupe-window", "90m", "--forward", " http://localhost:3000/s ", "--api-key", "k2", "--api-key", "k1",
        "--write-key", "w", "--rule", "type:track => 503:busy", "--cert", "~/c.pem", "--key", "~/k.pem",
        "--settings", '{"region": "eu"}', "--rate-limit", "2.5", "--data-dir", "~/history"])
    settings = Settings.read(args, Config(None, {"keep-days": 7}), {})
    assert (settings.max_body, settings.keep, settings.keep_days) == (1024**2, 10_000_000, 0.5)
    assert (settings.delay, settings.hold_timeout, settings.dedupe_window) == (1.5, 60.0, 5400.0)
    assert settings.forward == "http://localhost:3000/s"
    assert settings.api_keys == ("k2", "k1") and settings.write_keys == frozenset({"w"})
    assert [str(rule) for rule in settings.rules] == ["type:track => 503:busy"]
    assert (settings.cert, settings.key) == (Path.home() / "c.pem", Path.home() / "k.pem")
    assert settings.data_dir == Path.home() / "history"
    assert orjson.loads(base64.b64decode(settings.delivery_settings or "")) == {"region": "eu"}
    assert settings.rate_limit == 2.5 and settings.local_url.startswith("https://")
    assert Settings.read(make_parser().parse_args([]), Config(None, {"keep-days": 7}), {}).keep_days == 7
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.port = 1  # type: ignore[misc]


def test_every_option_is_a_field_of_the_settings():
    assert {f.name for f in dataclasses.fields(Settings)} == \
        {option.attribute for option in OPTIONS.values()} | {"config_path"}


@pytest.mark.parametrize("argv, words", [
    (["--port", "70000"], "--port: must be from 0 to 65535"),
    (["--max-body", "lots"], "--max-body: not a size: 'lots'"),
    (["--keep", "0"], "--keep: a size must be more than 0"),
    (["--keep-days", "-1"], "--keep-days: not a duration: '-1'"),
    (["--hold-timeout", "0"], "--hold-timeout: must be more than 0"),
    (["--delay", "soon"], "--delay: not a duration: 'soon'"),
    (["--dedupe-window", "10y"], "--dedupe-window: not a duration: '10y'"),
    (["--forward", "ftp://x"], "--forward: 'ftp://x' is not an http:// or https:// URL"),
    (["--public-url", "hooks.example.com"], "--public-url: 'hooks.example.com' is not an http:// or https:// URL"),
    (["--deliver-to", "http://"], "--deliver-to: 'http://' is not an http:// or https:// URL"),
    (["--rate-limit", "-1"], "--rate-limit: must be 0 (no limit) or more"),
    (["--rate-limit", "nan"], "--rate-limit: must be 0 (no limit) or more"),
    (["--time-scale", "0"], "--time-scale: must be more than 0"),
    (["--trusted-proxies", "0"], "--trusted-proxies: must be 1 or more"),
    (["--respond", "700"], "--respond: status 700 is outside 100-599"),
    (["--rule", "type:track"], "--rule: a rule reads 'QUERY => STATUS[:message]'"),
    (["--rule", "type:(track => 500"], "--rule: rule query"),
    (["--settings", "[1]"], "--settings: must be a JSON object"),
    (["--mirror"], "--mirror: give the endpoint with --forward URL"),
    (["--cert", "c.pem"], "--cert and --key go together"),
    (["history", "--limit", "-1"], "--limit: must be 0 (all) or more"),
    (["send", "--to", "http://127.0.0.1:9/", "--time-scale", "0"], "--time-scale: must be more than 0"),
    (["send", "--to", "http://127.0.0.1:9/", "--settings", "{"], "--settings: must be a JSON object"),
])
def test_a_bad_value_names_its_flag(argv, words):
    with pytest.raises(UsageError) as raised:
        Settings.read(make_parser().parse_args(argv), Config(None, {}), {})
    assert str(raised.value).startswith(words)


@pytest.mark.parametrize("text, words", [
    ('port = 9000\nhold-timeout = "soon"\n', "line 2: hold-timeout: not a duration: 'soon'"),
    ('deliver-to = "localhost:3000"\n', "line 1: deliver-to: 'localhost:3000' is not an http:// or https:// URL"),
    ("keep = 0\n", "line 1: keep: a size must be more than 0"),
    ("time-scale = -1\n", "line 1: time-scale: must be more than 0"),
    ("trusted-proxies = -2\n", "line 1: trusted-proxies: must be 1 or more"),
    ('respond = 99\n', "line 1: respond: status 99 is outside 100-599"),
])
def test_a_bad_value_in_the_config_file_names_the_file_and_line(tmp_path, text, words):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        Settings.read(make_parser().parse_args([]), load(path), {})
    assert str(raised.value) == f"{path}, {words}" or str(raised.value).startswith(f"{path}, {words}")


def test_a_flag_replaces_a_bad_config_value():
    """Only the value used is read: the flag's, not the file's it overrides."""
    settings = Settings.read(make_parser().parse_args(["--max-body", "1KiB"]), Config(None, {"max-body": "lots"}), {})
    assert settings.max_body == 1024


def test_local_segment_is_built_from_the_settings():
    options = tracking_options(Settings.of(api_key=["k1", "k2"], write_key=["w"], dedupe_window="1h",
                                           deliver_to="https://dest.example.com/in", time_scale=0.5,
                                           destination_name="Mine", shared_secret="s"))
    assert (options.write_keys, options.dedupe_window, options.destination) == (frozenset({"w"}), 3600.0, "Mine")
    assert (options.deliver_to, options.api_key, options.time_scale) == ("https://dest.example.com/in", "k1", 0.5)
    assert options.shared_secret == "s" and options.settings is None
    default = tracking_options(Settings.of())
    assert (default.api_key, default.deliver_to, default.destination) == ("segment", None, "Segment Inspector")
    assert tracking_options(Settings.of(api_key=["k1"], deliver_api_key="d")).api_key == "d"


def test_every_flag_of_the_running_inspector_is_a_config_setting_and_back():
    parser = make_parser()
    flags = {action.dest for action in parser._actions} - {"help", "version", "config", "command"}
    with_flag = {name.replace("-", "_") for name, option in OPTIONS.items() if option.help is not None}
    assert flags == with_flag


def test_the_config_file_is_checked_against_the_same_table(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('port = "high"\n')
    with pytest.raises(ConfigError, match="line 1: port must be an integer, not str"):
        load(path)
    path.write_text('hold-timeout = 5\nkeys = {"answer.500" = "f5"}\n')
    settings = Settings.read(argparse.Namespace(), load(path), {})
    assert settings.hold_timeout == 5.0 and settings.keys == {"answer.500": "f5"}
    assert settings.config_path == path


async def test_the_factory_builds_a_receiving_inspector(tmp_path):
    inspector = make_inspector(Settings.of(data_dir=str(tmp_path), port=0, no_tunnel=True,
                                           rule=["event:Purchase => 400"]))
    try:
        url = await inspector.listeners.start()
        async with aiohttp.ClientSession() as session:
            body = orjson.dumps(make_event(event="Purchase"))
            async with session.post(url, data=body, headers=SEGMENT_HEADERS) as response:
                assert response.status == 400
        assert inspector.hub.tunnel.status == "off"
        [summary] = inspector.history.search(None)
        assert (naming.kind(summary), naming.title(summary)) == ("track", "Purchase")
    finally:
        await inspector.listeners.stop()
        inspector.close()
    assert len(History(tmp_path).load()) == 1  # kept where --data-dir said


@pytest.mark.parametrize("flags, reason", [
    ({}, "a tunnel will be opened"),
    ({"no_tunnel": True, "public_url": "https://in.example.com"}, "--public-url is given"),
    ({"no_tunnel": True, "host": "0.0.0.0"}, "--host 0.0.0.0 is not loopback"),
])
def test_an_exposed_tracking_api_that_delivers_elsewhere_needs_a_write_key(tmp_path, flags, reason):
    settings = Settings.of(data_dir=str(tmp_path), port=0, deliver_to="https://dest.example.com/in", **flags)
    with pytest.raises(UsageError) as raised:
        make_inspector(settings)
    message = str(raised.value)
    assert f"--deliver-to without --write-key while the inspector is reachable from outside ({reason})" in message
    assert "--deliver-api-key" in message and "--write-key KEY" in message and "--no-tunnel" in message
    assert not (tmp_path / "shards.json").exists() and not any(tmp_path.iterdir())  # refused before any start


DEST = "https://dest.example.com/in"


@pytest.mark.parametrize("flags", [
    {"no_tunnel": True, "deliver_to": DEST},  # only this machine reaches it
    {"no_tunnel": True, "host": "::1", "deliver_to": DEST},
    {"public_url": "https://in.example.com", "deliver_to": DEST, "write_key": ["w"]},  # only the key's calls
    {"public_url": "https://in.example.com"},  # delivered to its own partner side: nothing leaves
])
def test_a_tracking_api_on_this_machine_or_with_a_write_key_starts(tmp_path, flags):
    inspector = make_inspector(Settings.of(data_dir=str(tmp_path), port=0, **flags))
    try:
        assert inspector.listeners.receiver.app[TRACKING].options.deliver_to == flags.get("deliver_to")
    finally:
        inspector.close()


def _summary(**fields) -> Summary:
    base = {"id": "x", "time": 0.0, "method": "POST", "path": "/v1/batch", "status": 200, "types": (), "names": (),
            "users": (), "anons": (), "messages": (), "key": None, "codes": (), "severities": (), "redelivery": 0,
            "held": False, "text": ""}
    return Summary(**{**base, **fields})


def test_an_exchange_is_named_once_for_every_list():
    batch = _summary(types=("track", "track", "identify"), names=("A", "A", ""), users=("", "u2", ""),
                     anons=("a1", "", ""))
    assert (naming.kind(batch), naming.title(batch), naming.person(batch)) == ("batch(3)", "A", "a1")
    empty = _summary()
    assert (naming.kind(empty), naming.title(empty), naming.person(empty)) == ("", "POST /v1/batch", "")


def test_remember_writes_one_key_and_keeps_the_rest_of_the_file(tmp_path):
    path = tmp_path / "config" / "config.toml"
    remember(path, "theme", "nord")
    assert path.read_text() == 'theme = "nord"\n'
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    path.write_text('# mine\nport = 9000\ntheme = "nord"\n\n[keys]\n"answer.500" = "f5"\n')
    remember(path, "theme", 'gruvbox "x"')
    assert path.read_text() == '# mine\nport = 9000\ntheme = "gruvbox \\"x\\""\n\n[keys]\n"answer.500" = "f5"\n'
    assert load(path).values == {"port": 9000, "theme": 'gruvbox "x"', "keys": {"answer.500": "f5"}}
    path.write_text('[keys]\ntheme = "q"\n')  # not the top-level key: a new line goes before the table
    remember(path, "theme", "nord")
    assert load(path).values == {"theme": "nord", "keys": {"theme": "q"}}
    path.write_text("port = \n")
    with pytest.raises(ValueError, match="invalid TOML"):
        remember(path, "theme", "nord")
    assert path.read_text() == "port = \n"

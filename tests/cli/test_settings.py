"""Settings from flags, config file and defaults, and the inspector the factory builds from them."""

from __future__ import annotations

import argparse

import aiohttp
import orjson
import pytest

from inspector.cli.factory import make_inspector
from inspector.cli.parser import make_parser
from inspector.cli.settings import OPTIONS, Config, ConfigError, Settings, load, remember
from inspector.core import DEFAULT_PORT, naming
from inspector.core.history import History
from inspector.core.model import Summary

from ..conftest import SEGMENT_HEADERS
from ..factories import make_event


def test_a_flag_wins_over_the_config_file_which_wins_over_the_default():
    config = Config(None, {"port": 9000, "respond": "503"})
    settings = Settings(make_parser().parse_args(["--port", "9100"]), config)
    assert settings["port"] == 9100
    assert settings["respond"] == "503"
    assert settings["hold-timeout"] == OPTIONS["hold-timeout"].default
    assert Settings()["port"] == DEFAULT_PORT and Settings().local_url == f"http://127.0.0.1:{DEFAULT_PORT}/"


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
    assert Settings(argparse.Namespace(), load(path))["hold-timeout"] == 5


async def test_the_factory_builds_a_receiving_inspector(tmp_path):
    inspector = make_inspector(Settings.of(data_dir=str(tmp_path), port=0, no_tunnel=True,
                                           rule=["event:Purchase => 400"]))
    try:
        url = await inspector.receiver.start()
        async with aiohttp.ClientSession() as session:
            body = orjson.dumps(make_event(event="Purchase"))
            async with session.post(url, data=body, headers=SEGMENT_HEADERS) as response:
                assert response.status == 400
        assert inspector.hub.tunnel.status == "off"
        [summary] = inspector.history.search(None)
        assert (naming.kind(summary), naming.title(summary)) == ("track", "Purchase")
    finally:
        await inspector.receiver.stop()
        inspector.close()
    assert len(History(tmp_path).load()) == 1  # kept where --data-dir said


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

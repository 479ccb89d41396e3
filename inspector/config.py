"""The config file: a TOML file holding the default of every command-line flag.

Keys are the flags' long names without dashes in front (`port = 8686`,
`api-key = ["k1"]`, `rule = ["event:Purchase => 501"]`); a `[keys]` table remaps the
TUI's keys by binding id (`answer.500 = "f5"`). Flags given on the
command line win. A file that is not valid TOML, or that names an unknown flag or
gives a value of the wrong type, is an error that names its line.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

APP = "segment-inspector"

# Every flag a config file may set, with the TOML types it accepts.
OPTIONS: dict[str, tuple[type, ...]] = {
    "host": (str,),
    "port": (int,),
    "api-key": (list,),
    "rule": (list,),
    "respond": (str, int),
    "delay": (int, float),
    "data-dir": (str,),
    "max-body": (int, str),
    "hold-timeout": (int, float),
    "forward": (str,),
    "mirror": (bool,),
    "json": (bool,),
    "limit": (int,),
    "keys": (dict,),
    "no-tunnel": (bool,),
    "ngrok-authtoken": (str,),  # a setting only: a flag would show the token in `ps` and shell history
    "ngrok-domain": (str,),
    "ngrok-path": (str,),
    "region": (str,),
    "public-url": (str,),
    "tls": (bool,),
    "cert": (str,),
    "key": (str,),
    "write-key": (list,),
    "dedupe-window": (int, float, str),
    "destination-name": (str,),
    "deliver-to": (str,),
    "deliver-api-key": (str,),
    "settings": (str,),
    "time-scale": (int, float),
    "shared-secret": (str,),
}


class ConfigError(Exception):
    """A problem with the config file, worded for the user, naming file and line."""


@dataclass
class Config:
    path: Path | None
    values: dict[str, Any]

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


def default_path() -> Path:
    return Path(platformdirs.user_config_dir(APP)) / "config.toml"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP))


def _line_of(text: str, key: str) -> int | None:
    pattern = re.compile(rf"""^\s*["']?{re.escape(key)}["']?\s*=""")
    for number, line in enumerate(text.splitlines(), 1):
        if pattern.match(line):
            return number
    return None


def load(path: Path | None, *, explicit: bool = False) -> Config:
    """Read the config file; a missing file is fine unless the user named it."""
    path = path or default_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"{path}: no such config file") from None
        return Config(None, {})
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read the config file: {err}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: invalid TOML: {err}") from None
    for key, value in data.items():
        line = _line_of(text, key)
        where = f"{path}, line {line}" if line else str(path)
        if key not in OPTIONS:
            known = ", ".join(sorted(OPTIONS))
            raise ConfigError(f"{where}: unknown setting {key!r}; settings are {known}")
        types = OPTIONS[key]
        if isinstance(value, bool) and bool not in types or not isinstance(value, types):
            wanted = " or ".join(_TYPE_NAMES[t] for t in types)
            raise ConfigError(f"{where}: {key} must be {wanted}, not {type(value).__name__}")
        if isinstance(value, list) and not all(isinstance(item, str) for item in value):
            raise ConfigError(f"{where}: {key} must be a list of strings")
        if isinstance(value, dict) and not all(isinstance(item, str) for item in value.values()):
            raise ConfigError(f"{where}: [{key}] maps binding ids to keys, such as answer.500 = \"f5\"")
    return Config(path, data)


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
               list: "a list of strings", dict: "a table"}


def parse_size(value: int | str) -> int:
    """`8388608`, `8MiB`, `32KB`, `1.5mb`: a size in bytes."""
    if isinstance(value, int):
        if value <= 0:
            raise ValueError("a size must be positive")
        return value
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?\s*", value, re.IGNORECASE)
    if not match:
        raise ValueError(f"not a size: {value!r} (try 8MiB or 32KB)")
    number, unit = float(match.group(1)), (match.group(2) or "b").lower()
    scale = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit[0]]
    if len(unit) > 1 and unit[1] != "i" and unit != "b":
        scale = {"k": 1000, "m": 1000**2, "g": 1000**3}[unit[0]]
    size = int(number * scale)
    if size <= 0:
        raise ValueError("a size must be positive")
    return size

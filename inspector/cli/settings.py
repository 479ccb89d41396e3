"""What the user asked for: each setting from its flag, else the config file, else its default.

`OPTIONS` is the one list of settings: the parser makes the running inspector's flags
from it, the config file is checked against it, and it holds every default.

The config file is TOML. Keys are the flags' long names without dashes in front
(`port = 8686`, `api-key = ["k1"]`, `rule = ["event:Purchase => 501"]`); a `[keys]` table
remaps the TUI's keys by binding id (`answer.500 = "f5"`). Flags given on the command
line win. A file that is not valid TOML, or that names an unknown flag or gives a value
of the wrong type, is an error that names its line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from ..core import DEFAULT_HOST, DEFAULT_PORT
from ..receiver.app import DEFAULT_MAX_BODY
from ..receiver.limit import DEFAULT_RATE

APP = "segment-inspector"
SECRET_ENV = "SEGMENT_INSPECTOR_SHARED_SECRET"


@dataclass(frozen=True)
class Option:
    """One setting: the TOML types a config file may give it, its default, and its flag.

    An option with `help` is a flag of the running inspector (the TUI and `serve`);
    without, it is a flag of some commands (`json`, `limit`) or a config-file setting only.
    """

    name: str
    types: tuple[type, ...]
    default: Any = None
    help: str | None = None
    flag: dict[str, Any] = field(default_factory=dict)  # more argparse arguments: type, action, metavar
    env: str | None = None  # an environment variable that sets it too: after the flag, before the config file


_TABLE = (
    Option("host", (str,), DEFAULT_HOST, f"address to listen on (default {DEFAULT_HOST})"),
    Option("port", (int,), DEFAULT_PORT, f"port to listen on (default {DEFAULT_PORT}; 0 picks a free one)",
           {"type": int}),
    Option("api-key", (list,), (), "answer 401 unless the request carries this API key (repeatable)",
           {"action": "append", "metavar": "KEY"}),
    Option("rule", (list,), (), "answer matching requests with this status (repeatable; first match wins)",
           {"action": "append", "metavar": "'QUERY => STATUS[:message]'"}),
    Option("respond", (str, int), "200", "the default answer (200)", {"metavar": "STATUS[:message]"}),
    Option("delay", (int, float), 0.0, "wait before the default answer", {"type": float, "metavar": "SECONDS"}),
    Option("max-body", (int, str), DEFAULT_MAX_BODY,
           f"larger bodies get 413 (default {DEFAULT_MAX_BODY // 1024 ** 2}MiB)", {"metavar": "SIZE"}),
    Option("hold-timeout", (int, float), 30.0, "how long a held request waits for a person (default 30)",
           {"type": float, "metavar": "SECONDS"}),
    Option("data-dir", (str,), None, "where the history is kept"),
    Option("keep", (int, str), "2GiB", "keep at most this much history on disk, oldest sessions removed "
           "first (default 2GiB)", {"metavar": "SIZE"}),
    Option("keep-days", (int, float), None, "remove sessions older than N days at start",
           {"type": float, "metavar": "N"}),
    Option("forward", (str,), None, "relay every request to your endpoint and answer Segment with its "
           "answer, judged by Segment's contract", {"metavar": "URL"}),
    Option("mirror", (bool,), False, "with --forward: answer Segment from the policy, and forward a copy too",
           {"action": "store_true"}),
    Option("no-tunnel", (bool,), False, "no ngrok tunnel: receive on the local URL only", {"action": "store_true"}),
    Option("ngrok-domain", (str,), None, "open the tunnel on this reserved ngrok domain", {"metavar": "DOMAIN"}),
    Option("region", (str,), None, "the ngrok region (us, eu, ap, au, sa, jp, in)"),
    Option("ngrok-path", (str,), None, "the ngrok binary (default: ngrok on PATH, else where pyngrok keeps it)",
           {"metavar": "PATH"}),
    Option("public-url", (str,), None, "your own tunnel's URL (cloudflared, a reverse proxy): shown and used "
           "in exports; no ngrok", {"metavar": "URL"}),
    Option("rate-limit", (int, float), None, "answer 429 past N requests a second from one client (0: no "
           f"limit; default: none on loopback, {DEFAULT_RATE:g} once a tunnel is open, a --public-url is "
           "given or --host is not loopback)", {"type": float, "metavar": "N"}),
    Option("tls", (bool,), False, "receive over HTTPS with a certificate for localhost kept in the data directory",
           {"action": "store_true"}),
    Option("cert", (str,), None, "serve HTTPS with this certificate (with --key)", {"metavar": "PEM"}),
    Option("key", (str,), None, "the private key of --cert", {"metavar": "PEM"}),
    Option("write-key", (list,), (), "Tracking API: answer 401 unless a call carries this write key "
           "(repeatable; default: any)", {"action": "append", "metavar": "KEY"}),
    Option("dedupe-window", (int, float, str), None, "drop an event whose messageId was accepted this long "
           "before (default 24h, Segment's minimum)", {"metavar": "DURATION"}),
    Option("destination-name", (str,), None, "the name `integrations` turns on and off (default "
           "'Segment Inspector')", {"metavar": "NAME"}),
    Option("deliver-to", (str,), None, "deliver the Tracking API's events to this endpoint (default: this "
           "inspector's partner side)", {"metavar": "URL"}),
    Option("deliver-api-key", (str,), None, "the API key deliveries carry (default: the first --api-key, "
           "else segment)", {"metavar": "KEY"}),
    Option("settings", (str,), None, "a JSON object deliveries carry base64-encoded as X-Segment-Settings",
           {"metavar": "JSON"}),
    Option("time-scale", (int, float), None, "multiply every delivery backoff wait by F (0.01: a 1 s wait "
           "takes 10 ms)", {"type": float, "metavar": "F"}),
    Option("shared-secret", (str,), None, "verify X-Signature as a Webhooks destination's receiver: a wrong "
           "or missing one gets 401; local Segment signs its deliveries with it. The flag shows in `ps`: prefer "
           f"{SECRET_ENV} or the config file", {"metavar": "SECRET"}, env=SECRET_ENV),
    Option("json", (bool,), False),
    Option("limit", (int,), 100),
    Option("keys", (dict,), None),
    Option("theme", (str,), None),  # the TUI's theme, written back when the user picks another
    Option("ngrok-authtoken", (str,), None),  # a setting only: a flag would show the token in `ps` and shell history
)
OPTIONS: dict[str, Option] = {option.name: option for option in _TABLE}


class ConfigError(Exception):
    """A problem with the config file, worded for the user, naming file and line."""


@dataclass
class Config:
    path: Path | None
    values: dict[str, Any]


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
        types = OPTIONS[key].types
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            wanted = " or ".join(_TYPE_NAMES[t] for t in types)
            raise ConfigError(f"{where}: {key} must be {wanted}, not {type(value).__name__}")
        if isinstance(value, list) and not all(isinstance(item, str) for item in value):
            raise ConfigError(f"{where}: {key} must be a list of strings")
    return Config(path, data)


def remember(path: Path, key: str, value: str) -> None:
    """Set one top-level string setting in the config file, keeping every other line as
    it is; the file is made (0600, its directory 0700) if there is none. Raises OSError,
    or ValueError when the file is not TOML (it is left alone)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{path}: invalid TOML, {key} not saved: {err}") from None
    line = f"{key} = {json.dumps(value)}"  # a JSON string is a TOML basic string
    lines = text.splitlines()
    table = next((n for n, text_line in enumerate(lines) if text_line.lstrip().startswith("[")), len(lines))
    found = _line_of("\n".join(lines[:table]), key)
    if found is not None:
        lines[found - 1] = line
    else:
        lines.insert(0, line)  # top-level keys come before the first [table]
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    os.replace(temporary, path)


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
               list: "a list of strings", dict: "a table"}


class Settings:
    """The settings of one run: `settings["port"]` is the flag, else its environment variable (the shared
    secret's), else the config file's, else the default."""

    def __init__(self, args: argparse.Namespace | None = None, config: Config | None = None) -> None:
        self.args = args if args is not None else argparse.Namespace()
        self.config = config if config is not None else Config(None, {})

    @classmethod
    def of(cls, **flags: Any) -> Settings:
        """Settings as if these flags were given (`data_dir=...`, `no_tunnel=True`): for tests and tools."""
        return cls(argparse.Namespace(**flags))

    def __getitem__(self, name: str) -> Any:
        value = getattr(self.args, name.replace("-", "_"), None)
        if value is not None:
            return value
        option = OPTIONS[name]
        from_env = os.environ.get(option.env) if option.env else None
        return from_env if from_env else self.config.values.get(name, option.default)

    @property
    def data_dir(self) -> Path:
        return Path(self["data-dir"] or default_data_dir()).expanduser()

    @property
    def local_url(self) -> str:
        """The receiving URL, as a client on this machine reaches it."""
        host = self["host"]
        host = DEFAULT_HOST if host in ("", "0.0.0.0", "::") else host
        port = self["port"] or DEFAULT_PORT
        secure = self["tls"] or self["cert"]
        return f"{'https' if secure else 'http'}://{f'[{host}]' if ':' in host else host}:{port}/"


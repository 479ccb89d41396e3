"""What the user asked for: each setting from its flag, else the config file, else its default,
read once into a frozen `Settings` that the commands, the factory and the TUI are handed.

`OPTIONS` is the one list of settings: the parser makes the running inspector's flags
from it, the config file is checked against it, and it holds every default and how each
value is read (`core.values` for URLs, durations and sizes). A bad value is an error that
names its flag, or the config file and line: nothing past start-up reads a string.

The config file is TOML. Keys are the flags' long names without dashes in front
(`port = 8686`, `api-key = ["k1"]`, `rule = ["event:Purchase => 501"]`); a `[keys]` table
remaps the TUI's keys by binding id (`answer.500 = "f5"`). Flags given on the command
line win. A file that is not valid TOML, or that names an unknown flag or gives a value
of the wrong type, is an error that names its line.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from ..control.server import DEFAULT_PORT as CONTROL_PORT
from ..core import DEFAULT_HOST, DEFAULT_PORT, values
from ..core.policy import Reply, Rule, parse_reply, parse_rule
from ..local_segment.options import DESTINATION
from ..local_segment.pipeline import DEDUPE_WINDOW
from ..receiver.app import DEFAULT_MAX_BODY
from ..receiver.limit import DEFAULT_RATE
from .common import UsageError

APP = "segment-inspector"
SECRET_ENV = "SEGMENT_INSPECTOR_SHARED_SECRET"


Read = Callable[[Any], Any]  # a given value (a flag's string, a config file's number) to its typed value


@dataclass(frozen=True)
class Option:
    """One setting: the TOML types a config file may give it, its default, its flag, and how
    a value given is read (`read` raises ValueError, worded to follow the flag's name).

    An option with `help` is a flag of the running inspector (the TUI and `serve`);
    without, it is a flag of some commands (`json`, `limit`) or a config-file setting only.
    """

    name: str
    types: tuple[type, ...]
    default: Any = None
    help: str | None = None
    flag: dict[str, Any] = field(default_factory=dict)  # more argparse arguments: type, action, metavar
    env: str | None = None  # an environment variable that sets it too: after the flag, before the config file
    read: Read | None = None  # None: the value as given
    attr: str = ""  # its name in Settings, when not the flag's (`api_keys` for the repeatable --api-key)

    @property
    def dest(self) -> str:
        """Its name in argparse's namespace."""
        return self.name.replace("-", "_")

    @property
    def attribute(self) -> str:
        return self.attr or self.dest


def _port(value: int) -> int:
    if not 0 <= value <= 65535:
        raise ValueError("must be from 0 to 65535 (0 picks a free port)")
    return value


def _count(value: int) -> int:
    if value < 0:
        raise ValueError("must be 0 (all) or more")
    return value


def _rate(value: float) -> float:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError("must be 0 (no limit) or more requests a second")
    return float(value)


def _proxies(value: int) -> int:
    if value < 1:
        raise ValueError("must be 1 or more (the proxies that append to X-Forwarded-For)")
    return value


def _factor(value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        raise ValueError("must be more than 0")
    return float(value)


def _delay(value: float | str) -> float:
    return values.duration(value, positive=False)


def _days(value: float | str) -> float:
    """`--keep-days 7` or `12h`: days, as the history counts them."""
    return values.duration(value, unit="d", positive=False) / 86400


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def _path(value: str) -> Path:
    return Path(value).expanduser()


def _rules(texts: list[str]) -> tuple[Rule, ...]:
    return tuple(parse_rule(text) for text in texts)


def _plan(value: str) -> Any:
    from ..core.plans import load_plan  # the validators load only with a plan

    return load_plan(Path(value).expanduser())


def _on_violation(value: str) -> str:
    if value not in VIOLATION_ACTIONS:
        raise ValueError(f"{value!r} is not one of {', '.join(VIOLATION_ACTIONS)}")
    return value


VIOLATION_ACTIONS = ("allow", "block", "omit")


def _settings_header(text: str) -> str:
    from ..delivery import settings_header  # aiohttp's: only when deliveries carry settings

    return settings_header(text)


_TABLE = (
    Option("host", (str,), DEFAULT_HOST, f"address to listen on (default {DEFAULT_HOST})"),
    Option("port", (int,), DEFAULT_PORT, f"port to listen on (default {DEFAULT_PORT}; 0 picks a free one)",
           {"type": int}, read=_port),
    Option("api-key", (list,), (), "answer 401 unless the request carries this API key (repeatable)",
           {"action": "append", "metavar": "KEY"}, read=tuple, attr="api_keys"),
    Option("rule", (list,), (), "answer matching requests with this status (repeatable; first match wins)",
           {"action": "append", "metavar": "'QUERY => STATUS[:message]'"}, read=_rules, attr="rules"),
    Option("respond", (str, int), "200", "the default answer (200)", {"metavar": "STATUS[:message]"},
           read=lambda value: parse_reply(str(value))),
    Option("delay", (int, float, str), 0.0, "wait before the default answer (2, 1.5s, 1m)",
           {"metavar": "DURATION"}, read=_delay),
    Option("max-body", (int, str), DEFAULT_MAX_BODY,
           f"larger bodies get 413 (default {DEFAULT_MAX_BODY // 1024 ** 2}MiB)", {"metavar": "SIZE"},
           read=values.size),
    Option("hold-timeout", (int, float, str), 30.0, "how long a held request waits for a person (default 30s)",
           {"metavar": "DURATION"}, read=values.duration),
    Option("data-dir", (str,), None, "where the history is kept", read=_path),
    Option("keep", (int, str), "2GiB", "keep at most this much history on disk, oldest sessions removed "
           "first (default 2GiB)", {"metavar": "SIZE"}, read=values.size),
    Option("keep-days", (int, float, str), None, "remove sessions older than N days at start (7, or 12h)",
           {"metavar": "N"}, read=_days),
    Option("forward", (str,), None, "relay every request to your endpoint and answer Segment with its "
           "answer, judged by Segment's contract", {"metavar": "URL"}, read=values.url),
    Option("mirror", (bool,), False, "with --forward: answer Segment from the policy, and forward a copy too",
           {"action": "store_true"}, read=bool),
    Option("no-tunnel", (bool,), False, "no ngrok tunnel: receive on the local URL only", {"action": "store_true"},
           read=bool),
    Option("ngrok-domain", (str,), None, "open the tunnel on this reserved ngrok domain", {"metavar": "DOMAIN"}),
    Option("region", (str,), None, "the ngrok region (us, eu, ap, au, sa, jp, in)"),
    Option("ngrok-path", (str,), None, "the ngrok binary (default: ngrok on PATH, else where pyngrok keeps it)",
           {"metavar": "PATH"}),
    Option("public-url", (str,), None, "your own tunnel's URL (cloudflared, a reverse proxy): shown and used "
           "in exports; no ngrok", {"metavar": "URL"}, read=values.url),
    Option("rate-limit", (int, float), None, "answer 429 past N requests a second from one client (0: no "
           f"limit; default: none on loopback, {DEFAULT_RATE:g} once a tunnel is open, a --public-url is "
           "given or --host is not loopback)", {"type": float, "metavar": "N"}, read=_rate),
    Option("trusted-proxies", (int,), 1, "how many proxies in front of the receiver append to X-Forwarded-For "
           "(default 1: ngrok's agent, or the --public-url's proxy; more for a load balancer in front of it)",
           {"type": int, "metavar": "N"}, read=_proxies),
    Option("tls", (bool,), False, "receive over HTTPS with a certificate for localhost kept in the data directory",
           {"action": "store_true"}, read=bool),
    Option("cert", (str,), None, "serve HTTPS with this certificate (with --key)", {"metavar": "PEM"}, read=_path),
    Option("key", (str,), None, "the private key of --cert", {"metavar": "PEM"}, read=_path),
    Option("write-key", (list,), (), "Tracking API: answer 401 unless a call carries this write key "
           "(repeatable; default: any)", {"action": "append", "metavar": "KEY"}, read=frozenset, attr="write_keys"),
    Option("dedupe-window", (int, float, str), DEDUPE_WINDOW, "drop an event whose messageId was accepted this "
           "long before (default 24h, Segment's minimum)", {"metavar": "DURATION"}, read=values.duration),
    Option("destination-name", (str,), DESTINATION, "the name `integrations` turns on and off (default "
           f"{DESTINATION!r})", {"metavar": "NAME"}),
    Option("deliver-to", (str,), None, "deliver the Tracking API's events to this endpoint (default: this "
           "inspector's partner side)", {"metavar": "URL"}, read=values.url),
    Option("deliver-api-key", (str,), None, "the API key deliveries carry (default: the first --api-key, "
           "else segment)", {"metavar": "KEY"}),
    Option("settings", (str,), None, "a JSON object deliveries carry base64-encoded as X-Segment-Settings",
           {"metavar": "JSON"}, read=_settings_header, attr="delivery_settings"),
    Option("time-scale", (int, float), 1.0, "multiply every delivery backoff wait by F (0.01: a 1 s wait "
           "takes 10 ms)", {"type": float, "metavar": "F"}, read=_factor),
    Option("shared-secret", (str,), None, "verify X-Signature as a Webhooks destination's receiver: a wrong "
           "or missing one gets 401; local Segment signs its deliveries with it. The flag shows in `ps`: prefer "
           f"{SECRET_ENV} or the config file", {"metavar": "SECRET"}, env=SECRET_ENV),
    Option("control-port", (int,), None, f"the control API's port, for attached TUIs, agents and scripts (default "
           f"{CONTROL_PORT}, or none if it is taken; 0 picks a free one)", {"type": int, "metavar": "PORT"},
           read=_port),
    Option("control-host", (str,), DEFAULT_HOST, "the control API's address (default 127.0.0.1; another needs "
           "TLS, --tls or --cert, or --control-insecure)", {"metavar": "HOST"}),
    Option("no-control", (bool,), False, "no control API", {"action": "store_true"}, read=bool),
    Option("control-insecure", (bool,), False, "allow the control API on a host beyond loopback without TLS",
           {"action": "store_true"}, read=bool),
    Option("plan", (str,), None, "check every arriving event against this tracking plan (Segment's Public API "
           "rules, or a map of event name to JSON Schema; see docs/plans.md)", {"metavar": "PLAN.json"}, read=_plan),
    Option("no-unplanned-properties", (bool,), False, "with --plan: a property the plan does not list is a "
           "violation, not a warning", {"action": "store_true"}, read=bool),
    Option("block-unplanned-events", (bool,), False, "with --plan, as Protocols does: local Segment does not "
           "deliver a track event the plan does not have", {"action": "store_true"}, read=bool),
    Option("omit-unplanned-properties", (bool,), False, "with --plan: local Segment removes a track's "
           "properties the plan does not list before delivering it", {"action": "store_true"}, read=bool),
    Option("omit-unplanned-traits", (bool,), False, "with --plan: local Segment removes identify and group "
           "traits the plan does not list before delivering", {"action": "store_true"}, read=bool),
    Option("on-violation", (str,), "allow", "with --plan: what local Segment does with an event that violates "
           "it: allow (default), block it, or omit the properties at fault", {"choices": list(VIOLATION_ACTIONS)},
           read=_on_violation),
    Option("json", (bool,), False, read=bool),
    Option("limit", (int,), 100, read=_count),
    Option("keys", (dict,), None, read=dict),
    Option("theme", (str,), None),  # the TUI's theme, written back when the user picks another
    Option("ngrok-authtoken", (str,), None),  # a setting only: a flag would show the token in `ps` and shell history
)
OPTIONS: dict[str, Option] = {option.name: option for option in _TABLE}


class ConfigError(Exception):
    """A problem with the config file, worded for the user, naming file and line."""


@dataclass
class Config:
    """A config file's settings, and the line each is on."""

    path: Path | None
    values: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)

    def where(self, key: str) -> str:
        """Where the file sets `key`, for an error: `path, line 3`."""
        line = self.lines.get(key)
        name = str(self.path) if self.path is not None else "the config file"
        return f"{name}, line {line}" if line else name


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
    config = Config(path, data)
    for key, value in data.items():
        line = _line_of(text, key)
        if line:
            config.lines[key] = line
        where = config.where(key)
        if key not in OPTIONS:
            known = ", ".join(sorted(OPTIONS))
            raise ConfigError(f"{where}: unknown setting {key!r}; settings are {known}")
        types = OPTIONS[key].types
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            wanted = " or ".join(_TYPE_NAMES[t] for t in types)
            raise ConfigError(f"{where}: {key} must be {wanted}, not {type(value).__name__}")
        if isinstance(value, list) and not all(isinstance(item, str) for item in value):
            raise ConfigError(f"{where}: {key} must be a list of strings")
    return config


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


@dataclass(frozen=True, slots=True)
class Settings:
    """The settings of one run, each read and checked once: from its flag, else its environment
    variable (the shared secret's), else the config file, else its default (see `OPTIONS`)."""

    host: str
    port: int
    api_keys: tuple[str, ...]  # in the order given: the first is what deliveries carry by default
    rules: tuple[Rule, ...]
    respond: Reply
    delay: float  # seconds
    max_body: int  # bytes
    hold_timeout: float  # seconds
    data_dir: Path
    keep: int  # bytes
    keep_days: float | None
    forward: str | None
    mirror: bool
    no_tunnel: bool
    ngrok_domain: str | None
    region: str | None
    ngrok_path: str | None
    public_url: str | None
    rate_limit: float | None  # None: decided by how exposed the receiver is
    trusted_proxies: int
    tls: bool
    cert: Path | None
    key: Path | None
    write_keys: frozenset[str]
    dedupe_window: float  # seconds
    destination_name: str
    deliver_to: str | None
    deliver_api_key: str | None
    delivery_settings: str | None  # X-Segment-Settings, already base64
    time_scale: float
    shared_secret: str | None = field(repr=False)  # secrets stay out of tracebacks and logs
    control_port: int | None  # None: the default port, and none when it is taken
    control_host: str
    no_control: bool
    control_insecure: bool
    plan: Any  # a core.plans.Plan, or None
    no_unplanned_properties: bool
    block_unplanned_events: bool
    omit_unplanned_properties: bool
    omit_unplanned_traits: bool
    on_violation: str
    json: bool
    limit: int
    keys: dict[str, Any] | None
    theme: str | None
    ngrok_authtoken: str | None = field(repr=False)
    config_path: Path  # the config file read, or where one would be: the TUI writes the theme there

    @classmethod
    def read(cls, args: argparse.Namespace, config: Config | None = None,
             environ: Mapping[str, str] = os.environ) -> Settings:
        """The settings the command line, the environment and the config file give; UsageError
        names the flag or variable of a bad value, ConfigError the file and line."""
        config = config if config is not None else Config(None, {})
        given: dict[str, Any] = {}
        for option in OPTIONS.values():
            value, where = getattr(args, option.dest, None), f"--{option.name}"
            error: type[Exception] = UsageError
            if value is None and option.env and environ.get(option.env):
                value, where = environ[option.env], option.env
            if value is None and option.name in config.values:
                value, where, error = config.values[option.name], config.where(option.name), ConfigError
                where += f": {option.name}"
            if value is None:
                value = option.default
            try:
                given[option.attribute] = value if value is None or option.read is None else option.read(value)
            except ValueError as err:
                raise error(f"{where}: {err}") from None
        if given["mirror"] and not given["forward"]:
            raise UsageError("--mirror: give the endpoint with --forward URL")
        if (given["cert"] is None) != (given["key"] is None):
            raise UsageError("--cert and --key go together: give both, or --tls for a generated certificate")
        if not (given["no_control"] or _loopback(given["control_host"]) or given["tls"] or given["cert"]
                or given["control_insecure"]):
            raise UsageError(f"--control-host {given['control_host']}: beyond this machine the control API needs TLS "
                             "(--tls, or --cert and --key) so its token never crosses the network in the clear; "
                             "--control-insecure allows it anyway")
        enforcing = [f"--{name}" for name in ("no-unplanned-properties", "block-unplanned-events",
                                              "omit-unplanned-properties", "omit-unplanned-traits")
                     if given[name.replace("-", "_")]]
        enforcing += ["--on-violation"] if given["on_violation"] != "allow" else []
        if enforcing and given["plan"] is None:
            raise UsageError(f"{', '.join(enforcing)}: give the tracking plan with --plan PLAN.json")
        if given["data_dir"] is None:
            given["data_dir"] = default_data_dir()
        return cls(**given, config_path=config.path or default_path())

    @classmethod
    def of(cls, **flags: Any) -> Settings:
        """Settings as if these flags alone were given (`data_dir=...`, `no_tunnel=True`, `max_body=1000`),
        read and checked as the command line's: for tests and tools. No config file, no environment."""
        return cls.read(argparse.Namespace(**flags), Config(None, {}), {})

    @property
    def exposed(self) -> str | None:
        """Why the inspector is reachable from beyond this machine, or None when it is not."""
        if self.public_url:
            return "--public-url is given"
        if not _loopback(self.host):
            return f"--host {self.host} is not loopback"
        return None if self.no_tunnel else "a tunnel will be opened"

    @property
    def local_url(self) -> str:
        """The receiving URL, as a client on this machine reaches it."""
        host = DEFAULT_HOST if self.host in ("", "0.0.0.0", "::") else self.host
        port = self.port or DEFAULT_PORT
        secure = self.tls or self.cert is not None
        return f"{'https' if secure else 'http'}://{f'[{host}]' if ':' in host else host}:{port}/"

"""The one way to build a running inspector (history, hub, receiver, tunnel) from settings.

`serve`, the TUI and the tests all get theirs from `make_inspector`, so a setting means
the same thing wherever the inspector runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core import values
from ..core.history import History
from ..core.hub import Hub, TunnelState
from ..core.policy import Forward, Policy, parse_reply, parse_rule
from ..local_segment.options import options_from
from ..receiver import Receiver
from .common import RuntimeFailure, UsageError, load_history, value_of
from .settings import Settings


@dataclass
class Inspector:
    """A running inspector's parts; `receiver` is tunnelled unless the settings say otherwise."""

    history: History
    hub: Hub
    receiver: Receiver
    directory: Path

    def close(self) -> None:
        self.history.close()


def make_policy(settings: Settings) -> Policy:
    """How the inspector answers: --respond, --delay, --rule, --api-key, --forward."""
    try:
        default = parse_reply(str(settings["respond"]), float(settings["delay"]))
        rules = [parse_rule(text) for text in settings["rule"]]
    except ValueError as err:
        raise UsageError(str(err)) from None
    keys = frozenset(settings["api-key"])
    url = settings["forward"]
    mirror = bool(settings["mirror"])
    if mirror and not url:
        raise UsageError("--mirror: give the endpoint with --forward URL")
    forward = Forward(value_of("--forward", values.url, url), mirror) if url else None
    return Policy(default=default, rules=rules, api_keys=keys, forward=forward,
                  shared_secret=settings["shared-secret"])


def _ssl_context(settings: Settings, directory: Path) -> Any:
    """The receiver's TLS context: --cert/--key, or with --tls our own certificate; else None."""
    cert, key = settings["cert"], settings["key"]
    if bool(cert) != bool(key):
        raise UsageError("--cert and --key go together: give both, or --tls for a generated certificate")
    if not cert and not settings["tls"]:
        return None
    from ..tls import CertificateError, ensure_certificate, server_context

    try:
        if cert:
            return server_context(Path(cert).expanduser(), Path(key).expanduser())
    except CertificateError as err:
        raise UsageError(str(err)) from None
    try:
        return server_context(*ensure_certificate(directory))
    except CertificateError as err:
        raise RuntimeFailure(str(err)) from None


def _reachable(settings: Settings, hub: Hub, receiver: Receiver, directory: Path) -> Any:
    """The receiver as Segment reaches it: through the user's --public-url, or an ngrok tunnel."""
    public_url = settings["public-url"]
    if public_url:
        hub.set_tunnel(TunnelState("external", public_url=public_url))
        return receiver
    if settings["no-tunnel"]:
        hub.set_tunnel(TunnelState("off", note="no tunnel (--no-tunnel): Segment cannot reach this URL"))
        return receiver
    from ..tunnel import Tunnel, TunnelledReceiver, find_authtoken, find_ngrok, ngrok_config_paths

    explicit = settings["ngrok-path"]
    token = find_authtoken(os.environ, settings["ngrok-authtoken"], ngrok_config_paths())
    tunnel = Tunnel(hub, ngrok_path=find_ngrok(explicit), authtoken=token, config_dir=directory / "ngrok",
                    domain=settings["ngrok-domain"], region=settings["region"],
                    explicit_path=bool(explicit))
    return TunnelledReceiver(receiver, tunnel)


def make_inspector(settings: Settings) -> Inspector:
    """The history, hub and receiver that `serve` and the TUI run; close() it when done."""
    policy = make_policy(settings)
    max_body = value_of("--max-body", values.size, settings["max-body"])
    rate_limit = settings["rate-limit"]
    if rate_limit is not None and not rate_limit >= 0:
        raise UsageError("--rate-limit: must be 0 (no limit) or more requests a second")
    if settings["public-url"]:
        value_of("--public-url", values.url, settings["public-url"])
    directory = settings.data_dir
    ssl_context = _ssl_context(settings, directory)
    retention = {"keep_bytes": value_of("--keep", values.size, settings["keep"]), "keep_days": settings["keep-days"]}
    try:
        history = load_history(directory, **retention)
        history.start_session()
    except OSError as err:
        raise RuntimeFailure(f"cannot use the data directory {directory}: {err}") from None
    hub = Hub(history, policy, hold_timeout=float(settings["hold-timeout"]))
    try:
        tracking = options_from(lambda name, default=None: settings[name] or default)
    except ValueError as err:
        raise UsageError(str(err)) from None
    receiver = Receiver(hub, host=settings["host"], port=settings["port"], max_body=max_body,
                        ssl_context=ssl_context, tracking=tracking, rate_limit=rate_limit)
    return Inspector(history, hub, _reachable(settings, hub, receiver, directory), directory)

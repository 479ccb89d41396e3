"""The one way to build a running inspector (history, hub, receiver, tunnel) from settings.

`serve`, the TUI and the tests all get theirs from `make_inspector`, so a setting means
the same thing wherever the inspector runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..control.server import DEFAULT_PORT as CONTROL_PORT, ControlServer
from ..core.history import History
from ..core.hub import Hub, TunnelState
from ..core.policy import Forward, Policy
from ..listeners import Listeners
from ..local_segment.options import TrackingOptions
from ..local_segment.protocols import Protocols
from ..receiver import Receiver
from ..tunnel import Tunnel, find_authtoken, find_ngrok, ngrok_config_paths
from .common import RuntimeFailure, UsageError, load_history
from .settings import Settings


@dataclass
class Inspector:
    """A running inspector's parts; `listeners`: the receiver, its tunnel, the control API."""

    history: History
    hub: Hub
    listeners: Listeners
    directory: Path

    def close(self) -> None:
        self.history.close()


def make_policy(settings: Settings) -> Policy:
    """How the inspector answers: --respond, --delay, --rule, --api-key, --forward."""
    forward = Forward(settings.forward, settings.mirror) if settings.forward else None
    return Policy(default=replace(settings.respond, delay=settings.delay),
                  rules=[replace(rule) for rule in settings.rules],  # the UIs turn them on and off
                  api_keys=frozenset(settings.api_keys), forward=forward, shared_secret=settings.shared_secret)


def tracking_options(settings: Settings) -> TrackingOptions:
    """How local Segment plays its part: --write-key, --dedupe-window, --deliver-to and the rest."""
    first_key = settings.api_keys[0] if settings.api_keys else "segment"
    return TrackingOptions(write_keys=settings.write_keys, dedupe_window=settings.dedupe_window,
                           destination=settings.destination_name, deliver_to=settings.deliver_to,
                           api_key=settings.deliver_api_key or first_key, settings=settings.delivery_settings,
                           time_scale=settings.time_scale, shared_secret=settings.shared_secret,
                           protocols=Protocols(settings.block_unplanned_events, settings.omit_unplanned_properties,
                                               settings.omit_unplanned_traits, settings.on_violation))


def _ssl_context(settings: Settings, directory: Path) -> Any:
    """The receiver's TLS context: --cert/--key, or with --tls our own certificate; else None."""
    if settings.cert is None and not settings.tls:
        return None
    from ..tls import CertificateError, ensure_certificate, server_context

    if settings.cert is not None and settings.key is not None:  # Settings has both or neither
        try:
            return server_context(settings.cert, settings.key)
        except CertificateError as err:
            raise UsageError(str(err)) from None
    try:
        return server_context(*ensure_certificate(directory))
    except CertificateError as err:
        raise RuntimeFailure(str(err)) from None


def _tunnel(settings: Settings, hub: Hub, directory: Path) -> Tunnel | None:
    """How Segment reaches the receiver: through the user's --public-url, or an ngrok tunnel."""
    if settings.public_url:
        hub.set_tunnel(TunnelState("external", public_url=settings.public_url))
        return None
    if settings.no_tunnel:
        hub.set_tunnel(TunnelState("off", note="no tunnel (--no-tunnel): Segment cannot reach this URL"))
        return None
    explicit = settings.ngrok_path
    token = find_authtoken(os.environ, settings.ngrok_authtoken, ngrok_config_paths())
    return Tunnel(hub, ngrok_path=find_ngrok(explicit), authtoken=token, config_dir=directory / "ngrok",
                  domain=settings.ngrok_domain, region=settings.region, explicit_path=bool(explicit))


def _control(settings: Settings, hub: Hub, directory: Path, ssl_context: Any) -> ControlServer | None:
    """The control API, on its own port; over TLS whenever the receiver is."""
    if settings.no_control:
        return None
    port = CONTROL_PORT if settings.control_port is None else settings.control_port
    try:
        own = None
        if ssl_context is not None and settings.cert is None:
            from ..tls import ensure_certificate
            own = ensure_certificate(directory)[0]
        return ControlServer(hub, directory, settings.control_host, port, ssl_context, own)
    except OSError as err:
        raise RuntimeFailure(f"cannot keep the control token in {directory}: {err.strerror or err}") from None


def _closed_when_exposed(settings: Settings) -> None:
    """Refuse an open Tracking API that delivers elsewhere once strangers can reach it: it would
    carry their events to the user's endpoint with the user's --deliver-api-key."""
    reason = settings.exposed
    if reason and settings.deliver_to and not settings.write_keys:
        raise UsageError(
            f"--deliver-to without --write-key while the inspector is reachable from outside ({reason}): "
            "anyone who finds its URL could make local Segment deliver to your endpoint carrying "
            "--deliver-api-key. Give --write-key KEY so only your sources' calls are delivered, "
            "or keep the inspector on this machine (--no-tunnel, no --public-url, a loopback --host)")


def make_inspector(settings: Settings) -> Inspector:
    """The history, hub and receiver that `serve` and the TUI run; close() it when done."""
    _closed_when_exposed(settings)
    policy = make_policy(settings)
    directory = settings.data_dir
    ssl_context = _ssl_context(settings, directory)
    try:
        history = load_history(directory, keep_bytes=settings.keep, keep_days=settings.keep_days)
        history.start_session()
    except OSError as err:
        raise RuntimeFailure(f"cannot use the data directory {directory}: {err}") from None
    hub = Hub(history, policy, hold_timeout=settings.hold_timeout)
    if settings.plan is not None:
        from ..core.plans import Checking

        hub.check_with(Checking(settings.plan, unplanned_properties=not settings.no_unplanned_properties))
    receiver = Receiver(hub, host=settings.host, port=settings.port, max_body=settings.max_body,
                        ssl_context=ssl_context, tracking=tracking_options(settings), rate_limit=settings.rate_limit,
                        trusted_proxies=settings.trusted_proxies)
    listeners = Listeners(receiver, _tunnel(settings, hub, directory), _control(settings, hub, directory, ssl_context),
                          control_required=settings.control_port is not None)
    return Inspector(history, hub, listeners, directory)

"""The running inspector: `serve` headless, one line per exchange, and the TUI."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from .. import __version__
from ..core.checks import with_urls
from ..core.history.format import encode
from ..core.hub import Notice
from ..core.text import inert, inert_json
from .common import EXIT_FAILURE, EXIT_OK
from .factory import make_inspector
from .lines import line_of
from .settings import ConfigError, Settings, remember


def serve(args: argparse.Namespace, settings: Settings) -> int:
    inspector = make_inspector(settings)
    hub, receiver = inspector.hub, inspector.listeners
    as_json = settings.json

    lines: list[str] = []

    def write_lines() -> None:
        sys.stdout.write("".join(lines))
        sys.stdout.flush()
        lines.clear()

    def show_line(notice: Notice) -> None:
        """Queue the exchange's line; lines of one event-loop turn are written at once."""
        if notice.kind != "recorded" or notice.exchange is None or notice.summary is None:
            return
        if not lines:
            asyncio.get_running_loop().call_soon(write_lines)
        lines.append((inert_json(with_urls(encode(notice.exchange))) if as_json else line_of(notice.summary)) + "\n")

    def show_tunnel(notice: Notice | None = None) -> None:
        """A line on stderr when the public URL changes or goes: stdout stays one line per exchange."""
        state = hub.tunnel
        if (notice is not None and notice.kind != "tunnel") or state is None or state.status == "off":
            return
        text = (f"public URL {state.public_url}  (paste it into Segment's destination settings)"
                if state.public_url else state.note)
        print(f"segment-inspector: {inert(text)}", file=sys.stderr, flush=True)

    hub.subscribe(show_line)
    hub.subscribe(show_tunnel)

    async def run() -> int:
        try:
            url = await receiver.start()
        except OSError as err:
            print(f"segment-inspector: cannot listen on {receiver.host}:{receiver.port}: "
                  f"{err.strerror or err}", file=sys.stderr)
            return EXIT_FAILURE
        hub.set_local_url(url)
        print(f"segment-inspector {__version__} receiving on {inert(url)}  "
              f"(answer: {inert(hub.answering())}; history: {inspector.directory}; Ctrl-C stops)",
              file=sys.stderr if as_json else sys.stdout, flush=True)
        for note in receiver.notes:
            print(f"segment-inspector: {inert(note)}", file=sys.stderr, flush=True)
        if receiver.control_url:
            print(f"segment-inspector: control API on {receiver.control_url}; a teammate's TUI attaches with: "
                  f"{inert(receiver.attach_command())}", file=sys.stderr, flush=True)
        show_tunnel()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        await receiver.stop()
        return EXIT_OK

    try:
        return asyncio.run(run())
    finally:
        inspector.close()


def tui(args: argparse.Namespace, settings: Settings) -> int:
    """The TUI, with the receiver running on its event loop."""
    from ..tui.app import InspectorApp, checked_keymap  # the only place the command line touches Textual
    from ..tui.keys import KeymapError

    try:
        keymap = checked_keymap(settings.keys or {})
    except KeymapError as err:
        raise ConfigError(str(err)) from None
    inspector = make_inspector(settings)
    app = InspectorApp(inspector.hub, receiver=inspector.listeners, keymap=keymap, theme=settings.theme,
                       remember_theme=lambda theme: remember(settings.config_path, "theme", theme))
    try:
        app.run()
    finally:
        inspector.close()
    return app.return_code or EXIT_OK


def attach(args: argparse.Namespace, settings: Settings) -> int:
    """The TUI on another inspector, through its control API: one history, answered together."""
    import getpass
    import socket

    from ..control.client import DEFAULT_URL, ControlClient, ControlError, find_token, trusting
    from ..control.remote import RemoteHub
    from ..core import values
    from ..core.hub_api import HubUnavailable
    from ..tui.app import InspectorApp, checked_keymap
    from ..tui.keys import KeymapError
    from .common import RuntimeFailure, UsageError, value_of

    url = value_of("URL", values.url, args.url or DEFAULT_URL)
    try:
        token = find_token(args.token_file, settings.data_dir)
    except (OSError, ValueError) as err:
        raise UsageError(f"no control token ({inert(str(err))}): give --token-file PATH, the file serve names "
                         "at start, or set SEGMENT_INSPECTOR_TOKEN") from None
    try:
        keymap = checked_keymap(settings.keys or {})
    except KeymapError as err:
        raise ConfigError(str(err)) from None
    name = args.name or f"{getpass.getuser()}@{socket.gethostname()}"
    try:
        trust = trusting(args.cafile)
    except ValueError as err:
        raise UsageError(inert(str(err))) from None
    hub = RemoteHub(ControlClient(url, token, name=inert(name)[:80], trust=trust), settings.data_dir)
    try:
        hub.connect()
    except (ControlError, HubUnavailable) as err:
        hub.close()
        raise RuntimeFailure(f"cannot attach to {inert(url)}: {inert(str(err))}") from None
    app = InspectorApp(hub, keymap=keymap, theme=settings.theme, local_url=hub.local_url)
    try:
        app.run()
    finally:
        hub.close()
    return app.return_code or EXIT_OK

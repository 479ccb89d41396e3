"""What `serve` and the TUI listen on, started and stopped together: the receiver, the
tunnel in front of it (when there is one) and the control API on a port of its own.

The tunnel's upstream is the receiver, never the control API: what comes through the
tunnel can only ever be a partner request.
"""

from __future__ import annotations

import shlex

from .control.server import DEFAULT_PORT, ControlServer
from .receiver import Receiver
from .tunnel import Tunnel, upstream_url


class Listeners:
    """It stands in for the Receiver wherever one is expected (host, port, url, start, stop)."""

    def __init__(self, receiver: Receiver, tunnel: Tunnel | None = None, control: ControlServer | None = None,
                 *, control_required: bool = False) -> None:
        self.receiver = receiver
        self.tunnel = tunnel
        self.control = control
        self.control_required = control_required  # its port was asked for: not getting it stops the start
        self.notes: list[str] = []  # what the user should know of the start: shown by serve and the TUI

    @property
    def host(self) -> str:
        return self.receiver.host

    @property
    def port(self) -> int:
        return self.receiver.port

    @property
    def url(self) -> str:
        return self.receiver.url

    @property
    def control_url(self) -> str:
        """The control API's URL once it listens, else ""."""
        return self.control.url if self.control is not None else ""

    def attach_command(self) -> str:
        """The command that opens a TUI on this inspector, as a teammate would type it."""
        if self.control is None or not self.control.url:
            return ""
        trust = (f" --cafile {shlex.quote(str(self.control.certificate))}"
                 if self.control.certificate is not None and self.control.url.startswith("https:") else "")
        return (f"segment-inspector attach {shlex.quote(self.control.url)} "
                f"--token-file {shlex.quote(str(self.control.token_file))}{trust}")

    async def start(self) -> str:
        url = await self.receiver.start()
        try:
            if self.control is not None:
                await self._start_control()
            if self.tunnel is not None:
                self.tunnel.open(upstream_url(self.receiver.host, url))
        except BaseException:
            await self.stop()
            raise
        return url

    async def _start_control(self) -> None:
        assert self.control is not None
        try:
            await self.control.start()
        except OSError as err:
            if self.control_required:
                raise OSError(err.errno, f"the control API cannot listen on {self.control.host}:"
                                         f"{self.control.port}: {err.strerror or err}") from None
            self.notes.append(f"the control API is off: {self.control.host}:{self.control.port} is taken "
                              f"({err.strerror or err}; another inspector?): --control-port PORT, or 0 for a free one")
            self.control = None

    async def stop(self) -> None:
        if self.tunnel is not None:
            await self.tunnel.close()
        if self.control is not None:
            await self.control.stop()
        await self.receiver.stop()


__all__ = ["DEFAULT_PORT", "Listeners"]

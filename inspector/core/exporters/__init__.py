"""Exporters: pure functions from exchanges to text, in one registry the CLI and the TUI share."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..model import Exchange

Exporter = Callable[[Sequence[Exchange], str], str]
EXPORTERS: dict[str, Exporter] = {}


def exporter(name: str) -> Callable[[Exporter], Exporter]:
    def register(function: Exporter) -> Exporter:
        EXPORTERS[name] = function
        return function

    return register


from . import curl  # noqa: E402,F401  (registers)

"""The HTTP side: an aiohttp app that hands every request to the hub."""

from .app import make_app
from .server import Receiver

__all__ = ["Receiver", "make_app"]

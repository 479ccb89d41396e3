"""The rate limit: set by --rate-limit or the config file, counted per client, behind a tunnel by
the address the tunnel forwards for."""

from __future__ import annotations

import argparse

import aiohttp
import orjson
import pytest
from multidict import CIMultiDict

from inspector.cli.common import UsageError
from inspector.cli.factory import make_inspector
from inspector.cli.parser import make_parser
from inspector.cli.settings import Config, Settings
from inspector.core.history import History
from inspector.core.hub import Hub, TunnelState
from inspector.core.policy import Policy
from inspector.receiver import Receiver
from inspector.receiver.app import LIMIT
from inspector.receiver.limit import DEFAULT_RATE, RateLimit

from ..conftest import SEGMENT_HEADERS
from ..factories import make_event

SLOW = 0.01  # one request, then none for 100 s: no test waits that long, so the second is refused


async def statuses(url: str, forwarded_for: list[str | None]) -> list[int]:
    """POST an event once for each X-Forwarded-For value (None: no header); the statuses."""
    found = []
    async with aiohttp.ClientSession() as session:
        for value in forwarded_for:
            headers = dict(SEGMENT_HEADERS, **({"X-Forwarded-For": value} if value else {}))
            async with session.post(url, data=orjson.dumps(make_event()), headers=headers) as response:
                found.append(response.status)
                if response.status == 429:
                    assert response.headers["Retry-After"] == "1"
                    assert "rate limit" in (await response.json())["message"]
    return found


@pytest.fixture
async def receiving(tmp_path):
    history = History(tmp_path).load()
    history.start_session()
    hub = Hub(history, Policy())
    receiver = Receiver(hub, port=0, rate_limit=SLOW)
    url = await receiver.start()
    yield hub, url
    await receiver.stop()
    history.close()


async def test_behind_the_tunnel_each_forwarded_client_has_its_own_limit(receiving):
    hub, url = receiving
    hub.set_tunnel(TunnelState("up", "https://x.ngrok.app"))
    assert await statuses(url, ["203.0.113.1", "203.0.113.1", "203.0.113.2"]) == [200, 429, 200]
    # What a client writes itself comes first: the address the tunnel added last is the one counted.
    assert await statuses(url, ["198.51.100.9, 203.0.113.1", "198.51.100.10, 203.0.113.3"]) == [429, 200]


async def test_a_client_rotating_its_own_x_forwarded_for_line_is_still_counted_once(receiving):
    """The proxy appends a line of its own after the client's: every line is read, the last hop counts."""
    hub, url = receiving
    hub.set_tunnel(TunnelState("external", "https://hooks.example/"))
    found = []
    async with aiohttp.ClientSession() as session:
        for n in range(5):
            headers = CIMultiDict(SEGMENT_HEADERS)
            headers.add("X-Forwarded-For", f"198.51.100.{n}")  # the client's own, new each time
            headers.add("X-Forwarded-For", "203.0.113.50")  # what the proxy appended
            async with session.post(url, data=orjson.dumps(make_event()), headers=headers) as response:
                found.append(response.status)
    assert found == [200, 429, 429, 429, 429]


async def test_without_a_tunnel_x_forwarded_for_is_not_believed(receiving):
    hub, url = receiving
    hub.set_tunnel(TunnelState("off"))
    assert await statuses(url, ["203.0.113.1", "203.0.113.2", None]) == [200, 429, 429]


def test_the_client_is_the_peer_unless_a_tunnel_brings_it_from_loopback(tmp_path):
    hub = Hub(History(tmp_path), Policy())
    limit = RateLimit()
    assert limit.client(hub, "127.0.0.1", ["203.0.113.1"]) == "127.0.0.1"  # no tunnel
    hub.set_tunnel(TunnelState("up", "https://x.ngrok.app"))
    assert limit.client(hub, "127.0.0.1", ["203.0.113.1, 203.0.113.7"]) == "203.0.113.7"
    assert limit.client(hub, "127.0.0.1", ["198.51.100.66", "203.0.113.7"]) == "203.0.113.7"  # a line of its own
    assert limit.client(hub, "[::1]", ["2001:db8::1"]) == "2001:db8::1"
    assert limit.client(hub, "192.0.2.5", ["203.0.113.1"]) == "192.0.2.5"  # not from the tunnel's agent
    assert limit.client(hub, "127.0.0.1", []) == "127.0.0.1"
    behind_two = RateLimit(proxies=2)  # a load balancer in front of the --public-url's proxy
    assert behind_two.client(hub, "127.0.0.1", ["198.51.100.66, 203.0.113.7, 10.0.0.2"]) == "203.0.113.7"
    assert behind_two.client(hub, "127.0.0.1", ["203.0.113.7"]) == "203.0.113.7"


def test_rate_limit_comes_from_the_flag_else_the_config_file(tmp_path):
    def limit_of(argv: list[str], config: dict | None = None) -> float | None:
        args = make_parser().parse_args([*argv, "--data-dir", str(tmp_path), "--no-tunnel", "--port", "0"])
        inspector = make_inspector(Settings.read(args, Config(None, config or {})))
        try:
            return inspector.listeners.receiver.app[LIMIT].rate
        finally:
            inspector.close()

    assert limit_of([]) is None  # the default: decided by how exposed the receiver is
    assert limit_of([], {"rate-limit": 20}) == 20
    assert limit_of(["--rate-limit", "0"], {"rate-limit": 20}) == 0
    assert limit_of(["--rate-limit", "2.5"]) == 2.5
    with pytest.raises(UsageError, match="--rate-limit"):
        limit_of(["--rate-limit", "-1"])


async def test_rate_limit_zero_turns_it_off_even_with_a_public_url(tmp_path):
    settings = Settings.read(argparse.Namespace(data_dir=str(tmp_path), port=0, public_url="https://in.example.com",
                                                rate_limit=0.0))
    inspector = make_inspector(settings)
    try:
        assert inspector.listeners.receiver.app[LIMIT].current(inspector.hub) == 0
        url = await inspector.listeners.start()
        assert await statuses(url, [None] * 3) == [200] * 3
    finally:
        await inspector.listeners.stop()
        inspector.close()
    settings = Settings.read(argparse.Namespace(data_dir=str(tmp_path), port=0, public_url="https://in.example.com"))
    inspector = make_inspector(settings)
    try:
        assert inspector.listeners.receiver.app[LIMIT].current(inspector.hub) == DEFAULT_RATE
    finally:
        inspector.close()


@pytest.mark.parametrize("proxies, expected", [(1, [200, 200, 429]), (2, [200, 429, 200])])
async def test_trusted_proxies_name_the_hop_that_is_the_client(tmp_path, proxies, expected):
    """Behind a load balancer and the --public-url's proxy, the client is two hops from the end."""
    settings = Settings.of(data_dir=str(tmp_path), port=0, public_url="https://in.example.com", rate_limit=SLOW,
                           trusted_proxies=proxies)
    inspector = make_inspector(settings)
    try:
        url = await inspector.listeners.start()
        found = await statuses(url, ["198.51.100.1, 203.0.113.7, 10.0.0.2", "198.51.100.2, 203.0.113.7, 10.0.0.3",
                                     "198.51.100.3, 203.0.113.8, 10.0.0.2"])
        assert found == expected
    finally:
        await inspector.listeners.stop()
        inspector.close()


def test_trusted_proxies_come_from_the_flag_else_the_config_file(tmp_path):
    def proxies_of(argv: list[str], config: dict | None = None) -> int:
        args = make_parser().parse_args([*argv, "--data-dir", str(tmp_path), "--no-tunnel", "--port", "0"])
        inspector = make_inspector(Settings.read(args, Config(None, config or {}), {}))
        try:
            return inspector.listeners.receiver.app[LIMIT].proxies
        finally:
            inspector.close()

    assert proxies_of([]) == 1  # ngrok's agent, or the --public-url's proxy
    assert proxies_of([], {"trusted-proxies": 2}) == 2
    assert proxies_of(["--trusted-proxies", "3"], {"trusted-proxies": 2}) == 3
    with pytest.raises(UsageError, match="--trusted-proxies: must be 1 or more"):
        proxies_of(["--trusted-proxies", "0"])

"""A client of the control API: what `attach` and `mcp --attach` drive a remote inspector with.

One method a call of docs/api.md; a refusal raises `ControlError` with the server's
message and status, a server that cannot be reached `Unreachable`.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

from .api import VIEWER
from .server import DEFAULT_PORT
from .token import read_token, token_path

DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}"
TOKEN_ENV = "SEGMENT_INSPECTOR_TOKEN"


class ControlError(Exception):
    """The control API refused a call: `status` and its `message`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Unreachable(ControlError):
    """No answer from the control URL (down, restarting, wrong address)."""

    def __init__(self, message: str) -> None:
        super().__init__(0, message)


def find_token(token_file: str | None, data_dir: Path) -> str:
    """`--token-file`, else SEGMENT_INSPECTOR_TOKEN, else the data directory's control-token."""
    if token_file:
        return read_token(Path(token_file))
    if os.environ.get(TOKEN_ENV, "").strip():
        return os.environ[TOKEN_ENV].strip()
    return read_token(token_path(data_dir))


def trusting(cafile: str | None) -> ssl.SSLContext | None:
    """TLS that trusts `cafile` besides the system's certificates (`serve --tls` makes its own);
    ValueError, saying so, when it is no certificate."""
    if not cafile:
        return None
    try:
        return ssl.create_default_context(cafile=cafile)
    except (OSError, ValueError) as err:  # ssl.SSLError is an OSError
        raise ValueError(f"--cafile {cafile}: not a certificate to trust ({err})") from None


class ControlClient:
    def __init__(self, url: str, token: str, name: str = "viewer", timeout: float = 30.0,
                 trust: ssl.SSLContext | None = None) -> None:
        self.url = url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}", VIEWER: name}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._ssl = trust

    async def __aenter__(self) -> ControlClient:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(ssl=self._ssl) if self._ssl is not None else None
            self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout, connector=connector)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def call(self, method: str, path: str, doc: Any = None) -> Any:
        """One call's JSON answer."""
        raw = await self.raw(method, path, doc)
        return orjson.loads(raw) if raw else None

    async def raw(self, method: str, path: str, doc: Any = None) -> bytes:
        try:
            async with self.session.request(method, self.url + path,
                                            data=None if doc is None else orjson.dumps(doc)) as answer:
                body = await answer.read()
                if answer.status >= 400:
                    try:
                        message = str(orjson.loads(body)["message"])
                    except (orjson.JSONDecodeError, KeyError, TypeError):
                        message = body[:200].decode("utf-8", "replace")
                    raise ControlError(answer.status, message)
                return body
        except aiohttp.ClientError as err:
            raise Unreachable(f"cannot reach {self.url}: {err}") from None
        except TimeoutError:
            raise Unreachable(f"no answer from {self.url} within {self._timeout.total:g} s") from None

    # -- the calls ---------------------------------------------------------------------

    async def status(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("GET", "/api/status")
        return result

    async def exchanges(self, query: str = "", limit: int = 100, before: str | None = None) -> dict[str, Any]:
        path = f"/api/exchanges?q={quote(query)}&limit={limit}" + (f"&before={quote(before)}" if before else "")
        result: dict[str, Any] = await self.call("GET", path)
        return result

    async def exchange(self, exchange_id: str) -> dict[str, Any] | None:
        try:
            result: dict[str, Any] = await self.call("GET", f"/api/exchanges/{quote(exchange_id, safe='')}")
            return result
        except ControlError as err:
            if err.status == 404:
                return None
            raise

    async def delivery(self, query: str = "") -> dict[str, Any]:
        result: dict[str, Any] = await self.call("GET", "/api/delivery" + (f"?q={quote(query)}" if query else ""))
        return result

    async def export(self, query: str, format: str, redact: bool = False) -> bytes:
        return await self.raw("GET", f"/api/export?q={quote(query)}&format={quote(format)}"
                                     + ("&redact=1" if redact else ""))

    async def set_default(self, reply: dict[str, Any]) -> Any:
        return await self.call("PUT", "/api/default", reply)

    async def add_rule(self, rule: str, at: int | None = None) -> Any:
        return await self.call("POST", "/api/rules", {"rule": rule} if at is None else {"rule": rule, "at": at})

    async def change_rule(self, index: int, **change: Any) -> Any:
        return await self.call("PATCH", f"/api/rules/{index}", change)

    async def remove_rule(self, index: int) -> Any:
        return await self.call("DELETE", f"/api/rules/{index}")

    async def hold(self, query: str = "", count: int | None = None, timeout: float | None = None,
                   fallback: dict[str, Any] | None = None) -> Any:
        return await self.call("PUT", "/api/hold", {"query": query, "count": count, "timeout": timeout,
                                                    "fallback": fallback})

    async def stop_holding(self) -> Any:
        return await self.call("DELETE", "/api/hold")

    async def held(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = (await self.call("GET", "/api/held"))["held"]
        return result

    async def resolve(self, exchange_id: str, reply: dict[str, Any]) -> Any:
        return await self.call("POST", f"/api/held/{quote(exchange_id, safe='')}", reply)

    async def set_forward(self, url: str | None, mirror: bool = False) -> Any:
        if url is None:
            return await self.call("DELETE", "/api/forward")
        return await self.call("PUT", "/api/forward", {"url": url, "mirror": mirror})

    async def stream(self, after: int | None = None, run: str | None = None) -> AsyncIterator[dict[str, Any]]:
        """The live notices, from after `after` of `run` when given; ends when the server closes it."""
        query = f"?after={after}&run={quote(run or '')}" if after is not None else ""
        try:
            async with self.session.ws_connect(self.url + "/api/stream" + query, heartbeat=20.0) as socket:
                async for message in socket:
                    if message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT):
                        for line in message.data.splitlines():  # the notices of one turn, a line each
                            yield orjson.loads(line)
        except aiohttp.WSServerHandshakeError as err:
            raise ControlError(err.status, err.message) from None
        except aiohttp.ClientError as err:
            raise Unreachable(f"cannot reach {self.url}: {err}") from None

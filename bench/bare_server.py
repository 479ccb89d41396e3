"""The baselines for the benchmarks: the least an aiohttp app can do with each request.

    python bench/bare_server.py [PORT]                   answers 200 `{}` (bare)
    python bench/bare_server.py [PORT] --journal FILE    parses the body, appends it to FILE, answers
    python bench/bare_server.py [PORT] --forward URL     relays the body to URL, answers with its answer

PORT 0, the default, picks a free one. Prints `bare receiving on http://127.0.0.1:PORT/`
once it listens; stops on SIGINT/SIGTERM. Every mode reads the whole body first.

`--journal` is the floor for any receiver that keeps each request before answering it
(bench/ingest.py): parse the JSON, write one line with the time, path, headers and body
to the kernel, answer. No check, no index, nothing shown. `--forward` is the floor for
any aiohttp forwarder (bench/forward.py): one client session, the body relayed as it is,
the status and body answered back.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import time

import aiohttp
import orjson
from aiohttp import web

OK = b"{}"


async def receive(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(status=200, body=OK, content_type="application/json")


def journaling(path: str):  # type: ignore[no-untyped-def]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            orjson.loads(body)
        except orjson.JSONDecodeError:
            return web.Response(status=400, body=b'{"message": "malformed JSON"}', content_type="application/json")
        line = {"time": time.time(), "path": request.raw_path,
                "headers": [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.raw_headers],
                "body": body.decode("utf-8", "replace")}
        os.write(fd, orjson.dumps(line) + b"\n")
        return web.Response(status=200, body=OK, content_type="application/json")

    return receive


def forwarding(url: str, app: web.Application):  # type: ignore[no-untyped-def]
    session: dict[str, aiohttp.ClientSession] = {}

    async def client(app: web.Application):  # type: ignore[no-untyped-def]
        session["s"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        yield
        await session["s"].close()

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        async with session["s"].post(url, data=body, headers={"Content-Type": "application/json"},
                                     allow_redirects=False) as answer:
            return web.Response(status=answer.status, body=await answer.read(), content_type="application/json")

    app.cleanup_ctx.append(client)
    return receive


async def main(args: argparse.Namespace) -> None:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    handler = (journaling(args.journal) if args.journal else
               forwarding(args.forward, app) if args.forward else receive)
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port, reuse_address=True)
    await site.start()
    print(f"bare receiving on http://127.0.0.1:{runner.addresses[0][1]}/", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int, nargs="?", default=0)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--journal", metavar="FILE")
    mode.add_argument("--forward", metavar="URL")
    asyncio.run(main(parser.parse_args()))

"""The baseline for bench/ingest.py: a bare aiohttp app that reads the body and answers 200.

    python bench/bare_server.py [PORT]      (PORT 0, the default, picks a free one)

Prints `bare receiving on http://127.0.0.1:PORT/` once it listens; stops on SIGINT/SIGTERM.
It answers like the inspector's default reply (`{}`, application/json) on every path.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from aiohttp import web


async def receive(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(status=200, body=b"{}", content_type="application/json")


async def main(port: int) -> None:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", receive)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, reuse_address=True)
    await site.start()
    print(f"bare receiving on http://127.0.0.1:{runner.addresses[0][1]}/", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))

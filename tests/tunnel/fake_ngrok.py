"""A fake `ngrok` agent speaking what pyngrok 9 reads (pyngrok's process.py and ngrok's agent API).

`ngrok --version` prints a version. `ngrok start --none --log stdout [--config P]
[--authtoken T] [--region R]` prints logfmt start-up lines on stdout and serves the
agent API on 127.0.0.1: GET/POST /api/endpoints, GET/DELETE /api/endpoints/NAME.
Tests copy it next to their own files, as an executable named `ngrok` whose `#!`
line is this Python, and steer it with environment variables:

  FAKE_NGROK_MODE         ok (default) | fail (an error line repeating the token, exit 1)
                          | hang (print nothing, never exit) | exit (exit 1 silently)
  FAKE_NGROK_DROP_AFTER   seconds after an endpoint opens: log "session closed"
  FAKE_NGROK_RECORD       a file to which each run appends {"pid", "argv", "token_in_env"} as a JSON line

Without an authtoken (--authtoken or NGROK_AUTHTOKEN) it fails as ngrok does.
"""

import json
import os
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ENDPOINTS: dict = {}
LOCK = threading.Lock()


def say(level: str, msg: str, **fields: str) -> None:
    extra = "".join(f' {key}="{value}"' if " " in value else f" {key}={value}"
                    for key, value in fields.items())
    print(f't={time.strftime("%Y-%m-%dT%H:%M:%S%z")} lvl={level} msg="{msg}"{extra}', flush=True)


def option(argv: list, name: str):
    return argv[argv.index(name) + 1] if name in argv else None


def drop_later(seconds: float) -> None:
    """Lose the session as ngrok does: it says so and keeps its endpoints while it reconnects."""
    time.sleep(seconds)
    say("eror", "session closed, starting reconnect loop", obj="tunnels.session",
        err="read tcp: connection reset by peer")


class Api(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # stdout is the agent's log; keep it logfmt
        pass

    def answer(self, status: int, data=None) -> None:
        body = b"" if data is None else json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        with LOCK:
            if self.path == "/api/endpoints":
                return self.answer(200, {"endpoints": list(ENDPOINTS.values()), "uri": "/api/endpoints"})
            name = self.path.rsplit("/", 1)[-1]
            if self.path.startswith("/api/endpoints/") and name in ENDPOINTS:
                return self.answer(200, ENDPOINTS[name])
        self.answer(404, {"error_code": 100, "status_code": 404, "msg": "not found"})

    def do_POST(self) -> None:
        if self.path != "/api/endpoints":
            return self.answer(404, {"msg": "not found"})
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        name = request.get("name") or str(uuid.uuid4())
        url = request.get("url") or f"https://{uuid.uuid4().hex[:12]}.ngrok-free.app"
        endpoint = {"id": f"ep_{uuid.uuid4().hex}", "name": name, "uri": f"/api/endpoints/{name}",
                    "public_url": url, "url": url, "proto": "https",
                    "upstream": request.get("upstream", {}), "metrics": {}}
        with LOCK:
            ENDPOINTS[name] = endpoint
        say("info", "started tunnel", obj="tunnels", name=name, addr=request.get("upstream", {}).get("url", ""),
            url=url)
        drop = os.environ.get("FAKE_NGROK_DROP_AFTER")
        if drop:
            threading.Thread(target=drop_later, args=(float(drop),), daemon=True).start()
        self.answer(201, endpoint)

    def do_DELETE(self) -> None:
        name = self.path.rsplit("/", 1)[-1]
        with LOCK:
            found = ENDPOINTS.pop(name, None)
        self.answer(204) if found else self.answer(404, {"msg": "not found"})


def orphaned_exit(parent: int) -> None:
    """Leave when the process that started us is gone: a test run never leaves agents behind."""
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(0)


def main(argv: list) -> int:
    record = os.environ.get("FAKE_NGROK_RECORD")
    if record:
        with open(record, "a", encoding="utf-8") as file:
            token_in_env = bool(os.environ.get("NGROK_AUTHTOKEN"))
            file.write(json.dumps({"pid": os.getpid(), "argv": argv, "token_in_env": token_in_env}) + "\n")
    if argv[:1] == ["--version"]:
        print("ngrok version 3.99.0")
        return 0
    if argv[:2] != ["start", "--none"]:
        print(f"fake ngrok: unsupported command {argv}", file=sys.stderr)
        return 2
    threading.Thread(target=orphaned_exit, args=(os.getppid(),), daemon=True).start()
    mode = os.environ.get("FAKE_NGROK_MODE", "ok")
    token = option(argv, "--authtoken") or os.environ.get("NGROK_AUTHTOKEN")
    if mode == "hang":
        while True:
            time.sleep(3600)
    if mode == "exit":
        return 1
    say("info", "no configuration paths supplied" if "--config" not in argv else "open config file",
        obj="config", path=option(argv, "--config") or "")
    if mode == "fail" or not token:
        err = (f"authentication failed: The authtoken you specified is not valid: {token}"
               "\\r\\n\\r\\nERR_NGROK_107\\r\\n") if token else (
               "authentication failed: Usage of ngrok requires a verified account and authtoken."
               "\\r\\n\\r\\nERR_NGROK_4018\\r\\n")
        say("eror", "failed to reconnect session", obj="tunnels.session", err=err)
        say("eror", "session closing", obj="tunnels.session", err=err)
        return 1
    api = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    say("info", "starting web service", obj="web", addr=f"127.0.0.1:{api.server_address[1]}",
        allow_hosts="[]")
    say("info", "tunnel session started", obj="tunnels.session")
    say("info", "client session established", obj="csess", id=uuid.uuid4().hex[:12],
        region=option(argv, "--region") or "us")
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

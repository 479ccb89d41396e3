"""`segment-inspector send` as a user runs it: a real process against a real receiver."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import sys

import pytest

from inspector.core.policy import parse_reply

from ..conftest import CORPUS

PYTHON = sys.executable


async def run(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        PYTHON, "-m", "inspector", "send", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, out.decode(), err.decode()


async def test_send_the_generated_corpus(inspector) -> None:
    code, out, err = await run("--to", inspector.url, "--api-key", "k1", "--seed", "3", "--count", "150")
    assert code == 0, out + err
    assert "150 delivered, 0 failed" in out and "track" in out and "latency: p50" in out
    assert "\r" not in err  # no progress line when stderr is not a terminal
    exchanges = [inspector.hub.get(s.id) for s in inspector.hub.search(None)]
    assert len(exchanges) == 150
    assert {e.events[0].type for e in exchanges} == {"identify", "track", "page", "screen", "group",
                                                      "alias", "delete"}
    assert all(e.auth.key == "k1" for e in exchanges)


async def test_send_templates_from_files_as_json(inspector) -> None:
    files = sorted(str(path) for path in CORPUS.glob("*.log"))
    args = ["--from", *files[:3], *[part for name in files[3:] for part in ("--from", name)]]
    code, out, err = await run("--to", inspector.url, "--json", "--settings", '{"region": "eu"}', *args)
    assert code == 0, out + err
    report = json.loads(out)
    assert report["delivered"] == report["events"] >= 90 and report["failed"] == 0
    assert report["latency_ms"]["p50"] is not None and report["findings"]["ANS014"]["count"] == report["events"]
    exchanges = [inspector.hub.get(s.id) for s in inspector.hub.search(None)]
    assert all(b"{{" not in e.body for e in exchanges)
    assert {e.header("X-Segment-Settings") for e in exchanges} == {"eyJyZWdpb24iOiJldSJ9"}


async def test_templates_sent_again_are_filled_anew(inspector) -> None:
    template = CORPUS / "identify.log"
    per_pass = len(template.read_text().splitlines())
    code, out, err = await run("--to", inspector.url, "--from", str(template), "--count", str(per_pass * 3))
    assert code == 0, out + err
    bodies = [json.loads(inspector.hub.get(s.id).body) for s in inspector.hub.search(None)]
    assert len(bodies) == per_pass * 3
    assert len({body["messageId"] for body in bodies}) == len(bodies)
    assert len({body["anonymousId"] for body in bodies}) == len(bodies)  # every {{id}} filled again
    assert all(b"{{" not in inspector.hub.get(s.id).body for s in inspector.hub.search(None))


async def test_failures_exit_1_with_the_event(inspector) -> None:
    inspector.hub.policy.default = parse_reply("400:Missing email address")
    code, out, _ = await run("--to", inspector.url, "--count", "3", "--seed", "1")
    assert code == 1
    assert "0 delivered, 3 failed" in out and "400 (dropped) after 1 attempt" in out
    assert "Missing email address" in out and '"messageId"' in out


async def test_send_signs_with_the_shared_secret_from_the_environment(inspector, monkeypatch) -> None:
    """As serve does: the variable keeps the secret out of `ps`; the flag still wins over it."""
    monkeypatch.setenv("SEGMENT_INSPECTOR_SHARED_SECRET", "from-env")
    code, out, err = await run("--to", inspector.url, "--count", "2", "--seed", "4")
    assert code == 0, out + err
    code, out, err = await run("--to", inspector.url, "--count", "1", "--seed", "5", "--shared-secret", "flag")
    assert code == 0, out + err
    exchanges = [inspector.hub.get(s.id) for s in inspector.hub.search(None, newest_first=False)]
    signed = [(e.header("X-Signature"), e.body) for e in exchanges]
    assert signed == [(hmac.new(secret.encode(), body, hashlib.sha1).hexdigest(), body)
                      for secret, (_, body) in zip(["from-env", "from-env", "flag"], signed, strict=True)]


async def test_durations_take_units(inspector) -> None:
    code, out, err = await run("--to", inspector.url, "--duration", "0.3s", "--timeout", "1m", "--seed", "2")
    assert code == 0, out + err
    assert out.startswith("sent ") and " 0 failed" in out


@pytest.mark.parametrize("flags, words", [
    (["--to", "ftp://x"], "--to: 'ftp://x' is not an http:// or https:// URL"),
    (["--to", "http://"], "--to: 'http://' is not an http:// or https:// URL"),
    (["--to", "http://127.0.0.1:1/", "--timeout", "0"], "--timeout: must be more than 0"),
    (["--to", "http://127.0.0.1:1/", "--timeout", "soon"], "--timeout: not a duration: 'soon'"),
    (["--to", "http://127.0.0.1:1/", "--duration", "10y"], "--duration: not a duration: '10y'"),
])
async def test_a_bad_flag_is_named(flags, words) -> None:
    code, _, err = await run(*flags)
    assert code == 2 and words in err, err


async def test_usage_errors_and_a_target_that_is_down(unused_tcp_port) -> None:
    assert (await run("--to", "ftp://x"))[0] == 2
    assert (await run("--to", "http://127.0.0.1:1/", "--count", "0"))[0] == 2
    assert (await run("--to", "http://127.0.0.1:1/", "--settings", "[1]"))[0] == 2
    assert (await run("--to", "http://127.0.0.1:1/", "--from", "/no/such/file"))[0] == 2
    code, _, err = await run("--to", f"http://127.0.0.1:{unused_tcp_port}/", "--count", "50")
    assert code == 3 and "is down" in err

"""Webhooks signatures: X-Signature is the hex HMAC-SHA1 of the body with the shared secret,
and of JSON.stringify(body[0]) for an array body; the receiver answers 401 to a wrong one
and `send --shared-secret` signs the same way."""

from __future__ import annotations

import asyncio
import hashlib
import hmac

import orjson
import pytest

from inspector.cli import main
from inspector.core.history import History
from inspector.core.hub import Hub
from inspector.core.policy import Policy
from inspector.receiver import Receiver

from ..conftest import SEGMENT_HEADERS
from ..endpoint import Endpoint


def hmac_hex(secret: str, data: bytes) -> str:
    return hmac.new(secret.encode(), data, hashlib.sha1).hexdigest()


EVENT = {"type": "track", "event": "Signed Up", "userId": "u1", "messageId": "m1", "properties": {"name": "Zoë"}}


@pytest.fixture
async def verifying(tmp_path):  # type: ignore[no-untyped-def]
    import aiohttp

    history = History(tmp_path).load()
    history.start_session()
    receiver = Receiver(Hub(history, Policy(shared_secret="s3cret")), host="127.0.0.1", port=0)
    url = await receiver.start()
    async with aiohttp.ClientSession() as session:
        async def post(body: bytes, signature: str | None) -> tuple[int, object]:
            headers = dict(SEGMENT_HEADERS, **({"X-Signature": signature} if signature is not None else {}))
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
            [summary] = history.search(limit=1)
            return response.status, history.get(summary.id)
        yield post
    await receiver.stop()
    history.close()


async def test_right_signature_of_an_object_body_no_finding(verifying) -> None:
    body = orjson.dumps(EVENT)
    status, exchange = await verifying(body, hmac_hex("s3cret", body))
    assert status == 200 and not [f for f in exchange.findings if f.code.startswith("SIG")]


async def test_array_body_signed_over_its_first_event_as_json_stringify(verifying) -> None:
    batch = [EVENT, dict(EVENT, messageId="m2")]
    body = orjson.dumps(batch, option=orjson.OPT_INDENT_2)  # the body's own spacing does not matter
    first = '{"type":"track","event":"Signed Up","userId":"u1","messageId":"m1","properties":{"name":"Zoë"}}'
    status, exchange = await verifying(body, hmac_hex("s3cret", first.encode()))
    assert status == 200 and not [f for f in exchange.findings if f.code.startswith("SIG")]
    assert [e.message_id for e in exchange.events] == ["m1", "m2"]  # kept with each event
    status, exchange = await verifying(body, hmac_hex("s3cret", body))  # the whole body: wrong
    assert status == 401 and "SIG002" in [f.code for f in exchange.findings]


@pytest.mark.parametrize("signature, code", [(None, "SIG001"), ("", "SIG001"), ("00" * 20, "SIG002")])
async def test_missing_or_wrong_signature_401_with_a_finding(verifying, signature, code) -> None:
    status, exchange = await verifying(orjson.dumps(EVENT), signature)
    assert status == 401
    assert [f.code for f in exchange.findings if f.code.startswith("SIG")] == [code]
    assert exchange.answer.chosen_by == "signature"


async def test_wrong_secret_is_wrong(verifying) -> None:
    body = orjson.dumps(EVENT)
    status, _ = await verifying(body, hmac_hex("other", body))
    assert status == 401


async def test_send_signs_with_the_shared_secret(endpoint: Endpoint) -> None:
    code = await asyncio.to_thread(main, ["send", "--to", endpoint.url, "--count", "5",
                                          "--shared-secret", "s3cret", "--seed", "1"])
    assert code == 0 and len(endpoint.seen) == 5
    assert all(seen.headers["X-Signature"] == hmac_hex("s3cret", seen.body) for seen in endpoint.seen)


async def test_auth_tab_shows_the_signature_verdict(verifying) -> None:
    from inspector.tui.widgets.detail.auth import describe

    _, wrong = await verifying(orjson.dumps(EVENT), "00" * 20)
    assert "Signature ✗ X-Signature" in describe(wrong).plain


async def test_local_segment_signs_its_deliveries_so_its_own_receiver_accepts_them(tmp_path) -> None:
    """With a shared secret, the own partner side verifies X-Signature: each delivery is signed with it."""
    from inspector.local_segment.options import TrackingOptions

    from .conftest import open_local

    options = TrackingOptions(time_scale=0.001, retries=0, shared_secret="s3cret")
    async with open_local(tmp_path, options, Policy(shared_secret="s3cret")) as local:
        events = [dict(EVENT, messageId=f"m{n}") for n in range(3)]
        assert (await local.call("/v1/batch", {"batch": events}))[0] == 200
        await local.until(lambda: len(local.delivered()) == 3, "three deliveries")
        await local.tracking.settle()
        for delivery in local.delivered():
            assert delivery.answer.status == 200
            assert delivery.header("X-Signature") == hmac_hex("s3cret", delivery.body)
            assert not [f for f in delivery.findings if f.code.startswith("SIG")]


def test_the_shared_secret_from_the_flag_the_environment_or_the_config_file(tmp_path, monkeypatch) -> None:
    """The environment variable keeps the secret out of `ps`; the flag still wins over it."""
    from inspector.cli.factory import make_inspector
    from inspector.cli.parser import make_parser
    from inspector.cli.settings import Config, Settings
    from inspector.local_segment.api import TRACKING

    def secrets_of(argv: list[str], config: dict | None = None) -> tuple[str | None, str | None]:
        args = make_parser().parse_args([*argv, "--data-dir", str(tmp_path), "--no-tunnel", "--port", "0"])
        inspector = make_inspector(Settings.read(args, Config(None, config or {})))
        try:
            return inspector.hub.policy.shared_secret, inspector.listeners.receiver.app[TRACKING].options.shared_secret
        finally:
            inspector.close()

    monkeypatch.delenv("SEGMENT_INSPECTOR_SHARED_SECRET", raising=False)
    assert secrets_of([]) == (None, None)
    assert secrets_of([], {"shared-secret": "from-config"}) == ("from-config", "from-config")
    monkeypatch.setenv("SEGMENT_INSPECTOR_SHARED_SECRET", "from-env")
    assert secrets_of([], {"shared-secret": "from-config"}) == ("from-env", "from-env")
    assert secrets_of(["--shared-secret", "from-flag"]) == ("from-flag", "from-flag")

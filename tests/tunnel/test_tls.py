"""Local HTTPS: the generated certificate, and real TLS posts to a receiver serving it."""

from __future__ import annotations

import ssl
import stat

import aiohttp
import orjson
import pytest

from inspector import tls
from inspector.core.history import History
from inspector.core.hub import Hub
from inspector.core.policy import Policy
from inspector.receiver import Receiver

from ..conftest import SEGMENT_HEADERS
from ..factories import make_event


def test_the_certificate_is_made_once_kept_private_and_reused(tmp_path):
    cert, key = tls.ensure_certificate(tmp_path)
    assert (cert, key) == (tmp_path / "tls" / "cert.pem", tmp_path / "tls" / "key.pem")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(cert.parent.stat().st_mode) == 0o700
    first = cert.read_bytes(), key.read_bytes()
    assert tls.ensure_certificate(tmp_path) == (cert, key)
    assert (cert.read_bytes(), key.read_bytes()) == first  # reused, not remade

    from cryptography import x509
    certificate = x509.load_pem_x509_certificate(first[0])
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(a) for a in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1"]


def test_a_certificate_about_to_expire_is_made_again(tmp_path, monkeypatch):
    cert, _ = tls.ensure_certificate(tmp_path)
    before = cert.read_bytes()
    monkeypatch.setattr(tls, "RENEW_BEFORE", tls.datetime.timedelta(days=tls.VALID_DAYS + 1))
    tls.ensure_certificate(tmp_path)
    assert cert.read_bytes() != before


def test_a_broken_certificate_or_key_is_an_error_naming_it(tmp_path):
    cert, key = tls.ensure_certificate(tmp_path)
    with pytest.raises(tls.CertificateError, match="no such file"):
        tls.server_context(tmp_path / "missing.pem", key)
    other = tls.ensure_certificate(tmp_path / "other")[1]
    with pytest.raises(tls.CertificateError, match=f"cannot use the certificate {cert}"):
        tls.server_context(cert, other)  # a key that is not the certificate's


@pytest.fixture
async def https_receiver(tmp_path):
    history = History(tmp_path / "data").load()
    history.start_session()
    hub = Hub(history, Policy())
    cert, key = tls.ensure_certificate(tmp_path / "data")
    receiver = Receiver(hub, host="127.0.0.1", port=0, ssl_context=tls.server_context(cert, key))
    url = await receiver.start()
    yield hub, url, cert
    await receiver.stop()
    history.close()


async def test_a_client_trusting_the_certificate_posts_over_tls(https_receiver):
    hub, url, cert = https_receiver
    assert url.startswith("https://127.0.0.1:")
    trusting = ssl.create_default_context(cafile=str(cert))
    trusting.verify_flags |= ssl.VERIFY_X509_STRICT  # as Python 3.13's default context does
    async with aiohttp.ClientSession() as session:
        for address in (url, url.replace("127.0.0.1", "localhost")):
            async with session.post(address, data=orjson.dumps(make_event(messageId=address)),
                                    headers=SEGMENT_HEADERS, ssl=trusting) as response:
                assert response.status == 200
    assert len(hub.search()) == 2


async def test_a_client_not_trusting_it_fails_the_handshake(https_receiver):
    hub, url, _ = https_receiver
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectorCertificateError) as failed:
            await session.post(url, data=orjson.dumps(make_event()), headers=SEGMENT_HEADERS)
    assert isinstance(failed.value.certificate_error, ssl.SSLCertVerificationError)
    assert "self-signed certificate" in str(failed.value.certificate_error)
    assert hub.search() == []  # nothing got through

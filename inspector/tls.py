"""Local HTTPS: a certificate for localhost made on first run, or the user's own.

`--tls` serves the receiver over HTTPS so that Segment-like HTTPS delivery can be
tried on this machine. The certificate is self-signed for `localhost`, `127.0.0.1`
and `::1`, kept in the data directory (`tls/cert.pem`, `tls/key.pem`, the key
readable by its owner only) and reused until it is about to expire. A client
trusts it by naming the certificate file (`curl --cacert .../tls/cert.pem`).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from pathlib import Path

CERT_FILE, KEY_FILE = "cert.pem", "key.pem"
NAMES = ("localhost",)
ADDRESSES = ("127.0.0.1", "::1")
VALID_DAYS = 825  # the longest validity macOS and browsers accept for a trusted leaf
RENEW_BEFORE = datetime.timedelta(days=7)


class CertificateError(Exception):
    """A certificate or key that cannot be made or used, worded for the user."""


def tls_dir(data_dir: Path) -> Path:
    return data_dir / "tls"


def ensure_certificate(data_dir: Path) -> tuple[Path, Path]:
    """The generated certificate and key in `data_dir/tls`, made now if missing or expiring."""
    directory = tls_dir(data_dir)
    cert, key = directory / CERT_FILE, directory / KEY_FILE
    if cert.exists() and key.exists() and _still_good(cert):
        return cert, key
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        cert_pem, key_pem = _generate()
        _write(key, key_pem, 0o600)
        _write(cert, cert_pem, 0o644)
    except OSError as err:
        raise CertificateError(f"cannot write the TLS certificate in {directory}: "
                               f"{err.strerror or err}") from None
    return cert, key


def _still_good(cert: Path) -> bool:
    from cryptography import x509

    try:
        certificate = x509.load_pem_x509_certificate(cert.read_bytes())
    except (OSError, ValueError):
        return False
    expires = certificate.not_valid_after_utc
    return expires - RENEW_BEFORE > datetime.datetime.now(datetime.UTC)


def _write(path: Path, data: bytes, mode: int) -> None:
    """Replace `path` with `data`, created with `mode` from the start (no readable window)."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    os.replace(temporary, path)


def _generate() -> tuple[bytes, bytes]:
    """A self-signed certificate for localhost and its P-256 key, both PEM."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "segment-inspector localhost"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "segment-inspector")])
    now = datetime.datetime.now(datetime.UTC)
    alternatives: list[x509.GeneralName] = [x509.DNSName(n) for n in NAMES]
    alternatives += [x509.IPAddress(ipaddress.ip_address(a)) for a in ADDRESSES]
    public = key.public_key()
    # It is its own issuer, so it is marked as a CA (with the extensions a strict verifier,
    # such as Python 3.13's default context, asks of a trust anchor) and as a server certificate.
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=False,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert_pem, key_pem


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """The receiver's TLS context, serving `cert` with `key`."""
    for path in (cert, key):
        if not path.is_file():
            raise CertificateError(f"no such file: {path}")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as err:
        reason = getattr(err, "reason", None) or getattr(err, "strerror", None) or str(err)
        raise CertificateError(f"cannot use the certificate {cert} with the key {key}: {reason}") from None
    return context

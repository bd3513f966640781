"""Fixtures for the client tests: a server with sub-session logins and a TLS server."""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import AsyncIterator

import pytest
from client.support import PasswordLogins, TLSMaterial
from helpers import small_model

from xentara_ws.server.app import XentaraServer


@pytest.fixture
def logins() -> PasswordLogins:
    return PasswordLogins()


@pytest.fixture
async def login_server(logins: PasswordLogins) -> AsyncIterator[XentaraServer]:
    """The small model, with sub-session logins enabled."""
    instance = XentaraServer(small_model(), sub_session_authenticator=logins)
    await instance.start("127.0.0.1", 0)
    try:
        yield instance
    finally:
        await instance.close()


@pytest.fixture(scope="session")
def tls_material(tmp_path_factory: pytest.TempPathFactory) -> TLSMaterial:
    """A self-signed certificate for 127.0.0.1 (also usable as its own CA file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file = folder / "server.pem"
    key_file = folder / "server.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return TLSMaterial(cert_file, key_file, certificate.public_bytes(serialization.Encoding.DER))


@pytest.fixture
async def tls_server(tls_material: TLSMaterial) -> AsyncIterator[XentaraServer]:
    instance = XentaraServer(small_model())
    await instance.start("127.0.0.1", 0, ssl_context=tls_material.server_context())
    try:
        yield instance
    finally:
        await instance.close()

"""The server's TLS context: configured certificate or a stable self-signed one."""

from __future__ import annotations

import hashlib
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from support.fixtures import SAMPLE_CONFIG as SAMPLE
from support.fixtures import needs_vendor_fixtures
from support.security import make_cert, name, pem

from xentara_ws.security.config import load_configuration
from xentara_ws.security.tls import certificate_fingerprint, server_ssl_context


@needs_vendor_fixtures
def test_self_signed_certificate_is_generated_once_and_reused(tmp_path: Path) -> None:
    config = load_configuration(SAMPLE)
    state = tmp_path / "state"
    context, fingerprint, self_signed = server_ssl_context(config, state)
    assert self_signed
    assert isinstance(context, ssl.SSLContext)
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    _, again, _ = server_ssl_context(config, state)
    assert again == fingerprint  # clients that pinned it keep working after a restart
    cert_file = next(state.glob("*.pem"))
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in sans.get_values_for_type(x509.DNSName)
    assert {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days >= 365
    assert next(state.glob("*.key.pem")).stat().st_mode & 0o077 == 0  # key not readable by others


def test_configured_default_certificate_is_used(tmp_path: Path) -> None:
    cert, key = make_cert(name(CN="xentara.example"))
    folder = tmp_path / "cfg"
    (folder / "certs").mkdir(parents=True)
    (folder / "private").mkdir()
    (folder / "certs" / "xentara.pem").write_bytes(pem(cert))
    (folder / "private" / "xentara.key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    _, fingerprint, self_signed = server_ssl_context(load_configuration(folder), tmp_path / "state")
    assert not self_signed
    assert fingerprint == hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    assert certificate_fingerprint(folder / "certs" / "xentara.pem") == fingerprint
    assert not (tmp_path / "state").exists()

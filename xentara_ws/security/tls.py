"""The TLS server context: the configured certificate, or a self-signed one kept in the state folder."""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import ipaddress
import logging
import os
import socket
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .config import XentaraConfiguration

logger = logging.getLogger(__name__)

SELF_SIGNED_CERT = "xentara-ws-selfsigned.pem"
SELF_SIGNED_KEY = "xentara-ws-selfsigned.key.pem"
SELF_SIGNED_DAYS = 825
_RENEW_BEFORE = dt.timedelta(days=7)


def certificate_fingerprint(path: str | os.PathLike[str]) -> str:
    """SHA-256 fingerprint (lower-case hex, no separators) of the first certificate in a PEM or DER file."""
    data = Path(path).read_bytes()
    cert = x509.load_pem_x509_certificates(data)[0] if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    """One complete file or the old one: a temp file beside it, renamed over it (callers hold the lock)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def pair_mismatch(cert_path: Path, key_path: Path) -> str | None:
    """Why this certificate and private key cannot serve together, or None when they match.

    An encrypted key cannot be checked here; the TLS library will ask for its password or fail.
    """
    try:
        data = cert_path.read_bytes()
        pem = b"-----BEGIN" in data
        cert = x509.load_pem_x509_certificates(data)[0] if pem else x509.load_der_x509_certificate(data)
    except (OSError, ValueError, IndexError) as error:
        return f"certificate {cert_path} cannot be read: {error}"
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except TypeError:
        return None  # password-protected
    except (OSError, ValueError) as error:
        return f"private key {key_path} cannot be read: {type(error).__name__}"

    def public(k: object) -> bytes:
        return k.public_bytes(  # type: ignore[attr-defined, no-any-return]
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    if public(key.public_key()) != public(cert.public_key()):
        return f"private key {key_path} does not belong to certificate {cert_path}"
    return None


def _self_signed_usable(cert_path: Path, key_path: Path) -> bool:
    if not (cert_path.is_file() and key_path.is_file()):
        return False
    problem = pair_mismatch(cert_path, key_path)
    if problem is not None:
        logger.warning("stored self-signed pair is unusable (%s): generating a new one", problem)
        return False
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    if cert.not_valid_after_utc - _RENEW_BEFORE < dt.datetime.now(dt.UTC):
        logger.warning("stored self-signed certificate %s expires soon: generating a new one", cert_path)
        return False
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName
        )
    except x509.ExtensionNotFound:
        names = []
    if socket.gethostname() not in names:
        logger.warning("stored self-signed certificate %s does not name this host: generating a new one", cert_path)
        return False
    return True


class _StateLock:
    """An exclusive `fcntl.flock` on a lock file in the state folder: servers starting together on one
    empty folder check and generate the self-signed pair one after another, never interleaved."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / ".xentara-ws-selfsigned.lock"
        self.fd = -1

    def __enter__(self) -> _StateLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def generate_self_signed(cert_path: Path, key_path: Path, hostnames: tuple[str, ...] = ("localhost",)) -> None:
    """An EC P-256 certificate for localhost, 127.0.0.1 and ::1 (plus `hostnames`), valid SELF_SIGNED_DAYS."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "xentara-ws self-signed")])
    now = dt.datetime.now(dt.UTC)
    sans: list[x509.GeneralName] = [x509.DNSName(h) for h in dict.fromkeys(("localhost", *hostnames))]
    sans += [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("::1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=SELF_SIGNED_DAYS))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_path.parent.mkdir(parents=True, exist_ok=True)
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(
        key_path,
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        0o600,
    )
    _write_atomically(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)


def server_ssl_context(
    config: XentaraConfiguration | None, state_dir: str | os.PathLike[str]
) -> tuple[ssl.SSLContext, str, bool]:
    """(context, SHA-256 fingerprint hex, self_signed) for the WebSocket server; TLS 1.2 minimum.

    The third item is True when our own self-signed certificate from `state_dir` is in use.

    Uses security.json TLS.serverCertificate or certs/xentara.pem + private/xentara.key.pem; without
    either (or with no configuration at all), a self-signed certificate stored in `state_dir`, so that
    clients can pin it across restarts.
    """
    generated = False
    if config is not None and config.server_certificate is not None:
        cert_path = config.server_certificate.certificate_path
        key_path = config.server_certificate.private_key_path
        problem = pair_mismatch(Path(cert_path), Path(key_path))
        if problem is not None:
            raise ValueError(f"the configured server certificate cannot be used: {problem}")
    else:
        state = Path(state_dir)
        cert_path, key_path = state / SELF_SIGNED_CERT, state / SELF_SIGNED_KEY
        with _StateLock(state):
            if not _self_signed_usable(cert_path, key_path):
                generate_self_signed(cert_path, key_path, (socket.gethostname(),))
                logger.warning("no server certificate configured: generated self-signed %s", cert_path)
        generated = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert_path, key_path)
    except ssl.SSLError as error:  # "PEM lib (_ssl.c:3905)" alone does not say which file
        raise ValueError(
            f"cannot load the certificate {cert_path} with its key {key_path} ({error.reason or error}): "
            "both must be PEM files, and the key must be the certificate's"
        ) from None
    fingerprint = certificate_fingerprint(cert_path)
    logger.info("TLS certificate %s, SHA-256 fingerprint %s", cert_path, fingerprint)
    return context, fingerprint, generated

"""TLS options of the client: CA file, SHA-256 certificate fingerprint pinning, or no verification."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import ssl
from typing import Any

from .types import ConnectionFailed

logger = logging.getLogger(__name__)


def normalize_fingerprint(fingerprint: str) -> str:
    """'AB:CD:…' or 'abcd…' -> 64 lower-case hex digits, or ValueError."""
    digits = fingerprint.replace(":", "").replace(" ", "").lower()
    if len(digits) != 64 or any(c not in "0123456789abcdef" for c in digits):
        raise ValueError("a certificate fingerprint is the SHA-256 of the DER certificate: 64 hex digits")
    return digits


def build_ssl_context(*, ca_file: str | None, fingerprint: str | None, insecure: bool) -> ssl.SSLContext:
    if fingerprint is not None:
        normalize_fingerprint(fingerprint)
        # The pin replaces chain and host name checks; it is compared right after the handshake.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if insecure:
        logger.warning("TLS certificate verification is OFF (--insecure): the server is not authenticated")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=ca_file)


async def pinned_context(host: str, port: int, fingerprint: str, timeout: float) -> ssl.SSLContext:
    """A context that completes a TLS handshake only with the server certificate of this SHA-256 pin.

    A first connection does the TLS handshake alone (no HTTP byte is sent), reads the server's
    certificate and compares it with the pin; the context returned trusts exactly that certificate,
    so the real connection's own handshake fails unless the same certificate is presented again.
    Credentials (the upgrade's Authorization header) therefore never reach a server that fails the pin.
    """
    expected = normalize_fingerprint(fingerprint)
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    probe.check_hostname = False
    probe.verify_mode = ssl.CERT_NONE
    _, writer = await asyncio.wait_for(asyncio.open_connection(host, port, ssl=probe), timeout)
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    if der is None:
        raise ConnectionFailed("tls", "the server presented no certificate")
    actual = certificate_fingerprint(der)
    if not hmac.compare_digest(actual, expected):
        raise ConnectionFailed("tls", f"the server certificate's SHA-256 fingerprint {actual} is not the pinned one")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False  # the pin names the certificate; host names do not matter
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=der)
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN  # the pinned leaf itself is the trust anchor
    return context


def certificate_fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def check_fingerprint(connection: Any, fingerprint: str) -> None:
    """Raise ConnectionFailed("tls") unless the server's certificate has the pinned SHA-256."""
    ssl_object = connection.transport.get_extra_info("ssl_object") if connection.transport else None
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    if der is None:
        raise ConnectionFailed("tls", "certificate pinning needs a wss:// connection with a server certificate")
    actual = certificate_fingerprint(der)
    if not hmac.compare_digest(actual, normalize_fingerprint(fingerprint)):
        raise ConnectionFailed("tls", f"the server certificate's SHA-256 fingerprint {actual} is not the pinned one")

"""TLS options of the client: CA file, SHA-256 certificate fingerprint pinning, or no verification."""

from __future__ import annotations

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

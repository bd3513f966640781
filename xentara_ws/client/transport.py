"""Transport: open the WebSocket (credentials, TLS, pinning), explain failures, and read CBOR packets from it."""

from __future__ import annotations

import base64
import logging
import socket
import ssl
import urllib.parse
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from ..protocol.codec import CBORProfileError, decode
from .tls import build_ssl_context, check_fingerprint, pinned_context
from .types import ConnectionFailed

logger = logging.getLogger(__name__)


def auth_headers(user: str | None, password: str | None, token: str | None) -> dict[str, str]:
    """The upgrade's Authorization header: Bearer for a token, Basic for a user, none otherwise."""
    if token is not None:
        return {"Authorization": f"Bearer {token}"}
    if user is not None:
        credentials = f"{user}:{password or ''}".encode()
        return {"Authorization": "Basic " + base64.b64encode(credentials).decode("ascii")}
    return {}


def client_ssl_context(
    url: str, ssl_context: ssl.SSLContext | None, *, ca_file: str | None, fingerprint: str | None, insecure: bool
) -> ssl.SSLContext | None:
    """The TLS context of a wss:// URL (None for ws://); a CA file that cannot be used is named."""
    if not url.startswith("wss:"):
        return None
    try:
        return ssl_context or build_ssl_context(ca_file=ca_file, fingerprint=fingerprint, insecure=insecure)
    except (ssl.SSLError, OSError) as error:  # name the file: "PEM lib (_ssl.c:3905)" alone says nothing
        reason = getattr(error, "reason", None) or error.strerror or error
        raise ConnectionFailed(
            "ca_file", f"the CA file {ca_file} cannot be used ({reason}): it must hold PEM certificates"
        ) from None


async def _pinned_context(url: str, fingerprint: str, timeout: float) -> ssl.SSLContext:
    """TLS handshake and pin check before any HTTP byte (and so before any credential) is sent."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "wss" or not parts.hostname:
        raise ConnectionFailed("tls", "certificate pinning needs a wss:// URL")
    return await pinned_context(parts.hostname, parts.port or 443, fingerprint, timeout)


async def open_websocket(
    url: str,
    *,
    headers: dict[str, str],
    ssl_context: ssl.SSLContext | None,
    fingerprint: str | None,
    open_timeout: float,
    max_size: int | None,
) -> ClientConnection:
    """Open the WebSocket; every failure becomes a ConnectionFailed whose kind and message say what to do."""
    try:
        context = ssl_context
        if fingerprint is not None:
            context = await _pinned_context(url, fingerprint, open_timeout)
        ws = await ws_connect(
            url,
            additional_headers=headers,
            ssl=context,
            open_timeout=open_timeout,
            max_size=max_size,
            compression=None,
            ping_interval=20,
        )
    except InvalidStatus as error:
        status = error.response.status_code
        kinds = {401: "unauthorized", 403: "forbidden", 404: "not_found", 429: "too_many_requests"}
        kind = kinds.get(status, "http")
        retry_after = error.response.headers.get("Retry-After")
        if status == 429 and retry_after:
            message = f"too many failed logins from this address: the server says retry after {retry_after} s"
            raise ConnectionFailed(kind, message, status) from None
        raise ConnectionFailed(kind, f"the server refused the WebSocket upgrade with HTTP {status}", status) from None
    except InvalidURI as error:
        raise ConnectionFailed("invalid_url", str(error)) from None
    except ssl.SSLError as error:
        if error.reason == "WRONG_VERSION_NUMBER":
            raise ConnectionFailed(
                "tls", f"the server at {url} does not speak TLS: use ws:// instead of wss://"
            ) from None
        raise ConnectionFailed("tls", f"TLS handshake failed: {error.reason or error}") from None
    except ConnectionRefusedError:
        raise ConnectionFailed("refused", f"connection refused by {url}") from None
    except TimeoutError:
        raise ConnectionFailed("timeout", f"no answer from {url} within {open_timeout:g} s") from None
    except socket.gaierror as error:
        raise ConnectionFailed("os", f"cannot resolve the host of {url}: {error}") from None
    except InvalidHandshake as error:
        if url.startswith("ws:") and "did not receive a valid HTTP response" in str(error):
            # A TLS server answers plain HTTP with a TLS alert (or nothing), not with HTTP.
            raise ConnectionFailed(
                "plain_to_tls", f"the server at {url} did not answer plain HTTP: it speaks TLS, use wss://"
            ) from None
        raise ConnectionFailed("http", f"WebSocket handshake failed: {error}") from None
    except OSError as error:
        if url.startswith("wss:") and isinstance(error, ConnectionResetError) and not error.errno:
            # A plain server drops a TLS ClientHello without a word.
            raise ConnectionFailed(
                "tls",
                f"the server at {url} closed the connection in the TLS handshake: "
                "if it serves plain ws:// (--no-tls), use ws:// instead of wss://",
            ) from None
        raise ConnectionFailed("os", f"cannot connect to {url}: {error}") from None
    if fingerprint is not None:
        try:
            check_fingerprint(ws, fingerprint)
        except ConnectionFailed:
            await ws.close()
            raise
    return ws


async def read_packets(ws: ClientConnection) -> AsyncIterator[Any]:
    """The packets of every message the server sends, in order, until the connection ends.

    What is not a CBOR array of packets is logged and skipped: one bad message must not end the connection.
    """
    try:
        async for message in ws:
            if isinstance(message, str):
                logger.warning("ignoring a text frame from the server")
                continue
            try:
                packets = decode(message)
            except CBORProfileError as error:
                logger.warning("ignoring an undecodable message from the server: %s", error)
                continue
            if not isinstance(packets, list):
                logger.warning("ignoring a message that is not an array: %r", packets)
                continue
            for packet in packets:
                yield packet
    except ConnectionClosed:
        return

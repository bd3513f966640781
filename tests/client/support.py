"""Helpers for the client tests: sub-session logins, a demo-like model, TLS material, free ports."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xentara_ws.server.app import XentaraServer

LEVEL_UUID = "55555555-5555-4555-8555-555555555555"
SETPOINT_UUID = "66666666-6666-4666-8666-666666666666"


class PasswordLogins:
    """Sub-session authenticator for tests: operator/secret, token 'good-token', any certificate."""

    def __init__(self) -> None:
        self.logins: list[tuple[str, Any]] = []

    async def authenticate_token(self, token: str, peer: str) -> Any:
        self.logins.append(("token", token))
        if token != "good-token":
            raise ValueError("bad token")
        return "token-user"

    async def authenticate_certificate(self, der: bytes, peer: str) -> Any:
        self.logins.append(("certificate", der))
        return "certificate-user"

    async def authenticate_password(self, user: str, password: str, peer: str) -> Any:
        self.logins.append(("password", user))
        if (user, password) != ("operator", "secret"):
            raise ValueError("bad password")
        return user


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def url(server: XentaraServer, scheme: str = "ws") -> str:
    return f"{scheme}://127.0.0.1:{server.port}/api/ws"


@dataclass
class TLSMaterial:
    cert_file: Path
    key_file: Path
    der: bytes

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

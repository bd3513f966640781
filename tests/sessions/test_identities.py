"""Owner identities and methods of token and certificate sub-sessions (extensions §1)."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass

from cbor2 import CBORTag
from support.models import small_model
from support.raw_client import RawClient

from xentara_ws.server.app import XentaraServer


@dataclass(frozen=True)
class Who:
    name: str
    kind: str


class AnyLogin:
    async def authenticate_token(self, token: str, peer: str) -> Who:
        return Who("alice", "token")

    async def authenticate_certificate(self, der: bytes, peer: str) -> Who:
        return Who("plant-hmi", "certificate")

    async def authenticate_password(self, user: str, password: str, peer: str) -> Who:
        return Who(user, "user")


def _jwt(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}.signature"


async def test_token_certificate_and_password_owners():
    server = XentaraServer(small_model(), sub_session_authenticator=AnyLogin())
    await server.start("127.0.0.1", 0)
    try:
        client = await RawClient.open(server.port)
        token = (await client.request(12, {0: CBORTag(121, {0: _jwt({"iss": "https://idp", "sub": "alice"})})}))[2]
        der = b"0\x82 not really DER"
        certificate = (await client.request(12, {0: CBORTag(122, {0: der})}))[2]
        password = (await client.request(12, {0: CBORTag(123, {0: "bob", 1: "x"})}))[2]
        reply = await client.request(258, {0: [token, certificate, password]})
        owners = [(item.value[1], item.value[2], item.value[18]) for item in reply[2]]
        assert owners == [
            ("token:https://idp#alice", 0, "anonymous"),
            ("cert:" + hashlib.sha256(der).hexdigest(), 1, "anonymous"),
            ("user:bob", 2, "anonymous"),
        ]
        await client.close()
    finally:
        await server.close()

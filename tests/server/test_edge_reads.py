"""Reads go into one buffer shared by every connection (no allocation per read): bytes are never mixed up."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cbor2 import CBORTag
from support.edge import HELLO, WireClient, attach, data_frames
from support.models import DOTTED_UUID
from support.raw_client import RawClient

from xentara_ws.edge import HttpRequest
from xentara_ws.edge.connection import EdgeConnection
from xentara_ws.model import Model
from xentara_ws.protocol.codec import decode, encode
from xentara_ws.security.tls import generate_self_signed
from xentara_ws.server.app import XentaraServer

CLIENTS = 4
LENGTH = 300_000  # more than the edge's read buffer, and many TLS records


@pytest.fixture
async def tls_server(model: Model, tmp_path: Path) -> AsyncIterator[XentaraServer]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    generate_self_signed(cert, key)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    instance = XentaraServer(model, shutdown_enabled=False)
    await instance.start("127.0.0.1", 0, ssl_context=context)
    try:
        yield instance
    finally:
        await instance.close()


def client_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test's own throw-away certificate
    return context


async def write_and_read_back(port: int, scheme: str, fill: str) -> object:
    extra = {"ssl": client_context()} if scheme == "wss" else {}
    client = await RawClient.open(port, scheme=scheme, max_size=None, **extra)
    try:
        text = fill * LENGTH
        # Written and read back in one message: handled at once, so no other client's write comes between.
        replies = await client.batch([0, 2, 5, {0: DOTTED_UUID, 1: 11, 2: text}], [0, 3, 4, {0: DOTTED_UUID, 1: [11]}])
        return replies[1][2][11] == CBORTag(121, text)
    finally:
        await client.close()


@pytest.mark.parametrize("scheme", ["ws", "wss"])
async def test_large_messages_of_concurrent_clients_arrive_intact(server, tls_server, scheme):
    port = tls_server.port if scheme == "wss" else server.port
    fills = "ABCDEFGHIJ"[:CLIENTS]
    results = await asyncio.wait_for(asyncio.gather(*(write_and_read_back(port, scheme, f) for f in fills)), 30)
    assert results == [True] * CLIENTS


class HeldGate:
    """Admits every upgrade, but only when the test says so."""

    def __init__(self) -> None:
        self.opened = asyncio.Event()

    def admit(self, request: HttpRequest) -> object:
        return self._later()

    async def _later(self) -> None:
        await self.opened.wait()


def read(connection: EdgeConnection, data: bytes) -> None:
    """One read as asyncio does it for a BufferedProtocol: into the protocol's buffer, then the count."""
    buffer = connection.get_buffer(len(data))
    buffer[: len(data)] = data
    connection.buffer_updated(len(data))


async def test_bytes_read_while_a_connection_is_held_survive_other_reads_into_the_shared_buffer(model):
    gate = HeldGate()
    edge = XentaraServer(model, gatekeeper=gate).edge
    held, transport = attach(edge)
    other, _ = attach(edge)
    client = WireClient()
    read(held, client.handshake())
    assert not transport.reading  # the admission is pending: the connection is held
    read(held, client.binary(HELLO) + client.binary(encode([[0, 2, 8]])))  # a read already under way
    read(other, b"\xff" * 4096)  # another connection's read reuses the buffer
    gate.opened.set()
    replies: list[object] = []
    for _ in range(100):  # bounded: a few loop turns for the admission to resolve
        await asyncio.sleep(0)
        replies += [decode(d) for d in data_frames(client.receive(transport.take()))]
        if len(replies) >= 2:
            break
    assert replies == [[[1, 1, {0: 1}]], [[1, 2, 2]]]
    held.abort()
    other.abort()

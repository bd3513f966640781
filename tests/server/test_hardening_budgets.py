"""Issue 14 item 7 (and 6): per-connection limits sized to ~64 MiB, server-wide budgets with clear errors."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
from typing import Any

import pytest
from support.models import DOTTED_UUID, GROUP_UUID, REGISTER_UUID, small_model

from xentara_ws.protocol.codec import TimePoint, decode, encode
from xentara_ws.server.app import XentaraServer
from xentara_ws.server.connection_state import ConnectionState
from xentara_ws.server.dispatcher import Dispatcher
from xentara_ws.server.limits import Limits
from xentara_ws.server.state import ServerState

BYTES_PER_SUBSCRIBED_ATTRIBUTE = 608  # measured in the attack review (issue 14)


def test_the_default_limits_keep_one_connection_under_64_mib() -> None:
    limits = Limits()
    worst = (
        limits.max_connection_subscription_attributes * BYTES_PER_SUBSCRIBED_ATTRIBUTE
        + limits.max_outgoing_buffer
        + limits.max_reply_size
        + limits.max_message_size
    )
    assert worst <= 64 * 1024 * 1024


def _greeted(dispatcher: Dispatcher) -> ConnectionState:
    session = ConnectionState()
    assert dispatcher.handle_message(session, [[0, 1, 14, {0: 1, 1: 1}]]) == [[1, 1, {0: 1}]]
    return session


def _subscribe(dispatcher: Dispatcher, session: ConnectionState, attributes: int, message_id: int) -> list[Any]:
    items = [{0: REGISTER_UUID, 1: [11] * attributes}]
    return dispatcher.handle_message(session, [[0, message_id, 6, {0: items}]])[0]  # type: ignore[index]


def test_a_connection_cannot_subscribe_more_attributes_than_its_limit() -> None:
    dispatcher = Dispatcher(ServerState(model=small_model(), limits=Limits(max_connection_subscription_attributes=10)))
    session = _greeted(dispatcher)
    assert _subscribe(dispatcher, session, 6, 2)[0] == 1
    refused = _subscribe(dispatcher, session, 6, 3)
    assert refused[0] == 2 and refused[2][0] == -32602
    assert "max_connection_subscription_attributes = 10" in refused[2][1]
    assert _subscribe(dispatcher, session, 4, 4)[0] == 1


def test_the_server_wide_subscription_budget_is_shared_and_given_back() -> None:
    state = ServerState(model=small_model(), limits=Limits(max_total_subscription_attributes=10))
    dispatcher = Dispatcher(state)
    first, second = _greeted(dispatcher), _greeted(dispatcher)
    subscription = _subscribe(dispatcher, first, 8, 2)[2]
    refused = _subscribe(dispatcher, second, 3, 3)
    assert refused[0] == 2 and "max_total_subscription_attributes = 10" in refused[2][1]
    assert dispatcher.handle_message(first, [[0, 4, 7, {0: subscription}]])[0][0] == 1  # type: ignore[index]
    assert _subscribe(dispatcher, second, 3, 5)[0] == 1
    assert state.budget.subscription_attributes == 3


def _frame(payload: bytes) -> bytes:
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    length = len(payload)
    head = bytes((0x82, 0x80 | length)) if length < 126 else bytes((0x82, 0xFE)) + struct.pack(">H", length)
    return head + mask + masked


@pytest.mark.parametrize(
    "limits",
    [
        Limits(max_outgoing_buffer=64 * 1024, send_timeout=600),
        Limits(max_total_outgoing_buffer=64 * 1024, send_timeout=600),
    ],
    ids=["per-connection", "server-wide"],
)
async def test_a_client_that_does_not_read_is_dropped_once_its_outgoing_budget_is_used_up(limits: Limits) -> None:
    model = small_model()
    server = XentaraServer(model, limits=limits)
    await server.start("127.0.0.1", 0)
    try:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        sock.setblocking(False)
        reader, writer = await asyncio.open_connection(sock=sock)
        writer.write(
            b"GET /api/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        await reader.readuntil(b"\r\n\r\n")
        writer.write(_frame(encode([[0, 1, 14, {0: 1, 1: 1}], [0, 2, 6, {0: [{0: DOTTED_UUID, 1: [11]}]}]])))
        await writer.drain()
        # From here on the client reads nothing, while big values keep changing.
        dotted = model.find(DOTTED_UUID)
        for index in range(1000):
            if len(server.edge.connections) == 0:
                break
            dotted.update(str(index) * 50_000, TimePoint(index))
            await asyncio.sleep(0.01)
        assert len(server.edge.connections) == 0, "the non-reading client still holds its buffers"
        writer.close()
    finally:
        await server.close()
    assert model.find(GROUP_UUID) is not None and decode(encode([1])) == [1]

"""Handlers that answer later (CONTRACTS §2): the dispatcher's awaitable replies and the edge keeping order."""

from __future__ import annotations

import asyncio
import inspect

from support.models import small_model
from support.sessions import connect

from xentara_ws.protocol.codec import decode, encode
from xentara_ws.protocol.errors import ErrorCode, ProtocolError
from xentara_ws.server.commands import COMMANDS
from xentara_ws.server.connection_state import ConnectionState
from xentara_ws.server.dispatcher import Dispatcher
from xentara_ws.server.state import ServerState

LATER = 300
FAILING = 301


def _handlers(log: list[str], gate: asyncio.Event | None = None) -> dict:
    async def later(ctx, params):
        if gate is not None:
            await gate.wait()
        await asyncio.sleep(0)
        log.append("later")
        return "done"

    async def failing(ctx, params):
        await asyncio.sleep(0)
        raise ProtocolError(ErrorCode.ACCESS_DENIED, "no")

    def plain(ctx, params):
        log.append("plain")
        return 2

    return {**COMMANDS, LATER: later, FAILING: failing, 8: plain}


def _hello(dispatcher: Dispatcher) -> ConnectionState:
    session = ConnectionState()
    assert dispatcher.handle_message(session, [[0, 1, 14, {0: 1, 1: 1}]])[0][0] == 1
    return session


async def test_plain_handlers_keep_the_synchronous_path():
    dispatcher = Dispatcher(ServerState(model=small_model()), _handlers([]))
    reply = dispatcher.handle_bytes(_hello(dispatcher), encode([[0, 1, 8]]))
    assert type(reply) is bytes and decode(reply) == [[1, 1, 2]]


async def test_an_awaitable_reply_answers_every_packet_in_order_and_later_packets_run_after():
    log: list[str] = []
    dispatcher = Dispatcher(ServerState(model=small_model()), _handlers(log))
    message = [[0, 1, 8], [0, 2, LATER], [0, 3, 8], [0, 4, FAILING]]
    pending = dispatcher.handle_bytes(_hello(dispatcher), encode(message))
    assert inspect.isawaitable(pending) and log == ["plain"]
    reply = decode(await pending)
    assert reply == [[1, 1, 2], [1, 2, "done"], [1, 3, 2], [2, 4, {0: -32102, 1: "no"}]]
    assert log == ["plain", "later", "plain"]


async def test_handle_message_later_for_embedders():
    dispatcher = Dispatcher(ServerState(model=small_model()), _handlers([]))
    assert await dispatcher.handle_message_later(_hello(dispatcher), [[0, 7, LATER]]) == [[1, 7, "done"]]


async def test_the_edge_answers_messages_in_order_while_one_waits(server):
    log: list[str] = []
    gate = asyncio.Event()
    server.edge.dispatcher.handlers.update(_handlers(log, gate))
    client = await connect(server.port)
    await client.connection.send(encode([[0, 10, LATER]]))
    await client.connection.send(encode([[0, 11, 8]]))
    await asyncio.sleep(0.05)
    assert log == []  # the second message waits for the first one's reply
    gate.set()
    assert await client.receive_response() == [[1, 10, "done"]]
    assert await client.receive_response() == [[1, 11, 2]]
    assert log == ["later", "plain"]
    await client.close()

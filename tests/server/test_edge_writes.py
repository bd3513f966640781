"""One `transport.write` per read: replies to everything one read brought, and one write per event message."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from cbor2 import CBORTag
from support.edge import HELLO, WireClient, data_frames
from support.fanout import Tally, counting_server
from support.models import REGISTER_UUID
from support.raw_client import RawClient

from xentara_ws.model import Model
from xentara_ws.protocol.codec import decode, encode
from xentara_ws.server.app import XentaraServer

REQUESTS = 6


@pytest.fixture
async def counted(model: Model) -> AsyncIterator[tuple[int, Tally]]:
    server = XentaraServer(model, shutdown_enabled=False)  # its edge, behind a listening socket of our own
    tally = Tally()
    listening = await counting_server(server.edge, tally)
    try:
        yield int(listening.sockets[0].getsockname()[1]), tally
    finally:
        listening.close()
        await server.edge.close()


async def test_the_replies_to_many_messages_of_one_read_go_out_in_one_write(counted):
    port, tally = counted
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    client = WireClient()
    writer.write(client.handshake() + client.binary(HELLO))
    replies: list[object] = []
    async with asyncio.timeout(5):
        while not replies:
            replies += [decode(d) for d in data_frames(client.receive(await reader.read(65536)))]
    reads, writes = tally.reads, tally.writes
    # Several messages in one TCP segment: the server reads them at once and must answer with one write.
    writer.write(b"".join(client.binary(encode([[0, 100 + n, 8]])) for n in range(REQUESTS)))
    replies = []
    async with asyncio.timeout(5):
        while len(replies) < REQUESTS:
            replies += [decode(d) for d in data_frames(client.receive(await reader.read(65536)))]
    assert replies == [[[1, 100 + n, 2]] for n in range(REQUESTS)]
    reads_taken = tally.reads - reads
    assert reads_taken < REQUESTS, "the loopback split the messages: the test cannot tell batching apart"
    assert tally.writes - writes <= reads_taken
    writer.close()


async def test_a_change_reaches_each_subscriber_in_one_write(counted):
    port, tally = counted
    subscribers = [await RawClient.open(port) for _ in range(3)]
    writer = await RawClient.open(port)
    for subscriber in subscribers:
        reply = await subscriber.request(6, {0: [{0: REGISTER_UUID, 1: [11]}]})
        assert reply[0] == 1
        await subscriber.next_events()  # the initial value
    writes = tally.writes
    assert (await writer.request(5, {0: REGISTER_UUID, 1: 11, 2: 17.25}))[0] == 1
    for subscriber in subscribers:
        events = await subscriber.next_events()
        assert [event[2][2] for event in events] == [{11: CBORTag(121, 17.25)}]
    # One write for the writer's reply, one per subscriber for the event.
    assert tally.writes - writes == 1 + len(subscribers)
    for client in [*subscribers, writer]:
        await client.close()

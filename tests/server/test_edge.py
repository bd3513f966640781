"""The WebSocket edge: path, sub-protocol, frames, limits and the client_hello deadline."""

from __future__ import annotations

import asyncio

import pytest
from helpers_ws import RawClient
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from xentara_ws.protocol.codec import decode, encode
from xentara_ws.server.app import XentaraServer
from xentara_ws.server.limits import Limits


async def test_any_other_path_is_404(server):
    with pytest.raises(InvalidStatus) as refused:
        await connect(f"ws://127.0.0.1:{server.port}/api/other")
    assert refused.value.response.status_code == 404


async def test_no_subprotocol_is_accepted_and_xentara_v1_is_echoed(server):
    plain = await connect(f"ws://127.0.0.1:{server.port}/api/ws")
    assert plain.subprotocol is None
    await plain.close()
    strict = await connect(f"ws://127.0.0.1:{server.port}/api/ws", subprotocols=["xentara-v1"])
    assert strict.subprotocol == "xentara-v1"
    await strict.close()


async def test_a_text_frame_gets_a_parse_error_and_the_connection_stays_usable(server):
    client = await RawClient.open(server.port)
    reply = await client.send_raw("[[0, 1, 8]]")
    assert reply[0][:2] == [2, 0] and reply[0][2][0] == -32700
    assert (await client.request(8))[2] == 2
    await client.close()


async def test_invalid_cbor_gets_a_parse_error_and_the_connection_stays_usable(server):
    client = await RawClient.open(server.port)
    reply = await client.send_raw(b"\xff\x00")
    assert reply[0][2][0] == -32700
    assert (await client.request(8))[2] == 2
    await client.close()


async def test_an_oversize_message_closes_with_1009_and_other_clients_are_unaffected(model):
    server = XentaraServer(model, limits=Limits(max_message_size=1000))
    await server.start("127.0.0.1", 0)
    try:
        victim = await RawClient.open(server.port)
        bystander = await RawClient.open(server.port)
        await victim.connection.send(encode([[0, 1, 3, {0: "x" * 2000}]]))
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(victim.connection.recv(), 5)
        assert victim.connection.close_code == 1009
        assert (await bystander.request(8))[2] == 2
        await bystander.close()
    finally:
        await server.close()


async def test_a_client_without_client_hello_is_closed_with_1008_after_the_deadline(model):
    server = XentaraServer(model, limits=Limits(client_hello_timeout=0.2))
    await server.start("127.0.0.1", 0)
    try:
        lazy = await RawClient.open(server.port, hello=False)
        polite = await RawClient.open(server.port)
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(lazy.connection.recv(), 5)
        assert lazy.connection.close_code == 1008
        await asyncio.sleep(0.3)
        assert (await polite.request(8))[2] == 2
        await polite.close()
    finally:
        await server.close()


async def test_closing_the_server_closes_connections_with_1001(model):
    server = XentaraServer(model)
    await server.start("127.0.0.1", 0)
    client = await RawClient.open(server.port)
    await server.close()
    await asyncio.wait_for(client.connection.wait_closed(), 5)
    assert client.connection.close_code == 1001


async def test_a_batch_over_the_wire_is_answered_in_request_order(server):
    client = await RawClient.open(server.port)
    reply = decode(
        await asyncio.wait_for(
            (await client.connection.send(encode([[0, 9, 8], [0, 3, 3, {0: "Group 1"}], [0, 5, 99]])))
            or client.connection.recv(),
            5,
        )
    )
    assert [p[1] for p in reply] == [9, 3, 5]
    assert [p[0] for p in reply] == [1, 1, 2]
    await client.close()


async def test_a_fragmented_message_is_reassembled_and_answered_in_order(server):
    client = await RawClient.open(server.port)
    data = encode([[0, 7, 3, {0: "Group 1"}]])
    await client.connection.send([data[:5], data[5:]])
    await client.connection.send(encode([[0, 8, 8]]))
    first = decode(await asyncio.wait_for(client.connection.recv(), 5))
    second = decode(await asyncio.wait_for(client.connection.recv(), 5))
    assert first[0][:2] == [1, 7] and second == [[1, 8, 2]]
    await client.close()


async def test_a_client_that_does_not_read_replies_is_throttled_not_buffered_without_bound(server):
    client = await RawClient.open(server.port, max_queue=1)
    request = encode([[0, i, 1, {0: __import__("uuid").UUID(int=0)}] for i in range(50)])
    for _ in range(400):
        try:
            await asyncio.wait_for(client.connection.send(request), 0.05)
        except TimeoutError:
            break  # TCP back-pressure reached the client: the server stopped reading
    outbound_sizes = [server.edge.api.write_buffer_size(s) for s in server.edge.api.sessions()]
    assert max(outbound_sizes) < 8 * 1024 * 1024
    other = await RawClient.open(server.port)
    assert (await other.request(8))[2] == 2
    await other.close()
    client.connection.transport.abort()

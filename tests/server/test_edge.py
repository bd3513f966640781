"""The WebSocket edge over real sockets: path, sub-protocol, admission, limits, timeouts and back-pressure."""

from __future__ import annotations

import asyncio
import logging
import signal
import uuid

import pytest
from support.edge import HELLO, WireClient, data_frames, read_until_closed
from support.fixtures import SAMPLE_CONFIG
from support.raw_client import RawClient
from support.servers import banner_port, running, serve_argv, serve_process
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.frames import Opcode

from xentara_ws.edge import HttpRequest, UpgradeRefused
from xentara_ws.protocol.codec import decode, encode
from xentara_ws.server.app import XentaraServer
from xentara_ws.server.limits import Limits


async def closed_with(connection) -> int | None:
    """The close code the server sent (ConnectionClosed.rcvd works with every supported websockets)."""
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(connection.recv(), 5)
    return closed.value.rcvd.code if closed.value.rcvd is not None else None


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
        assert await closed_with(victim.connection) == 1009
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
        assert await closed_with(lazy.connection) == 1008
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
    assert await closed_with(client.connection) == 1001


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
    client.abort()


class Gate:
    """Refuses by the Authorization header: the codes and headers a real gatekeeper sends."""

    def admit(self, request: HttpRequest) -> object:
        authorization = request.header("authorization")
        if authorization == "Basic bad":
            raise UpgradeRefused(401, "Unauthorized", [("WWW-Authenticate", 'Basic realm="Plant"')])
        if authorization == "Bearer weak":
            raise UpgradeRefused(403, "Forbidden")
        if authorization == "Basic again":
            raise UpgradeRefused(429, "Too Many Requests", [("Retry-After", "17")])
        if authorization == "Bearer later":
            return self.later()
        return authorization

    async def later(self) -> str:
        await asyncio.sleep(0.01)
        return "late"


@pytest.fixture
async def gated(model):
    async with running(model, gatekeeper=Gate(), limits=Limits(max_connections=2)) as server:
        yield server


@pytest.mark.parametrize(
    ("authorization", "status", "header", "value"),
    [
        ("Basic bad", 401, "WWW-Authenticate", 'Basic realm="Plant"'),
        ("Bearer weak", 403, None, None),
        ("Basic again", 429, "Retry-After", "17"),
    ],
)
async def test_admission_refusals_carry_their_status_and_headers(gated, authorization, status, header, value):
    with pytest.raises(InvalidStatus) as refused:
        await RawClient.open(gated.port, hello=False, additional_headers={"Authorization": authorization})
    response = refused.value.response
    assert response.status_code == status
    if header is not None:
        assert response.headers[header] == value


async def test_an_awaitable_admission_is_awaited(gated):
    client = await RawClient.open(gated.port, additional_headers={"Authorization": "Bearer later"})
    assert (await client.request(8))[2] == 2
    await client.close()


async def test_connections_over_the_limit_are_refused_with_503(gated):
    first = await RawClient.open(gated.port)
    second = await RawClient.open(gated.port)
    with pytest.raises(InvalidStatus) as refused:
        await RawClient.open(gated.port)
    assert refused.value.response.status_code == 503
    await first.close()
    await asyncio.wait_for(_until(lambda: len(gated.edge.api.sessions()) < 2), 5)
    third = await RawClient.open(gated.port)
    await third.close()
    await second.close()


async def test_the_authorization_header_never_reaches_the_debug_log(gated, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "Bearer s3cr3t-t0ken-value"
    client = await RawClient.open(gated.port, additional_headers={"Authorization": secret})
    await client.request(8)
    await client.close()
    with pytest.raises(InvalidStatus):
        await RawClient.open(gated.port, hello=False, additional_headers={"Authorization": "Basic bad"})
    server_records = [r for r in caplog.records if not r.name.startswith("websockets.client")]
    assert server_records, "the server logged at DEBUG"
    text = "\n".join(r.getMessage() for r in server_records)
    assert "s3cr3t" not in text and "Basic bad" not in text


async def test_a_ping_is_answered_with_a_pong(server):
    client = await RawClient.open(server.port)
    pong = await client.connection.ping(b"hello")
    await asyncio.wait_for(pong, 5)
    assert (await client.request(8))[2] == 2
    await client.close()


async def test_frames_sent_with_the_upgrade_request_are_answered_after_the_101_over_a_socket(server):
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    client = WireClient()
    writer.write(client.handshake() + client.binary(HELLO) + client.binary(encode([[0, 2, 8]])))
    replies: list[object] = []
    async with asyncio.timeout(5):
        while len(replies) < 2:
            replies += [decode(d) for d in data_frames(client.receive(await reader.read(65536)))]
    assert client.response is not None and client.response.status_code == 101
    assert replies == [[[1, 1, {0: 1}]], [[1, 2, 2]]]
    writer.close()


async def test_a_connection_without_a_complete_request_in_time_is_closed(model):
    server = XentaraServer(model, limits=Limits(open_timeout=0.2))
    await server.start("127.0.0.1", 0)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /api/ws HTTP/1.1\r\nHost: x\r\n")  # never finished
        assert await read_until_closed(reader, 5) == b""
        writer.close()
        polite = await RawClient.open(server.port)
        assert (await polite.request(8))[2] == 2
        await polite.close()
    finally:
        await server.close()


async def test_a_client_that_never_answers_the_close_frame_is_aborted_after_the_closing_timeout(model):
    server = XentaraServer(model, limits=Limits(client_hello_timeout=0.1, close_timeout=0.3))
    await server.start("127.0.0.1", 0)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        client = WireClient()
        writer.write(client.handshake())
        received = await read_until_closed(reader, 5)  # the client neither answers nor closes
        frames = client.receive(received)
        assert [int.from_bytes(f.data[:2], "big") for f in frames if f.opcode is Opcode.CLOSE] == [1008]
        writer.close()
        assert server.edge.api.sessions() == []
    finally:
        await server.close()


async def test_a_client_that_stops_reading_is_dropped_as_a_slow_consumer(model, caplog):
    server = XentaraServer(model, limits=Limits(send_timeout=0.5))
    await server.start("127.0.0.1", 0)
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        client = WireClient()
        request = client.binary(encode([[0, i, 3, {0: "Group 1.Data Point 1"}] for i in range(1000)]))
        writer.write(client.handshake() + client.binary(HELLO))
        bystander = await RawClient.open(server.port)
        stalled = True
        async with asyncio.timeout(20):
            while stalled:
                writer.write(request)
                try:
                    await asyncio.wait_for(writer.drain(), 0.2)
                except TimeoutError:
                    pass  # back-pressure reached the client: the server stopped reading
                except ConnectionError:
                    break
                stalled = "slow consumer" not in caplog.text
                await asyncio.sleep(0)
        assert "slow consumer" in caplog.text
        await asyncio.wait_for(_until(lambda: len(server.edge.api.sessions()) == 1), 5)
        assert (await bystander.request(8))[2] == 2
        await bystander.close()
        writer.transport.abort()
    finally:
        await server.close()


async def _until(condition) -> None:
    while not condition():
        await asyncio.sleep(0.01)


def test_sigterm_stops_the_server_promptly_even_with_a_client_that_stopped_reading(tmp_path):
    import socket

    process = serve_process(
        *serve_argv("--model", str(SAMPLE_CONFIG / "model.json"), "--no-tls", "--state-dir", str(tmp_path / "state"))
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        port = banner_port(first)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            client = WireClient()
            sock.sendall(client.handshake() + client.binary(HELLO))
            request = client.binary(encode([[0, i, 1, {0: uuid.UUID(int=0)}] for i in range(1000)]))
            sock.setblocking(False)
            for _ in range(2000):  # flood until the server stops reading (bounded)
                try:
                    sock.send(request)
                except BlockingIOError:
                    break
            process.send_signal(signal.SIGTERM)
            assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)


async def test_closing_the_server_with_a_client_that_stopped_reading_frees_every_connection(model):
    server = XentaraServer(model, limits=Limits(close_timeout=0.5))
    await server.start("127.0.0.1", 0)
    _, writer = await asyncio.open_connection("127.0.0.1", server.port)
    client = WireClient()
    request = client.binary(encode([[0, i, 1, {0: uuid.UUID(int=0)}] for i in range(1000)]))
    writer.write(client.handshake() + client.binary(HELLO))
    for _ in range(50):  # bounded flood; the client never reads
        writer.write(request)
        try:
            await asyncio.wait_for(writer.drain(), 0.05)
        except TimeoutError:
            break
    await asyncio.wait_for(server.close(), 5)
    assert not server.edge.connections and server.edge.api.sessions() == []
    writer.transport.abort()

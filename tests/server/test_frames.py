"""The edge's own frame handling, byte by byte, with a raw TCP client."""

from __future__ import annotations

import asyncio
import base64
import os
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xentara_ws.protocol.codec import decode, encode

HELLO = encode([[0, 1, 14, {0: 1, 1: 1}]])
STAGE = encode([[0, 2, 8]])


def frame(payload: bytes, opcode: int = 2, fin: bool = True, mask: bytes = b"\x11\x22\x33\x44") -> bytes:
    length = len(payload)
    first = (0x80 if fin else 0) | opcode
    if length < 126:
        header = bytes((first, 0x80 | length))
    else:
        header = bytes((first, 0x80 | 126)) + length.to_bytes(2, "big")
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + mask + masked


def handshake() -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        "GET /api/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    first, second = await asyncio.wait_for(reader.readexactly(2), 5)
    length = second & 0x7F
    if length == 126:
        length = int.from_bytes(await reader.readexactly(2), "big")
    elif length == 127:
        length = int.from_bytes(await reader.readexactly(8), "big")
    return first & 0x0F, await reader.readexactly(length)


async def open_raw(port: int, first_bytes: bytes = b""):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(handshake() + first_bytes)
    status = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert status.startswith(b"HTTP/1.1 101")
    return reader, writer


async def test_frames_sent_together_with_the_handshake_are_answered_in_order(server):
    reader, writer = await open_raw(server.port, frame(HELLO) + frame(STAGE))
    assert decode((await read_frame(reader))[1]) == [[1, 1, {0: 1}]]
    assert decode((await read_frame(reader))[1]) == [[1, 2, 2]]
    writer.close()


async def test_frames_split_into_single_bytes_are_reassembled(server):
    reader, writer = await open_raw(server.port)
    data = frame(HELLO) + frame(STAGE) + frame(encode([[0, 3, 3, {0: "Group 1" * 30}]]))
    for i in range(len(data)):
        writer.write(data[i : i + 1])
        await writer.drain()
    replies = [decode((await read_frame(reader))[1]) for _ in range(3)]
    assert replies[0] == [[1, 1, {0: 1}]] and replies[1] == [[1, 2, 2]]
    assert replies[2][0][:2] == [2, 3] and replies[2][0][2][0] == -32100
    writer.close()


async def test_a_ping_between_requests_gets_its_pong_and_the_requests_their_replies(server):
    reader, writer = await open_raw(server.port)
    writer.write(frame(HELLO) + frame(b"are you there", opcode=9) + frame(STAGE))
    received = [await read_frame(reader) for _ in range(3)]
    assert (10, b"are you there") in received
    data = [decode(payload) for opcode, payload in received if opcode == 2]
    assert data == [[[1, 1, {0: 1}]], [[1, 2, 2]]]
    writer.close()


async def test_an_unmasked_client_frame_closes_the_connection_with_1002(server):
    reader, writer = await open_raw(server.port)
    writer.write(bytes((0x82, len(HELLO))) + HELLO)
    opcode, payload = await read_frame(reader)
    assert opcode == 8 and int.from_bytes(payload[:2], "big") == 1002
    writer.close()


async def test_a_fragmented_message_then_whole_ones_keep_their_order(server):
    reader, writer = await open_raw(server.port)
    writer.write(frame(HELLO[:3], fin=False) + frame(HELLO[3:], opcode=0) + frame(STAGE))
    assert decode((await read_frame(reader))[1]) == [[1, 1, {0: 1}]]
    assert decode((await read_frame(reader))[1]) == [[1, 2, 2]]
    writer.close()


async def test_a_text_frame_is_answered_with_a_parse_error(server):
    reader, writer = await open_raw(server.port)
    writer.write(frame(b"[[0, 1, 14]]", opcode=1))
    reply = decode((await read_frame(reader))[1])
    assert reply[0][2][0] == -32700
    writer.close()


async def test_a_close_frame_is_answered_with_a_close_frame(server):
    reader, writer = await open_raw(server.port)
    writer.write(frame(HELLO) + frame((1000).to_bytes(2, "big"), opcode=8))
    opcode, payload = await read_frame(reader)
    assert opcode == 8 and int.from_bytes(payload[:2], "big") == 1000
    writer.close()


async def test_a_frame_announcing_more_than_the_limit_is_refused_at_once_with_1009(server):
    reader, writer = await open_raw(server.port)
    writer.write(bytes((0x82, 0x80 | 127)) + (2**40).to_bytes(8, "big") + b"\x00\x00\x00\x00" + b"x" * 100)
    opcode, payload = await read_frame(reader)
    assert opcode == 8 and int.from_bytes(payload[:2], "big") == 1009
    writer.close()


async def test_a_control_frame_with_a_long_payload_closes_the_connection_with_1002(server):
    reader, writer = await open_raw(server.port)
    writer.write(bytes((0x89, 0x80 | 126)) + (4000).to_bytes(2, "big") + b"\x00\x00\x00\x00" + b"x" * 4000)
    opcode, payload = await read_frame(reader)
    assert opcode == 8 and int.from_bytes(payload[:2], "big") == 1002
    writer.close()


class ThreadedServer:
    """A real server on its own event loop in a thread, for tests driven by blocking sockets."""

    def __init__(self) -> None:
        import threading

        from helpers import small_model

        from xentara_ws.server.app import XentaraServer

        self.loop = asyncio.new_event_loop()
        self.server = XentaraServer(small_model())
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start("127.0.0.1", 0), self.loop).result(10)
        self.port = self.server.port

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def read_frame_blocking(sock) -> tuple[int, bytes]:
    def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            assert chunk, "connection closed"
            data += chunk
        return data

    first, second = exactly(2)
    length = second & 0x7F
    if length == 126:
        length = int.from_bytes(exactly(2), "big")
    return first & 0x0F, exactly(length)


_MESSAGES = [
    [[0, 2, 8]],
    [[0, 3, 3, {0: "Group 1"}]],
    [[0, 4, 3, {0: "x" * 300}]],
    [[0, 5, 1, {0: uuid.UUID(int=0)}]],
    [[0, 6, 99]],
    [[0, 7, 8], [0, 8, 8]],
]


@pytest.fixture(scope="module")
def threaded_server():
    server = ThreadedServer()
    yield server
    server.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    picks=st.lists(st.integers(0, len(_MESSAGES) - 1), min_size=1, max_size=6),
    cuts=st.lists(st.integers(1, 60), max_size=12),
    ping_at=st.none() | st.integers(0, 5),
    early_count=st.integers(0, 6),
)
def test_any_split_of_a_stream_of_frames_gets_every_reply_in_order(threaded_server, picks, cuts, ping_at, early_count):
    import socket

    messages = [_MESSAGES[i] for i in picks]
    frames = [frame(encode(m)) for m in messages]
    early = handshake() + frame(HELLO) + b"".join(frames[:early_count])
    late = b"".join(frames[early_count:])
    if ping_at is not None:  # anywhere, even before the handshake response: the pong comes after it
        if ping_at % 3 == 0:
            early += frame(b"ping", opcode=9)
        else:
            late = frame(b"ping", opcode=9) + late if ping_at % 3 == 1 else late + frame(b"ping", opcode=9)
    with socket.create_connection(("127.0.0.1", threaded_server.port), timeout=5) as sock:
        position = 0
        for cut in cuts:
            sock.sendall(early[position : position + cut])
            position += cut
        sock.sendall(early[position:])
        response = b""
        while b"\r\n\r\n" not in response:
            response += sock.recv(1)
        assert response.startswith(b"HTTP/1.1 101")
        for start in range(0, len(late), 7):
            sock.sendall(late[start : start + 7])
        replies = []
        pongs = 0
        while len(replies) < len(messages) + 1:
            opcode, payload = read_frame_blocking(sock)
            if opcode == 10:
                pongs += 1
            else:
                replies.append(decode(payload))
        assert replies[0] == [[1, 1, {0: 1}]]
        assert [[p[1] for p in r] for r in replies[1:]] == [[p[1] for p in m] for m in messages]
        if ping_at is not None:
            if pongs == 0:
                assert read_frame_blocking(sock) == (10, b"ping")
            else:
                assert pongs == 1

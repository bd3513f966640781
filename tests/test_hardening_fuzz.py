"""Fuzzing (issue 14): random CBOR messages through the dispatcher, random frame streams through a real
server socket. `make test` runs a few examples; `make fuzz` runs many (XENTARA_FUZZ_EXAMPLES)."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import threading
from collections.abc import Iterator

import pytest
from cbor2 import CBORTag
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.hardening import settled
from support.models import REGISTER_UUID, small_model

from xentara_ws.protocol.codec import array_header, decode, encode
from xentara_ws.server.app import XentaraServer
from xentara_ws.server.connection_state import ConnectionState
from xentara_ws.server.dispatcher import PRE_HELLO_PACKETS, Dispatcher
from xentara_ws.server.state import ServerState

EXAMPLES = int(os.environ.get("XENTARA_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.uuids(),
    st.builds(CBORTag, st.sampled_from([121, 122, 123]), st.integers()),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.integers(min_value=0, max_value=5), inner, max_size=4)
    ),
    max_leaves=12,
)
requests = st.builds(
    lambda opcode, mid, params: [0, mid, opcode] if params is None else [0, mid, opcode, params],
    st.integers(min_value=0, max_value=17),
    st.integers(min_value=0, max_value=2**32),
    st.one_of(
        st.none(),
        st.dictionaries(st.integers(min_value=0, max_value=4), values, max_size=4),
        st.just({0: REGISTER_UUID, 1: [0, 11]}),
    ),
)


def _refused(mid: int, kind: int) -> bytes:
    """A well-formed packet holding a value the profile refuses."""
    head = b"\x84\x00" + encode(mid) + b"\x04"
    if kind == 0:
        return head + b"\xa2\x00\x01\x00\x02"  # duplicate key
    if kind == 1:
        return head + b"\xa1\x00\xd8\x25\x43abc"  # a UUID of three bytes
    return head + b"\xa1\x00" + encode(CBORTag(999, 1))  # a tag the protocol does not use


packet_parts = st.one_of(
    requests.map(lambda p: (encode(p), p[1])),
    values.map(lambda v: (encode(v), v[1] if type(v) is list and len(v) > 1 and type(v[1]) is int else 0)),
    st.builds(lambda mid, kind: (_refused(mid, kind), mid), st.integers(0, 2**16), st.integers(0, 2)),
)


@FUZZ
@given(st.lists(packet_parts, max_size=PRE_HELLO_PACKETS), st.booleans())
def test_every_request_packet_gets_exactly_one_reply_with_its_id(parts: list[tuple[bytes, int]], greeted: bool) -> None:
    dispatcher = Dispatcher(ServerState(model=small_model()))
    session = ConnectionState()
    if greeted:
        dispatcher.handle_message(session, [[0, 1, 14, {0: 1, 1: 1}]])
    message = array_header(len(parts)) + b"".join(data for data, _ in parts)
    reply = decode(settled(dispatcher.handle_bytes(session, message)))
    assert len(reply) == len(parts)
    for packet, (_, mid) in zip(reply, parts, strict=True):
        assert packet[0] in (1, 2) and packet[1] == mid
        if packet[0] == 2:
            assert set(packet[2]) == {0, 1} and type(packet[2][1]) is str


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes_get_one_parse_error_or_per_packet_replies(data: bytes) -> None:
    dispatcher = Dispatcher(ServerState(model=small_model()))
    reply = decode(settled(dispatcher.handle_bytes(ConnectionState(), data)))
    assert type(reply) is list
    for packet in reply:
        assert packet[0] in (1, 2) and type(packet[1]) is int


# -- a real server socket ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live_port() -> Iterator[int]:
    loop = asyncio.new_event_loop()
    server = XentaraServer(small_model())
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start("127.0.0.1", 0))
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    yield server.port
    asyncio.run_coroutine_threadsafe(server.close(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def _frame(payload: bytes, opcode: int = 2, mask: bytes = b"\x01\x02\x03\x04") -> bytes:
    length = len(payload)
    if length < 126:
        head = bytes((0x80 | opcode, 0x80 | length))
    elif length < 65536:
        head = bytes((0x80 | opcode, 0xFE)) + struct.pack(">H", length)
    else:
        head = bytes((0x80 | opcode, 0xFF)) + struct.pack(">Q", length)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def _open(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(
        b"GET /api/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, "the server closed during the handshake"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101")
    return sock


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, "the server closed the connection"
        data += chunk
    return data


def _read_message(sock: socket.socket) -> tuple[int, bytes]:
    first, second = _recv_exact(sock, 2)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack(">H", _recv_exact(sock, 2))[0]
    elif length == 127:
        length = struct.unpack(">Q", _recv_exact(sock, 8))[0]
    return first & 0x0F, _recv_exact(sock, length)


def _healthy(port: int) -> None:
    sock = _open(port)
    try:
        sock.sendall(_frame(encode([[0, 1, 14, {0: 1, 1: 1}], [0, 2, 4, {0: REGISTER_UUID, 1: [11]}]])))
        opcode, payload = _read_message(sock)
        assert opcode == 2 and [p[:2] for p in decode(payload)] == [[1, 1], [1, 2]]
    finally:
        sock.close()


payloads = st.one_of(
    st.binary(max_size=64),
    st.lists(requests, min_size=1, max_size=4).map(encode),
    st.lists(packet_parts, min_size=1, max_size=4).map(
        lambda parts: array_header(len(parts)) + b"".join(d for d, _ in parts)
    ),
)


@FUZZ
@given(st.lists(payloads, min_size=1, max_size=6), st.lists(st.integers(1, 40), min_size=1, max_size=8))
def test_valid_frames_of_any_payload_each_get_one_reply_and_keep_the_connection(
    live_port: int, messages: list[bytes], cuts: list[int]
) -> None:
    sock = _open(live_port)
    try:
        stream = b"".join(_frame(m) for m in messages)
        position, index = 0, 0
        while position < len(stream):  # arbitrary TCP segmentation
            step = cuts[index % len(cuts)]
            sock.sendall(stream[position : position + step])
            position += step
            index += 1
        for _ in messages:
            opcode, payload = _read_message(sock)
            assert opcode == 2
            assert type(decode(payload)) is list
        sock.sendall(_frame(encode([[0, 7, 8]])))  # still open and answering
        assert decode(_read_message(sock)[1])[0][1] == 7
    finally:
        sock.close()


@FUZZ
@given(st.binary(min_size=1, max_size=300))
def test_arbitrary_bytes_after_the_handshake_never_hurt_the_server(live_port: int, garbage: bytes) -> None:
    sock = _open(live_port)
    try:
        sock.sendall(garbage)
    finally:
        sock.close()
    _healthy(live_port)


def test_the_fuzz_settings_are_bounded_in_the_default_run() -> None:
    assert EXAMPLES <= 1000 or os.environ.get("XENTARA_FUZZ_EXAMPLES")

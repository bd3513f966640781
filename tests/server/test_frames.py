"""The edge's WebSocket side without sockets: bytes fed to the connection protocol, bytes read back.

What the server writes is parsed with websockets' own sans-I/O client, as websockets' own
tests do; only frames no library would send are built by hand (support.edge.raw_frame).
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from helpers import small_model
from hypothesis import given, settings
from hypothesis import strategies as st
from support.edge import HELLO, STAGE, WireClient, attach, data_frames, open_websocket, raw_frame
from websockets.frames import Opcode

from xentara_ws.edge import Edge, HttpRequest, WebSocketChannel
from xentara_ws.protocol.codec import decode, encode
from xentara_ws.server import commands  # noqa: F401  (registers the command handlers)
from xentara_ws.server.limits import Limits
from xentara_ws.server.state import ServerState


def make_edge(**limits: float) -> Edge:
    return Edge(ServerState(model=small_model(), limits=Limits(**limits)))  # type: ignore[arg-type]


def close_code(frames) -> int | None:
    for frame in frames:
        if frame.opcode is Opcode.CLOSE:
            return int.from_bytes(frame.data[:2], "big")
    return None


async def test_frames_sent_together_with_the_upgrade_request_are_answered_after_the_101():
    edge = make_edge()
    wire = WireClient()
    _, transport, client = open_websocket(edge, first=wire.binary(HELLO) + wire.binary(STAGE))
    written = transport.take()
    assert written.startswith(b"HTTP/1.1 101 ")
    replies = [decode(d) for d in data_frames(client.receive(written))]
    assert replies == [[[1, 1, {0: 1}]], [[1, 2, 2]]]


async def test_the_replies_to_every_frame_of_one_read_go_out_in_one_write():
    edge = make_edge()
    connection, transport, client = open_websocket(edge, first=WireClient().binary(HELLO))
    client.receive(transport.take())
    before = transport.writes
    connection.data_received(b"".join(client.binary(encode([[0, i, 8]])) for i in range(10, 20)))
    assert transport.writes == before + 1
    replies = [decode(d) for d in data_frames(client.receive(transport.take()))]
    assert [r[0][1] for r in replies] == list(range(10, 20))


async def test_frames_split_into_single_bytes_are_reassembled():
    edge = make_edge()
    connection, transport, client = open_websocket(edge)
    data = client.binary(HELLO) + client.binary(STAGE) + client.binary(encode([[0, 3, 3, {0: "Group 1" * 30}]]))
    for i in range(len(data)):
        connection.data_received(data[i : i + 1])
    replies = [decode(d) for d in data_frames(client.receive(transport.take()))]
    assert replies[0] == [[1, 1, {0: 1}]] and replies[1] == [[1, 2, 2]]
    assert replies[2][0][:2] == [2, 3] and replies[2][0][2][0] == -32100


async def test_a_ping_between_requests_gets_its_pong_and_the_requests_their_replies():
    edge = make_edge()
    connection, transport, client = open_websocket(edge)
    connection.data_received(client.binary(HELLO) + client.ping(b"are you there") + client.binary(STAGE))
    frames = client.receive(transport.take())
    assert [bytes(f.data) for f in frames if f.opcode is Opcode.PONG] == [b"are you there"]
    assert [decode(d) for d in data_frames(frames)] == [[[1, 1, {0: 1}]], [[1, 2, 2]]]


async def test_an_unmasked_client_frame_closes_the_connection_with_1002():
    connection, transport, client = open_websocket(make_edge())
    connection.data_received(raw_frame(HELLO, mask=None))
    assert close_code(client.receive(transport.take())) == 1002
    assert transport.eof_written


async def test_a_fragmented_message_then_whole_ones_keep_their_order():
    connection, transport, client = open_websocket(make_edge())
    connection.data_received(
        client.binary(HELLO[:3], fin=False) + client.continuation(HELLO[3:], fin=True) + client.binary(STAGE)
    )
    assert [decode(d) for d in data_frames(client.receive(transport.take()))] == [[[1, 1, {0: 1}]], [[1, 2, 2]]]


async def test_a_text_frame_is_answered_with_a_parse_error_and_the_connection_stays_usable():
    connection, transport, client = open_websocket(make_edge())
    connection.data_received(client.text("[[0, 1, 14]]") + client.binary(HELLO))
    replies = [decode(d) for d in data_frames(client.receive(transport.take()))]
    assert replies[0][0][2][0] == -32700 and replies[1] == [[1, 1, {0: 1}]]


async def test_invalid_utf8_in_a_text_frame_closes_with_1007():
    connection, transport, client = open_websocket(make_edge())
    connection.data_received(raw_frame(b"\xff\xfe", opcode=1) + client.binary(HELLO))
    frames = client.receive(transport.take())
    assert close_code(frames) == 1007
    assert data_frames(frames) == [], "nothing after the invalid frame is handled"


async def test_a_close_frame_is_answered_and_a_write_before_it_still_takes_effect():
    edge = make_edge()
    connection, transport, client = open_websocket(edge, first=WireClient().binary(HELLO))
    client.receive(transport.take())
    register = uuid.UUID("e3ee1071-4d88-4ba1-8e5d-0f1e4ce25ee8")
    connection.data_received(client.binary(encode([[0, 5, 5, {0: register, 1: 11, 2: 99.5}]])) + client.close(1000))
    assert close_code(client.receive(transport.take())) == 1000
    element = edge.state.model.find(register)
    assert element is not None and element.read(element.attribute(11)) == 99.5


async def test_a_frame_announcing_more_than_the_limit_is_refused_at_once_with_1009():
    connection, transport, client = open_websocket(make_edge())
    connection.data_received(bytes((0x82, 0x80 | 127)) + (2**40).to_bytes(8, "big") + b"\x00" * 4 + b"x" * 100)
    assert close_code(client.receive(transport.take())) == 1009


async def test_a_fragmented_message_over_the_limit_closes_with_1009():
    connection, transport, client = open_websocket(make_edge(max_message_size=1000))
    connection.data_received(client.binary(b"x" * 600, fin=False) + client.continuation(b"x" * 600, fin=True))
    assert close_code(client.receive(transport.take())) == 1009


async def test_a_control_frame_with_a_long_payload_closes_the_connection_with_1002():
    connection, transport, client = open_websocket(make_edge())
    connection.data_received(raw_frame(b"x" * 4000, opcode=9))
    assert close_code(client.receive(transport.take())) == 1002


async def test_under_back_pressure_requests_wait_unread_and_are_answered_when_the_client_reads_again():
    connection, transport, client = open_websocket(make_edge(), first=WireClient().binary(HELLO))
    client.receive(transport.take())
    connection.pause_writing()  # what the transport says when its buffer is full
    assert not transport.reading
    connection.data_received(client.binary(encode([[0, 7, 8]])) + client.binary(encode([[0, 8, 8]])))
    assert transport.take() == b"", "no request is handled while its reply could not be written"
    connection.resume_writing()
    assert transport.reading
    assert [decode(d)[0][1] for d in data_frames(client.receive(transport.take()))] == [7, 8]


async def test_events_wait_in_the_scheduler_under_back_pressure_and_the_latest_value_goes_out_after():
    edge = make_edge()
    register = uuid.UUID("e3ee1071-4d88-4ba1-8e5d-0f1e4ce25ee8")
    subscribe = encode([[0, 2, 6, {0: [{0: register, 1: [11]}]}]])
    wire = WireClient()
    connection, transport, client = open_websocket(edge, first=wire.binary(HELLO) + wire.binary(subscribe))
    await asyncio.sleep(0.01)
    client.receive(transport.take())
    connection.pause_writing()
    element = edge.state.model.find(register)
    assert element is not None
    for value in (1.0, 2.0, 3.0):
        element.update(value, edge.state.model.clock())
        await asyncio.sleep(0)
    assert transport.take() == b""
    connection.resume_writing()
    await asyncio.sleep(0.01)
    events = [decode(d) for d in data_frames(client.receive(transport.take()))]
    assert len(events) == 1 and events[0][0][2][2][11].value == 3.0


class Deferred:
    """A WebSocket app whose replies to "later" messages come from futures the test resolves."""

    def __init__(self) -> None:
        self.futures: list[asyncio.Future[bytes]] = []
        self.seen: list[bytes | str] = []
        self.closed = False

    def __call__(self, request: HttpRequest, channel: WebSocketChannel) -> Deferred:
        return self

    def on_message(self, data: bytes | str) -> object:
        self.seen.append(data)
        if data == b"later":
            future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
            self.futures.append(future)
            return future
        return b"now:" + bytes(data)  # type: ignore[arg-type]

    def on_close(self) -> None:
        self.closed = True


async def test_an_awaitable_reply_holds_later_messages_and_keeps_their_order():
    edge = make_edge()
    app = Deferred()
    edge.add_websocket_route("/deferred", app)
    connection, transport, client = open_websocket(edge, "/deferred")
    client.receive(transport.take())
    connection.data_received(client.binary(b"later") + client.binary(b"a"))
    connection.data_received(client.binary(b"b"))
    assert app.seen == [b"later"], "nothing after the pending message is handled"
    assert not transport.reading
    app.futures[0].set_result(b"done")
    await asyncio.sleep(0)
    assert app.seen == [b"later", b"a", b"b"]
    assert data_frames(client.receive(transport.take())) == [b"done", b"now:a", b"now:b"]
    assert transport.reading


async def test_an_async_gatekeeper_admits_before_the_101_and_early_frames_wait_for_it():
    admitted = asyncio.Event()

    class SlowGate:
        async def admit(self, request: HttpRequest) -> str:
            await admitted.wait()
            return "someone"

    edge = Edge(ServerState(model=small_model()), SlowGate())
    _, transport, client = open_websocket(edge, first=WireClient().binary(HELLO))
    await asyncio.sleep(0.01)
    assert transport.take() == b""
    admitted.set()
    await asyncio.sleep(0.01)
    written = transport.take()
    assert written.startswith(b"HTTP/1.1 101 ")
    assert [decode(d) for d in data_frames(client.receive(written))] == [[[1, 1, {0: 1}]]]


async def test_the_connection_end_is_reported_once_to_the_dispatcher_and_the_app():
    edge = make_edge()
    app = Deferred()
    edge.add_websocket_route("/deferred", app)
    _, transport, _ = open_websocket(edge, "/deferred")
    _cbor, cbor_transport, _ = open_websocket(edge)
    sessions = edge.api.sessions()
    assert len(sessions) == 1 and sessions[0].peer == "127.0.0.1" and sessions[0].peer_address == "127.0.0.1:40000"
    transport.abort()
    cbor_transport.abort()
    assert app.closed and sessions[0].closed and edge.api.sessions() == []
    assert not edge.connections


async def test_an_http_request_and_an_upgrade_can_share_a_kept_alive_connection():
    edge = make_edge()
    connection, transport = attach(edge)
    client = WireClient()
    connection.data_received(b"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n" + client.handshake() + client.binary(HELLO))
    written = transport.take()
    assert written.startswith(b"HTTP/1.1 404 ")
    upgrade = written.index(b"HTTP/1.1 101 ")
    assert [decode(d) for d in data_frames(client.receive(written[upgrade:]))] == [[[1, 1, {0: 1}]]]


_MESSAGES = [
    [[0, 2, 8]],
    [[0, 3, 3, {0: "Group 1"}]],
    [[0, 4, 3, {0: "x" * 300}]],
    [[0, 5, 1, {0: uuid.UUID(int=0)}]],
    [[0, 6, 99]],
    [[0, 7, 8], [0, 8, 8]],
]


@settings(max_examples=60, deadline=None)
@given(
    picks=st.lists(st.integers(0, len(_MESSAGES) - 1), min_size=1, max_size=6),
    cuts=st.lists(st.integers(1, 60), max_size=12),
    ping_at=st.none() | st.integers(0, len(_MESSAGES)),
    early_count=st.integers(0, 6),
)
def test_any_split_of_a_stream_of_frames_gets_every_reply_in_order(picks, cuts, ping_at, early_count):
    async def run() -> None:
        edge = make_edge()
        connection, transport = attach(edge)
        client = WireClient()
        frames = [client.binary(encode(_MESSAGES[i])) for i in picks]
        if ping_at is not None:
            frames.insert(min(ping_at, len(frames)), client.ping(b"ping"))
        stream = client.handshake() + client.binary(HELLO) + b"".join(frames)
        split = len(client.handshake()) + sum(len(f) for f in frames[:early_count])
        position = 0
        for cut in [*cuts, len(stream)]:
            end = min(len(stream), position + cut) if position < split else len(stream)
            connection.data_received(stream[position:end])
            position = end
            if position >= len(stream):
                break
        received = client.receive(transport.take())
        replies = [decode(d) for d in data_frames(received)]
        assert replies[0] == [[1, 1, {0: 1}]]
        assert [[p[1] for p in r] for r in replies[1:]] == [[p[1] for p in _MESSAGES[i]] for i in picks]
        assert sum(1 for f in received if f.opcode is Opcode.PONG) == (0 if ping_at is None else 1)

    asyncio.run(run())


@pytest.mark.parametrize("path", ["/api/ws", "/api/ws?x=1"])
async def test_the_api_route_matches_with_or_without_a_query(path):
    _, transport, _client = open_websocket(make_edge(), path)
    assert transport.take().startswith(b"HTTP/1.1 101 ")


async def test_an_awaitable_dispatcher_reply_is_awaited_in_order_and_a_failure_is_an_internal_error():
    edge = make_edge()
    original = edge.dispatcher.handle_bytes

    async def later(session, data: bytes) -> bytes:
        await asyncio.sleep(0.01)
        if decode(data)[0][1] == 3:
            raise RuntimeError("the handler broke")
        return original(session, data)

    def handle(session, data: bytes):  # what the dispatcher returns for an async command handler
        return later(session, data) if decode(data)[0][1] in (1, 3) else original(session, data)

    edge.dispatcher.handle_bytes = handle  # type: ignore[method-assign]
    connection, transport, client = open_websocket(edge)
    client.receive(transport.take())
    connection.data_received(client.binary(HELLO) + client.binary(STAGE) + client.binary(encode([[0, 3, 8]])))
    assert transport.take() == b""
    replies: list[object] = []
    async with asyncio.timeout(5):
        while len(replies) < 3:
            await asyncio.sleep(0.01)
            replies += [decode(d) for d in data_frames(client.receive(transport.take()))]
    assert replies[:2] == [[[1, 1, {0: 1}]], [[1, 2, 2]]]
    assert replies[2][0][0] == 2 and replies[2][0][2][0] == -32603  # type: ignore[index]


async def test_a_malformed_http_request_is_400_and_the_connection_closes():
    connection, transport = attach(make_edge())
    connection.data_received(b"GET /api/ws HTTP/1.1\r\nHost x\r\n\r\n")
    assert transport.take().startswith(b"HTTP/1.1 400 ")
    assert transport.closing


async def test_a_plain_get_on_the_websocket_route_is_426():
    connection, transport = attach(make_edge())
    connection.data_received(b"GET /api/ws HTTP/1.1\r\nHost: x\r\n\r\n")
    written = transport.take()
    assert written.startswith(b"HTTP/1.1 426 ") and b"Upgrade: websocket" in written


async def test_a_client_that_half_closes_after_its_request_still_gets_the_response():
    from xentara_ws.edge import HttpResponse

    edge = make_edge()
    ready: asyncio.Future[HttpResponse] = asyncio.get_running_loop().create_future()
    edge.add_http_route("/slow", lambda request: ready)
    connection, transport = attach(edge)
    connection.data_received(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    assert connection.eof_received() is True
    ready.set_result(HttpResponse.text("done", 200))
    await asyncio.sleep(0)
    written = transport.take()
    assert written.startswith(b"HTTP/1.1 200 ") and written.endswith(b"done") and transport.closing


async def test_a_client_that_leaves_during_an_async_admission_leaves_no_session_behind():
    admitted = asyncio.Event()

    class SlowGate:
        async def admit(self, request: HttpRequest) -> str:
            await admitted.wait()
            return "someone"

    edge = Edge(ServerState(model=small_model()), SlowGate())
    _, transport, _ = open_websocket(edge)
    transport.abort()
    admitted.set()
    await asyncio.sleep(0.01)
    assert edge.api.sessions() == [] and not edge.connections

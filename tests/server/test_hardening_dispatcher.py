"""Issue 14 items 6 and 9: the per-message work budget, and refused values judged per packet."""

from __future__ import annotations

import uuid
from typing import Any

from cbor2 import CBORTag
from support.hardening import settled
from support.models import COUNTER_UUID, FLAG_UUID, REGISTER_UUID, small_model

from xentara_ws.protocol.codec import decode, encode
from xentara_ws.server.connection_state import ConnectionState
from xentara_ws.server.dispatcher import PRE_HELLO_REPLY_BYTES, Dispatcher
from xentara_ws.server.limits import Limits
from xentara_ws.server.state import ServerState

HELLO = [0, 1, 14, {0: 1, 1: 1}]


def make(**limits: Any) -> tuple[Dispatcher, ConnectionState]:
    dispatcher = Dispatcher(ServerState(model=small_model(), limits=Limits(**limits)))
    session = ConnectionState()
    assert settled(dispatcher.handle_message(session, [HELLO])) == [[1, 1, {0: 1}]]
    return dispatcher, session


def test_a_message_of_tiny_items_before_client_hello_gets_a_tiny_reply() -> None:
    dispatcher = Dispatcher(ServerState(model=small_model()))
    message = b"\x9a" + (200_000).to_bytes(4, "big") + b"\x00" * 200_000  # 200,000 one-byte items
    reply = dispatcher.handle_bytes(ConnectionState(), message)
    assert isinstance(reply, bytes)
    assert len(reply) <= PRE_HELLO_REPLY_BYTES + 512
    packets = decode(reply)
    last = packets[-1]
    assert last[0] == 2 and last[2][0] == -32600 and "not executed" in last[2][1] and "client_hello" in last[2][1]


def test_the_reply_to_one_message_stops_at_max_reply_size_with_one_error_for_the_rest() -> None:
    dispatcher, session = make(max_reply_size=64 * 1024, max_packets_per_message=100_000)
    reads = [[0, 10 + i, 4, {0: REGISTER_UUID, 1: [0, 1, 2, 3, 4]}] for i in range(20_000)]
    reply = dispatcher.handle_bytes(session, encode(reads))
    assert isinstance(reply, bytes) and len(reply) <= 64 * 1024 + 1024
    packets = decode(reply)
    answered, excess = packets[:-1], packets[-1]
    assert [p[1] for p in answered] == [10 + i for i in range(len(answered))]
    assert all(p[0] == 1 for p in answered)
    assert excess[1] == 10 + len(answered), "the error names the first packet that was not executed"
    assert excess[2][0] == -32600 and f"{20_000 - len(answered) - 1} packets" in excess[2][1]
    assert "max_reply_size" in excess[2][1]


def test_a_packet_with_a_refused_value_gets_its_own_error_and_its_neighbours_run() -> None:
    dispatcher, session = make()
    flag = dispatcher.state.model.find(FLAG_UUID)
    good_write = encode([0, 2, 5, {0: FLAG_UUID, 1: 11, 2: True}])
    duplicate_key = b"\x84\x00\x03\x04\xa2\x00" + encode(REGISTER_UUID) + b"\x00" + encode(REGISTER_UUID)
    short_uuid = b"\x84\x00\x04\x04\xa2\x00\xd8\x25\x43abc\x01\x81\x0b"
    unknown_tag = encode([0, 5, 4, {0: CBORTag(999, 1), 1: [11]}])
    good_read = encode([0, 6, 4, {0: REGISTER_UUID, 1: [11]}])
    unreadable_head = encode([0, CBORTag(999, 7), 4])
    parts = [good_write, duplicate_key, short_uuid, unknown_tag, good_read, unreadable_head]
    message = bytes((0x80 + len(parts),)) + b"".join(parts)
    replies = decode(settled(dispatcher.handle_bytes(session, message)))
    assert [r[:2] for r in replies] == [[1, 2], [2, 3], [2, 4], [2, 5], [1, 6], [2, 0]]
    assert [r[2][0] for r in replies if r[0] == 2] == [-32602, -32602, -32602, -32700]
    assert "uplicate" in replies[1][2][1] and "UUID" in replies[2][2][1] and "999" in replies[3][2][1]
    assert flag.value is True, "the write next to the refused packets was executed"


def test_a_bignum_is_an_integer_judged_by_the_attributes_range() -> None:
    dispatcher, session = make()
    write = [0, 7, 5, {0: COUNTER_UUID, 1: 11, 2: CBORTag(2, b"\x01" + b"\x00" * 9)}]
    replies = decode(settled(dispatcher.handle_bytes(session, encode([write, [0, 8, 8]]))))
    assert replies[0][:2] == [2, 7] and replies[0][2][0] == -32105
    assert replies[1][0] == 1


def test_what_is_not_well_formed_cbor_is_still_one_parse_error() -> None:
    dispatcher, session = make()
    for data in (b"\x82\x81\x00", b"\x81\x84\x00\x02\x04", b"\x81\x00\xff", b"\x9f\x81\x00"):
        replies = decode(dispatcher.handle_bytes(session, data))
        assert len(replies) == 1 and replies[0][:2] == [2, 0] and replies[0][2][0] == -32700


def test_a_unique_uuid_key_in_a_well_formed_message_is_not_refused() -> None:
    dispatcher, session = make()
    replies = decode(dispatcher.handle_bytes(session, encode([[0, 9, 4, {0: uuid.uuid4(), 1: [11]}]])))
    assert replies[0][2][0] == -32100

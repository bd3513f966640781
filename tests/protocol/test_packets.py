"""Typed packets: parse and encode round-trip, and every pre-encoded fast path equals encoding the whole packet."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xentara_ws.protocol.codec import RefusedPacket, decode, encode
from xentara_ws.protocol.errors import ErrorCode
from xentara_ws.protocol.packets import (
    DataChange,
    EncodedSuccess,
    Error,
    Request,
    Success,
    encode_data_change,
    encode_error,
    encode_event,
    encode_message,
    encode_packet,
    encode_success,
    encode_success_encoded,
    event_head,
    event_prefix,
    message_head,
    parse_packet,
    parse_request,
    to_item,
)

ids = st.integers(min_value=-(2**63), max_value=2**64 - 1)
keys = st.one_of(st.integers(min_value=-(2**31), max_value=2**31), st.text(max_size=8))
scalars = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.booleans(),
    st.none(),
    st.uuids(),
)
maps = st.dictionaries(keys, scalars, max_size=5)
requests = st.builds(Request, ids, st.integers(min_value=0, max_value=2**16), st.one_of(st.none(), maps))
successes = st.one_of(st.builds(Success, ids, scalars), ids.map(lambda message_id: Success(message_id, None, False)))
errors = st.builds(Error, ids, st.sampled_from([int(code) for code in ErrorCode]), st.text(max_size=30))
data_changes = st.builds(DataChange, st.uuids(), st.uuids(), maps, st.integers(min_value=0, max_value=2**32))
packets = st.one_of(requests, successes, errors, data_changes)


@given(packets)
def test_encoding_then_decoding_gives_the_packet(packet: Any) -> None:
    assert parse_packet(decode(encode_packet(packet))) == packet


@given(requests)
def test_parse_request_reads_an_encoded_request(request: Request) -> None:
    assert parse_request(decode(encode_packet(request))) == request


@given(ids, scalars)
def test_success_around_an_encoded_result_is_the_whole_success_encoded(message_id: int, result: Any) -> None:
    assert encode_success_encoded(message_id, encode(result)) == encode_success(message_id, result)
    assert encode_success(message_id, result) == encode([1, message_id, result])
    assert EncodedSuccess(message_id, encode(result)).encode() == encode_packet(Success(message_id, result))


@given(ids, st.sampled_from(list(ErrorCode)), st.one_of(st.none(), st.text(max_size=20)))
def test_encode_error(message_id: int, code: ErrorCode, message: str | None) -> None:
    expected = message if message is not None else code.default_message
    assert decode(encode_error(message_id, code, message)) == [2, message_id, {0: int(code), 1: expected}]


@given(st.lists(st.one_of(ids, st.text(max_size=5)), min_size=1, max_size=40))
def test_a_message_is_the_array_of_its_encoded_packets(items: list[Any]) -> None:
    encoded = [encode(item) for item in items]
    assert encode_message(encoded) == encode(items)
    assert message_head(len(items)) + b"".join(encoded) == encode(items)


@given(st.uuids(), st.uuids(), maps)
def test_the_event_fast_path_is_the_event_message_encoded(
    subscription: uuid.UUID, element: uuid.UUID, values: Any
) -> None:
    prefix = event_prefix(event_head(subscription), element)
    expected = encode([to_item(DataChange(subscription, element, values))])
    assert encode_event(prefix, encode(values)) == expected


@given(data_changes)
def test_a_catch_up_event_with_encoded_values_is_the_data_change_encoded(change: DataChange) -> None:
    encoded = encode_data_change(change.subscription_id, change.element, encode(change.values), change.dropped)
    assert encoded == encode_packet(change)
    assert decode(encoded)[2].get(256) == ({0: change.dropped} if change.dropped else None)


@pytest.mark.parametrize(
    ("item", "code", "message"),
    [
        ({}, -32600, "a packet must be an array"),
        ([0, 1], -32700, "a request needs packet type, message id and opcode"),
        (["0", 1, 2], -32700, "the packet type must be an integer"),
        ([0, "1", 2], -32700, "the message id must be an integer"),
        ([0, 1, 2.0], -32700, "the opcode must be an integer"),
        ([1, 5, 2], -32600, "packet type 1 is not a request (0)"),
        ([0, 5, 2, {}, 4], -32600, "a request has at most four elements"),
        ([0, 5, 2, [1]], -32600, "the parameters must be a map"),
    ],
)
def test_parse_request_refuses_what_is_not_a_request(item: Any, code: int, message: str) -> None:
    error = parse_request(item)
    assert isinstance(error, Error)
    assert (error.code, error.message) == (code, message)
    assert error.message_id == (item[1] if isinstance(item, list) and len(item) > 1 and type(item[1]) is int else 0)


def test_parse_request_answers_a_refused_packet_with_its_own_error() -> None:
    assert parse_request(RefusedPacket(7, -32602, "invalid parameter: tag 99")) == Error(
        7, -32602, "invalid parameter: tag 99"
    )


def test_parse_request_without_parameters() -> None:
    assert parse_request([0, 3, 14]) == Request(3, 14, None)


def test_parse_packet_refuses_what_is_no_packet() -> None:
    with pytest.raises(ValueError, match="not a packet"):
        parse_packet("hello")
    with pytest.raises(ValueError, match="not a packet"):
        parse_packet([5, 1, 2])

"""Typed packets (spec section 3) with their parse and encode functions, including the pre-encoded fast paths.

A message is a CBOR array of packets. Hot replies and events are assembled from encoded pieces instead of
being encoded as a whole: a success packet around an already encoded result, and a data-change event
whose prefix (`[8, 0, {0: subscription id, 1: element, 2:` up to the values) is encoded once per
subscribed element. Every such byte sequence is written here, so nothing outside `protocol/` writes raw
CBOR; the unit tests check each fast path against `codec.encode` of the same packet.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from .codec import RefusedPacket, array_header, encode
from .errors import ErrorCode
from .identifiers import EventType, PacketType
from .templates import encode_int

_REQUEST: Final = int(PacketType.REQUEST)
_SUCCESS: Final = int(PacketType.SUCCESS)
_ERROR: Final = int(PacketType.ERROR)
_EVENT: Final = int(PacketType.EVENT)
_DATA_CHANGE: Final = int(EventType.DATA_CHANGE)

# [1, <id>, <result>]: a three-element array starting with packet type 1.
_SUCCESS_HEAD: Final = array_header(3) + encode(_SUCCESS)
# [8, 0, {... : a three-element event packet of type data change, then its three- or four-entry map.
_EVENT_HEAD: Final = array_header(3) + encode(_EVENT) + encode(_DATA_CHANGE)
_MAP_3: Final = b"\xa3"
_MAP_4: Final = b"\xa4"
_KEY_SUBSCRIPTION: Final = encode(0)
_KEY_ELEMENT: Final = encode(1)
_KEY_VALUES: Final = encode(2)
_KEY_DROPPED: Final = encode(256)
_ONE_PACKET: Final = array_header(1)


@dataclass(slots=True)  # not frozen: one is built per request packet, and frozen __init__ costs twice as much
class Request:
    """`[0, message id, opcode, params?]` (spec 3.1); `params` is None when absent."""

    message_id: int
    opcode: int
    params: Mapping[Any, Any] | None = None


@dataclass(frozen=True, slots=True)
class Success:
    """`[1, message id, result?]` (spec 3.2); `has_result` False for a packet without a result."""

    message_id: int
    result: Any = None
    has_result: bool = True


@dataclass(frozen=True, slots=True)
class EncodedSuccess:
    """A success packet whose result is already encoded (a read served from the encoding cache)."""

    message_id: int
    result: bytes

    def encode(self) -> bytes:
        return encode_success_encoded(self.message_id, self.result)


@dataclass(frozen=True, slots=True)
class Error:
    """`[2, message id, {0: code, 1: message}]` (spec 3.3)."""

    message_id: int
    code: int
    message: str

    @classmethod
    def of(cls, message_id: int, code: ErrorCode, message: str | None = None) -> Error:
        return cls(message_id, int(code), message if message is not None else code.default_message)


@dataclass(frozen=True, slots=True)
class DataChange:
    """`[8, 0, {0: subscription id, 1: element, 2: values}]` (spec 3.4), `dropped` under key 256 if not 0."""

    subscription_id: uuid.UUID
    element: uuid.UUID
    values: Mapping[Any, Any]
    dropped: int = 0


Packet = Request | Success | Error | DataChange


def error_item(message_id: int, code: ErrorCode | int, message: str | None = None) -> list[Any]:
    """The error packet as a CBOR-ready list (the default message of `code` when `message` is None)."""
    if message is None:
        message = ErrorCode(code).default_message
    return [_ERROR, message_id, {0: int(code), 1: message}]


def message_id_of(item: Any) -> int:
    """The id to echo in an error reply: the packet's own if it is an integer, else 0."""
    if type(item) is list and len(item) > 1 and type(item[1]) is int:
        return item[1]
    if type(item) is RefusedPacket:
        return item.message_id
    return 0


def parse_request(item: Any) -> Request | Error:
    """A decoded packet as a Request, or the Error to answer it with (spec 3.1 and 7)."""
    if type(item) is RefusedPacket:
        return Error(item.message_id, item.code, item.reason)
    if type(item) is not list:
        return Error.of(0, ErrorCode.INVALID_REQUEST, "a packet must be an array")
    size = len(item)
    if size == 4:  # the usual well-formed request, checked without detours
        packet_type, raw_id, opcode, params = item
        if (
            type(packet_type) is int
            and packet_type == _REQUEST
            and type(raw_id) is int
            and type(opcode) is int
            and type(params) is dict
        ):
            return Request(raw_id, opcode, params)
    message_id = message_id_of(item)
    if size < 3:
        return Error.of(message_id, ErrorCode.PARSE_ERROR, "a request needs packet type, message id and opcode")
    packet_type, raw_id, opcode = item[0], item[1], item[2]
    if type(packet_type) is not int:
        return Error.of(message_id, ErrorCode.PARSE_ERROR, "the packet type must be an integer")
    if type(raw_id) is not int:
        return Error.of(message_id, ErrorCode.PARSE_ERROR, "the message id must be an integer")
    if type(opcode) is not int:
        return Error.of(message_id, ErrorCode.PARSE_ERROR, "the opcode must be an integer")
    if packet_type != _REQUEST:
        return Error.of(message_id, ErrorCode.INVALID_REQUEST, f"packet type {packet_type} is not a request (0)")
    if size > 4:
        return Error.of(message_id, ErrorCode.INVALID_REQUEST, "a request has at most four elements")
    params = item[3] if size == 4 else None
    if params is not None and type(params) is not dict and not isinstance(params, Mapping):
        return Error.of(message_id, ErrorCode.INVALID_REQUEST, "the parameters must be a map")
    return Request(raw_id, opcode, params)


def to_item(packet: Packet) -> list[Any]:
    """A packet as the CBOR-ready list it is sent as."""
    if type(packet) is Request:
        if packet.params is None:
            return [_REQUEST, packet.message_id, packet.opcode]
        return [_REQUEST, packet.message_id, packet.opcode, packet.params]
    if type(packet) is Success:
        if packet.has_result:
            return [_SUCCESS, packet.message_id, packet.result]
        return [_SUCCESS, packet.message_id]
    if type(packet) is Error:
        return [_ERROR, packet.message_id, {0: packet.code, 1: packet.message}]
    assert type(packet) is DataChange
    body: dict[int, Any] = {0: packet.subscription_id, 1: packet.element}
    if packet.dropped:
        body[256] = {0: packet.dropped}
    body[2] = packet.values
    return [_EVENT, _DATA_CHANGE, body]


def parse_packet(item: Any) -> Packet:
    """A decoded packet of any type (a client reading replies and events); ValueError if it is none."""
    if type(item) is not list or len(item) < 2 or type(item[0]) is not int:
        raise ValueError(f"not a packet: {item!r}")
    kind = item[0]
    if kind == _REQUEST:
        parsed = parse_request(item)
        if type(parsed) is Error:
            raise ValueError(parsed.message)
        return parsed
    if kind == _SUCCESS and type(item[1]) is int and len(item) <= 3:
        return Success(item[1], item[2]) if len(item) == 3 else Success(item[1], None, False)
    if kind == _ERROR and len(item) == 3 and type(item[1]) is int and isinstance(item[2], Mapping):
        return Error(item[1], item[2].get(0, 0), item[2].get(1, ""))
    if kind == _EVENT and len(item) == 3 and item[1] == _DATA_CHANGE and isinstance(item[2], Mapping):
        body = item[2]
        dropped = body.get(256, {})
        return DataChange(body[0], body[1], body[2], dropped.get(0, 0) if isinstance(dropped, Mapping) else 0)
    raise ValueError(f"not a packet this core understands: {item!r}")


def encode_packet(packet: Packet) -> bytes:
    return encode(to_item(packet))


def encode_success(message_id: int, result: Any) -> bytes:
    return encode([_SUCCESS, message_id, result])


def encode_success_encoded(message_id: int, result: bytes) -> bytes:
    """`[1, message id, result]` around a result that is already encoded (the read fast path)."""
    return _SUCCESS_HEAD + encode_int(message_id) + result


def encode_error(message_id: int, code: ErrorCode | int, message: str | None = None) -> bytes:
    return encode(error_item(message_id, code, message))


def message_head(count: int) -> bytes:
    """The head of a message of `count` packets, to be followed by the packets' encodings."""
    return array_header(count)


def encode_message(packets: Sequence[bytes]) -> bytes:
    """A message from encoded packets: the array head and their concatenation."""
    if len(packets) == 1:
        return _ONE_PACKET + packets[0]
    return array_header(len(packets)) + b"".join(packets)


def event_head(subscription_id: uuid.UUID) -> bytes:
    """The part of every event prefix of one subscription, encoded once per subscription."""
    return _EVENT_HEAD + _MAP_3 + _KEY_SUBSCRIPTION + encode(subscription_id)


def event_prefix(head: bytes, element: uuid.UUID) -> bytes:
    """A data-change event up to its values (`head` from event_head), encoded once per subscribed element."""
    return head + _KEY_ELEMENT + encode(element) + _KEY_VALUES


def encode_event(prefix: bytes, values: bytes) -> bytes:
    """A one-packet message holding the data-change event `prefix` + encoded `values` map."""
    return _ONE_PACKET + prefix + values


def encode_data_change(subscription_id: uuid.UUID, element: uuid.UUID, values: bytes, dropped: int = 0) -> bytes:
    """One data-change packet with already encoded `values`; `dropped` (if not 0) under key 256."""
    middle = _KEY_SUBSCRIPTION + encode(subscription_id) + _KEY_ELEMENT + encode(element)
    if dropped:
        return _EVENT_HEAD + _MAP_4 + middle + _KEY_DROPPED + encode({0: dropped}) + _KEY_VALUES + values
    return _EVENT_HEAD + _MAP_3 + middle + _KEY_VALUES + values

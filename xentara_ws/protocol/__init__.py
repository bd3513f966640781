"""The pure protocol core: CBOR profile, packets, identifiers and error codes. No I/O."""

from .codec import TIME_POINT_MAX, TIME_POINT_MIN, CBORProfileError, TimePoint, decode, encode
from .errors import ErrorCode, ProtocolError
from .identifiers import (
    NIL_UUID,
    PROTOCOL_VERSION,
    Access,
    Attribute,
    DataType,
    ElementCategory,
    EventType,
    MetaData,
    Opcode,
    PacketType,
    Quality,
    ServerInformation,
    Stage,
)

__all__ = [
    "NIL_UUID",
    "PROTOCOL_VERSION",
    "TIME_POINT_MAX",
    "TIME_POINT_MIN",
    "Access",
    "Attribute",
    "CBORProfileError",
    "DataType",
    "ElementCategory",
    "ErrorCode",
    "EventType",
    "MetaData",
    "Opcode",
    "PacketType",
    "ProtocolError",
    "Quality",
    "ServerInformation",
    "Stage",
    "TimePoint",
    "decode",
    "encode",
]

"""The strict CBOR profile of the Xentara WebSocket API (spec sections 4 and 10.14-10.15).

Decoding accepts exactly one CBOR item per frame, refuses duplicate map keys, bounds the
nesting depth and admits only the tags the protocol uses: 37 (UUID), 121/122/123
(alternatives), 1001 (time stamps, with tag 4 decimal fractions inside) and 1 (epoch seconds).
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import cbor2
from cbor2 import CBORTag

MAX_DEPTH: Final = 32

TAG_UUID: Final = 37
TAG_ALTERNATIVE_0: Final = 121
TAG_ALTERNATIVE_1: Final = 122
TAG_ALTERNATIVE_2: Final = 123
TAG_EXTENDED_TIME: Final = 1001
TAG_DECIMAL_FRACTION: Final = 4
TAG_EPOCH_TIME: Final = 1

_ALTERNATIVE_TAGS: Final = frozenset((TAG_ALTERNATIVE_0, TAG_ALTERNATIVE_1, TAG_ALTERNATIVE_2))
# Tags cbor2 decodes natively; every one we do not use is refused by overriding its decoder.
# Bignums (2, 3) are ordinary integers (spec 10.15): cbor2 decodes them to int.
_NATIVE_TAGS: Final = (0, 5, 25, 28, 29, 30, 35, 36, 52, 54, 100, 256, 258, 260, 261, 1004, 55799)
# Everything the lenient pass of decode_message keeps as a plain CBORTag instead of interpreting it.
_RAW_TAGS: Final = (*_NATIVE_TAGS, 1, 2, 3, 4, TAG_UUID)

NS_PER_SECOND: Final = 1_000_000_000
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
_ALLOWED_EXPONENTS: Final = {-9: 1, -6: 1_000, -3: 1_000_000}


@dataclass(frozen=True, slots=True, order=True)
class TimePoint:
    """A Xentara time stamp: nanoseconds since the Unix epoch, clamped to the int64 range."""

    ns: int

    @classmethod
    def from_seconds(cls, seconds: float) -> TimePoint:
        if math.isnan(seconds):
            raise ValueError("a time stamp cannot be NaN")
        if math.isinf(seconds):
            return TIME_POINT_MIN if seconds < 0 else TIME_POINT_MAX
        return cls(_clamp(round(seconds * NS_PER_SECOND)))

    @property
    def seconds(self) -> float:
        return self.ns / NS_PER_SECOND

    def to_cbor(self) -> CBORTag:
        if self.ns == _INT64_MIN:
            return CBORTag(TAG_EXTENDED_TIME, {1: -math.inf})
        if self.ns == _INT64_MAX:
            return CBORTag(TAG_EXTENDED_TIME, {1: math.inf})
        return CBORTag(TAG_EXTENDED_TIME, {4: CBORTag(TAG_DECIMAL_FRACTION, [-9, self.ns])})


def _clamp(ns: int) -> int:
    return min(max(ns, _INT64_MIN), _INT64_MAX)


TIME_POINT_MIN: Final = TimePoint(_INT64_MIN)
TIME_POINT_MAX: Final = TimePoint(_INT64_MAX)


@dataclass(frozen=True, slots=True)
class DecimalFraction:
    """A tag 4 item; only meaningful inside a 1001 time stamp."""

    exponent: int
    mantissa: int


class CBORProfileError(ValueError):
    """Input that is not valid CBOR or breaks the protocol's CBOR profile."""


def _refuse_tag(tag: int) -> Any:
    def refuse(value: Any, immutable: bool) -> Any:
        raise CBORProfileError(f"CBOR tag {tag} is not used by the protocol")

    return refuse


def _decode_decimal_fraction(value: Any, immutable: bool) -> DecimalFraction:
    if (
        not isinstance(value, (list, tuple))
        or len(value) != 2
        or type(value[0]) is not int
        or type(value[1]) is not int
    ):
        raise CBORProfileError("tag 4 must hold [exponent, mantissa] integers")
    return DecimalFraction(value[0], value[1])


def _decode_epoch_time(value: Any, immutable: bool) -> TimePoint:
    return _seconds_time_point(value)


def _seconds_time_point(value: Any) -> TimePoint:
    if type(value) not in (int, float):
        raise CBORProfileError("epoch seconds must be a number")
    try:
        return TimePoint.from_seconds(value)
    except (ValueError, OverflowError) as error:
        raise CBORProfileError(str(error)) from None


def _decode_extended_time(content: Any) -> TimePoint:
    if not isinstance(content, Mapping) or len(content) != 1:
        raise CBORProfileError("tag 1001 must hold a map with exactly one of the keys 1 or 4")
    if 4 in content:
        fraction = content[4]
        if not isinstance(fraction, DecimalFraction):
            raise CBORProfileError("tag 1001 key 4 must be a tag 4 decimal fraction")
        scale = _ALLOWED_EXPONENTS.get(fraction.exponent)
        if scale is None:
            raise CBORProfileError("tag 1001 decimal fraction exponent must be -9, -6 or -3")
        return TimePoint(_clamp(fraction.mantissa * scale))
    if 1 in content:
        return _seconds_time_point(content[1])
    raise CBORProfileError("tag 1001 must hold a map with key 1 or 4")


def _tag_hook(tag: CBORTag, immutable: bool) -> Any:
    number = tag.tag
    if number in _ALTERNATIVE_TAGS:
        return tag
    if number == TAG_EXTENDED_TIME:
        return _decode_extended_time(tag.value)
    raise CBORProfileError(f"CBOR tag {number} is not used by the protocol")


_SEMANTIC_DECODERS: Final[dict[int, Any]] = {tag: _refuse_tag(tag) for tag in _NATIVE_TAGS}
_SEMANTIC_DECODERS[TAG_DECIMAL_FRACTION] = _decode_decimal_fraction
_SEMANTIC_DECODERS[TAG_EPOCH_TIME] = _decode_epoch_time


_local = threading.local()


def _decoder(max_depth: int) -> cbor2.CBORDecoder:
    # Building a decoder costs more than decoding a small request, so each thread keeps one.
    decoder: cbor2.CBORDecoder | None = getattr(_local, "decoder", None)
    if decoder is None or decoder.max_depth != max_depth:
        decoder = cbor2.CBORDecoder(
            io.BytesIO(),
            tag_hook=_tag_hook,
            semantic_decoders=_SEMANTIC_DECODERS,
            max_depth=max_depth,
            allow_duplicate_keys=False,
        )
        _local.decoder = decoder
    return decoder


def decode(data: bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Decode one complete CBOR item under the protocol's profile or raise CBORProfileError."""
    stream = io.BytesIO(data)
    decoder = _decoder(max_depth)
    decoder.fp = stream
    try:
        item = decoder.decode()
    except CBORProfileError:
        raise
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError, MemoryError) as error:
        cause = error.__cause__ if isinstance(error.__cause__, CBORProfileError) else error
        raise CBORProfileError(str(cause)) from None
    if stream.tell() != len(data):
        raise CBORProfileError(f"{len(data) - stream.tell()} trailing bytes after the CBOR item")
    return item


@dataclass(frozen=True, slots=True)
class RefusedPacket:
    """A well-formed packet holding something the profile refuses (decision 15): it gets its own error
    reply, `code` (-32602, or -32700 when its type, id or opcode is unreadable) with its own message id."""

    message_id: int
    code: int
    reason: str


def _raw_tag(tag: int) -> Any:
    def keep(value: Any, immutable: bool) -> Any:
        return CBORTag(tag, value)

    return keep


def _lenient_decoder(max_depth: int) -> cbor2.CBORDecoder:
    # Well-formedness only: any tag, duplicate keys and broken UTF-8 pass, so one packet's refused
    # value can be told apart from a message that is not CBOR at all.
    decoder: cbor2.CBORDecoder | None = getattr(_local, "lenient", None)
    if decoder is None or decoder.max_depth != max_depth:
        decoder = cbor2.CBORDecoder(
            io.BytesIO(),
            tag_hook=lambda tag, immutable: tag,
            semantic_decoders={tag: _raw_tag(tag) for tag in _RAW_TAGS},
            str_errors="replace",
            max_depth=max_depth,
            allow_duplicate_keys=True,
        )
        _local.lenient = decoder
    return decoder


def _array_items(data: bytes, max_depth: int) -> list[bytes] | None:
    """The encoded items of a top-level array, or None when `data` is not one well-formed CBOR array."""
    if not data or data[0] >> 5 != 4:
        return None
    info = data[0] & 0x1F
    position = 1
    count: int | None
    if info < 24:
        count = info
    elif info in (24, 25, 26, 27):
        width = 1 << (info - 24)
        if len(data) < 1 + width:
            return None
        count = int.from_bytes(data[1 : 1 + width], "big")
        position += width
    elif info == 31:
        count = None  # indefinite length, ends with a break byte
    else:
        return None
    stream = io.BytesIO(data)
    decoder = _lenient_decoder(max_depth - 1)
    decoder.fp = stream
    items: list[bytes] = []
    while count is None or len(items) < count:
        if position >= len(data):
            return None
        if count is None and data[position] == 0xFF:
            position += 1
            break
        stream.seek(position)
        try:
            decoder.decode()
        except Exception:  # anything cbor2 cannot read is not well-formed
            return None
        end = stream.tell()
        items.append(data[position:end])
        position = end
    return items if position == len(data) else None


def _refusal(item: bytes, error: CBORProfileError, max_depth: int) -> RefusedPacket:
    decoder = _lenient_decoder(max_depth)
    decoder.fp = io.BytesIO(item)
    packet = decoder.decode()
    head_readable = type(packet) is list and len(packet) >= 3 and all(type(packet[i]) is int for i in range(3))
    message_id = packet[1] if type(packet) is list and len(packet) > 1 and type(packet[1]) is int else 0
    return RefusedPacket(message_id, -32602 if head_readable else -32700, f"invalid parameter: {error}")


def decode_message(data: bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Decode one message: like `decode`, but a top-level array whose items are well-formed CBOR yet break
    the profile (a tag the protocol does not use, a duplicate map key, a UUID of the wrong length, text
    that is not UTF-8) comes back with RefusedPacket in place of each such item (decision 15). Input that
    is not one well-formed CBOR item raises CBORProfileError."""
    try:
        return decode(data, max_depth=max_depth)
    except CBORProfileError as whole:
        items = _array_items(data, max_depth)
        if items is None:
            raise whole from None
    packets: list[Any] = []
    for item in items:
        try:
            packets.append(decode(item, max_depth=max_depth - 1))
        except CBORProfileError as error:
            packets.append(_refusal(item, error, max_depth - 1))
    return packets


def _default(encoder: cbor2.CBOREncoder, value: Any) -> None:
    if isinstance(value, TimePoint):
        encoder.encode(value.to_cbor())
        return
    raise TypeError(f"cannot encode {type(value).__name__} in a Xentara message")


def encode(item: Any) -> bytes:
    """Encode a message; TimePoint values become `1001({4: 4([-9, ns])})`."""
    return cbor2.dumps(item, default=_default)


def array_header(length: int) -> bytes:
    """The CBOR head of an array of `length` items, for messages assembled from encoded packets."""
    if length < 24:
        return bytes((0x80 + length,))
    if length < 0x100:
        return bytes((0x98, length))
    if length < 0x10000:
        return b"\x99" + length.to_bytes(2, "big")
    return b"\x9a" + length.to_bytes(4, "big")


def encode_record(record: Any) -> bytes:
    """Plain CBOR for data at rest (stored sub-sessions): no protocol profile, whatever cbor2 can write."""
    return cbor2.dumps(record)


def decode_record(data: bytes) -> Any:
    """The inverse of encode_record: plain CBOR as cbor2 reads it, without the protocol's restrictions."""
    return cbor2.loads(data)

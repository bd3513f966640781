"""Hot values encoded from pre-built byte templates instead of through cbor2's `default=` callback.

Every data-change event and every read result is a map `{attribute: 121(value) | 122(error)}`.
Encoding a time stamp through `codec.encode` calls back into Python (`default=`), builds three
CBOR tag objects and encodes them: about half the cost of a typical event. Here the common items
(time stamps, floats, integers, booleans, 121-tagged values) are written with `struct` and
constant heads; anything else falls back to cbor2, so the bytes are exactly what `codec.encode`
produces for the same map (the property tests compare them byte for byte).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from typing import Any, Final

import cbor2
from cbor2 import CBORTag

from .codec import TAG_ALTERNATIVE_0, TIME_POINT_MAX, TIME_POINT_MIN, TimePoint, encode

_SMALL: Final = tuple(bytes((n,)) for n in range(24))
_NEGATIVE_SMALL: Final = tuple(bytes((0x20 + n,)) for n in range(24))
_PACK_U8: Final = struct.Struct(">B").pack
_PACK_U16: Final = struct.Struct(">H").pack
_PACK_U32: Final = struct.Struct(">I").pack
_PACK_U64: Final = struct.Struct(">Q").pack
_PACK_F64: Final = struct.Struct(">d").pack
_UINT64_LIMIT: Final = 1 << 64

# 1001({4: 4([-9, <mantissa>])}) up to the mantissa's own head.
_TIME_HEAD: Final = b"\xd9\x03\xe9\xa1\x04\xc4\x82\x28"
_TIME_MIN_BYTES: Final = encode(TIME_POINT_MIN)
_TIME_MAX_BYTES: Final = encode(TIME_POINT_MAX)
_ALTERNATIVE_0_HEAD: Final = b"\xd8" + bytes((TAG_ALTERNATIVE_0,))
_TRUE: Final = b"\xf5"
_FALSE: Final = b"\xf4"
_NULL: Final = b"\xf6"
_NAN: Final = b"\xf9\x7e\x00"
_INF: Final = b"\xf9\x7c\x00"
_MINUS_INF: Final = b"\xf9\xfc\x00"


def _head(major: int, value: int) -> bytes:
    """The head of a CBOR item of major type `major` (shifted) and argument 0 <= value < 2**64."""
    if value < 24:
        return bytes((major | value,))
    if value < 0x100:
        return bytes((major | 24,)) + _PACK_U8(value)
    if value < 0x10000:
        return bytes((major | 25,)) + _PACK_U16(value)
    if value < 0x100000000:
        return bytes((major | 26,)) + _PACK_U32(value)
    return bytes((major | 27,)) + _PACK_U64(value)


def encode_int(value: int) -> bytes:
    """An integer as cbor2 writes it (bignums beyond 64 bits are left to cbor2)."""
    if 0 <= value < 24:
        return _SMALL[value]
    if -24 <= value < 0:
        return _NEGATIVE_SMALL[-1 - value]
    if 0 <= value < _UINT64_LIMIT:
        return _head(0x00, value)
    if -_UINT64_LIMIT <= value < 0:
        return _head(0x20, -1 - value)
    return cbor2.dumps(value)


def encode_float(value: float) -> bytes:
    """A float as cbor2 writes it: NaN and infinities in half precision, anything else as a double."""
    if math.isfinite(value):
        return b"\xfb" + _PACK_F64(value)
    if math.isnan(value):
        return _NAN
    return _INF if value > 0 else _MINUS_INF


def encode_time_point(value: TimePoint) -> bytes:
    """`1001({4: 4([-9, ns])})`, or `1001({1: ±inf})` at the ends of the range, like `codec.encode`."""
    ns = value.ns
    if ns >= 0:
        if ns == TIME_POINT_MAX.ns:
            return _TIME_MAX_BYTES
        return _TIME_HEAD + _head(0x00, ns)
    if ns == TIME_POINT_MIN.ns:
        return _TIME_MIN_BYTES
    return _TIME_HEAD + _head(0x20, -1 - ns)


def encode_item(value: Any) -> bytes:
    """One item, byte for byte as `codec.encode(value)`, with the hot types written directly."""
    kind = type(value)
    if kind is CBORTag and value.tag == TAG_ALTERNATIVE_0:
        return _ALTERNATIVE_0_HEAD + encode_item(value.value)
    if kind is float:
        return encode_float(value)
    if kind is int:
        return encode_int(value)
    if kind is TimePoint:
        return encode_time_point(value)
    if kind is bool:
        return _TRUE if value else _FALSE
    if value is None:
        return _NULL
    return encode(value)


def encode_map(mapping: Mapping[Any, Any]) -> bytes:
    """A map (in its iteration order) of hot values, byte for byte as `codec.encode(dict(mapping))`."""
    parts = [_head(0xA0, len(mapping))]
    append = parts.append
    for key, value in mapping.items():
        append(encode_item(key))
        append(encode_item(value))
    return b"".join(parts)

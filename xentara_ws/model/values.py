"""Converting a written wire value into an attribute's data type (spec 5.5)."""

from __future__ import annotations

import math
import struct
import uuid
from typing import Any

from ..protocol.codec import TimePoint
from ..protocol.errors import ErrorCode, ProtocolError
from ..protocol.identifiers import DataType

_FLOAT32_MAX = 3.4028234663852886e38


def _mismatch(data_type: DataType, value: Any) -> ProtocolError:
    return ProtocolError(
        ErrorCode.TYPE_MISMATCH,
        f"a {_wire_type_name(value)} cannot be converted to {data_type.name.lower()}",
    )


def _wire_type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "floating-point number"
    if isinstance(value, str):
        return "text string"
    if isinstance(value, (bytes, bytearray)):
        return "byte string"
    if isinstance(value, TimePoint):
        return "time stamp"
    if isinstance(value, uuid.UUID):
        return "UUID"
    if value is None:
        return "null"
    return type(value).__name__


def convert(data_type: DataType, value: Any) -> Any:
    """The value as the attribute stores it, or ProtocolError -32106 / -32105."""
    kind = type(value)
    if data_type is DataType.BOOLEAN:
        if kind is bool:
            return value
        raise _mismatch(data_type, value)
    limits = data_type.integer_range
    if limits is not None:
        if kind is int:
            low, high = limits
            if not low <= value <= high:
                raise ProtocolError(
                    ErrorCode.VALUE_OUT_OF_RANGE,
                    f"{value} is outside the range of {data_type.name.lower()} ({low} to {high})",
                )
            return value
        raise _mismatch(data_type, value)
    if data_type.is_float:
        if kind is float or kind is int:
            result = float(value)
            if math.isnan(result):
                raise ProtocolError(ErrorCode.ILLEGAL_VALUE, "NaN is not a valid value for a numeric attribute")
            if data_type is DataType.FLOAT_32 and math.isfinite(result):
                if abs(result) > _FLOAT32_MAX:
                    raise ProtocolError(ErrorCode.VALUE_OUT_OF_RANGE, f"{value} is outside the range of float32")
                result = struct.unpack("f", struct.pack("f", result))[0]
            return result
        raise _mismatch(data_type, value)
    if data_type.is_string:
        if kind is str:
            return value
        raise _mismatch(data_type, value)
    if data_type is DataType.TIME_POINT:
        if kind is TimePoint:
            return value
        raise _mismatch(data_type, value)
    if data_type is DataType.UUID:
        if kind is uuid.UUID:
            return value
        raise _mismatch(data_type, value)
    raise _mismatch(data_type, value)

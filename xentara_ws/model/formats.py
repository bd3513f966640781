"""JSON value formats of Xentara model files: time intervals, time stamps, data-type keywords, keys."""

from __future__ import annotations

import math
import re
import struct
import uuid
from datetime import datetime
from typing import Any

from ..protocol.codec import TimePoint
from ..protocol.identifiers import DataType

NS_PER_SECOND = 1_000_000_000

MODEL_DATA_TYPES: dict[str, DataType] = {
    "bool": DataType.BOOLEAN,
    "int8": DataType.SIGNED_INTEGER_8,
    "int16": DataType.SIGNED_INTEGER_16,
    "int32": DataType.SIGNED_INTEGER_32,
    "int64": DataType.SIGNED_INTEGER_64,
    "uint8": DataType.UNSIGNED_INTEGER_8,
    "uint16": DataType.UNSIGNED_INTEGER_16,
    "uint32": DataType.UNSIGNED_INTEGER_32,
    "uint64": DataType.UNSIGNED_INTEGER_64,
    "float32": DataType.FLOAT_32,
    "float64": DataType.FLOAT_64,
    "string": DataType.STRING,
    "timeStamp": DataType.TIME_POINT,
    "UUID": DataType.UUID,
}
"""Model-file keywords (reference 1.8) -> WebSocket data types."""

SIGNAL_DATA_TYPES = frozenset(k for k in MODEL_DATA_TYPES if k not in ("string", "timeStamp", "UUID"))

PLUGIN_DATA_TYPES: dict[str, DataType] = {
    # CoE (reference 4.3)
    "BOOLEAN": DataType.BOOLEAN,
    "BIT1": DataType.BOOLEAN,
    **{f"BIT{n}": DataType.UNSIGNED_INTEGER_8 for n in range(2, 9)},
    "BYTE": DataType.UNSIGNED_INTEGER_8,
    "UNSIGNED8": DataType.UNSIGNED_INTEGER_8,
    "INTEGER8": DataType.SIGNED_INTEGER_8,
    "INTEGER16": DataType.SIGNED_INTEGER_16,
    "INTEGER24": DataType.SIGNED_INTEGER_32,
    "INTEGER32": DataType.SIGNED_INTEGER_32,
    **{f"INTEGER{n}": DataType.SIGNED_INTEGER_64 for n in (40, 48, 56, 64)},
    "UNSIGNED16": DataType.UNSIGNED_INTEGER_16,
    "UNSIGNED24": DataType.UNSIGNED_INTEGER_32,
    "UNSIGNED32": DataType.UNSIGNED_INTEGER_32,
    **{f"UNSIGNED{n}": DataType.UNSIGNED_INTEGER_64 for n in (40, 48, 56, 64)},
    "REAL32": DataType.FLOAT_32,
    "REAL64": DataType.FLOAT_64,
    # IEC 61131 / ADS
    "BOOL": DataType.BOOLEAN,
    "SINT": DataType.SIGNED_INTEGER_8,
    "INT": DataType.SIGNED_INTEGER_16,
    "DINT": DataType.SIGNED_INTEGER_32,
    "LINT": DataType.SIGNED_INTEGER_64,
    "USINT": DataType.UNSIGNED_INTEGER_8,
    "UINT": DataType.UNSIGNED_INTEGER_16,
    "WORD": DataType.UNSIGNED_INTEGER_16,
    "UDINT": DataType.UNSIGNED_INTEGER_32,
    "DWORD": DataType.UNSIGNED_INTEGER_32,
    "ULINT": DataType.UNSIGNED_INTEGER_64,
    "LWORD": DataType.UNSIGNED_INTEGER_64,
    "REAL": DataType.FLOAT_32,
    "LREAL": DataType.FLOAT_64,
    "STRING": DataType.STRING,
    "WSTRING": DataType.STRING,
}
"""Plugin data-type names (reference 4.3) -> WebSocket data types."""


def data_type_from_keyword(keyword: object) -> DataType | None:
    """The data type a model-file or plugin keyword stands for, or None if unknown."""
    if not isinstance(keyword, str):
        return None
    found = MODEL_DATA_TYPES.get(keyword)
    return found if found is not None else PLUGIN_DATA_TYPES.get(keyword.upper())


_INTERVAL = re.compile(r"^(-?\d+(?:\.\d+)?)(ns|µs|us|ms|s|m|h)$")
_UNIT_NS = {
    "ns": 1,
    "µs": 1_000,
    "us": 1_000,
    "ms": 1_000_000,
    "s": NS_PER_SECOND,
    "m": 60 * NS_PER_SECOND,
    "h": 3600 * NS_PER_SECOND,
}


def parse_interval(value: object) -> int:
    """A time interval (`"500ms"`, `"0.5s"`, `"0"`) in nanoseconds; v1.0 integers are microseconds."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a time interval")
    if isinstance(value, int):
        return value * 1_000
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a time interval")
    if value == "0":
        return 0
    match = _INTERVAL.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not a time interval (a number followed by ns, µs, ms, s, m or h)")
    number, unit = match.groups()
    # Decimal arithmetic via string split keeps "0.1s" exact in nanoseconds.
    sign = -1 if number.startswith("-") else 1
    whole, _, frac = number.lstrip("-").partition(".")
    scale = _UNIT_NS[unit]
    ns = int(whole) * scale + (int(frac) * scale) // (10 ** len(frac)) if frac else int(whole) * scale
    return sign * ns


_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$")


def parse_time_stamp(value: object) -> TimePoint:
    """An RFC 3339 time stamp (a space may replace `T`) with nanosecond precision."""
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a time stamp")
    match = _TIMESTAMP.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not an RFC 3339 time stamp")
    date, clock, frac, zone = match.groups()
    zone = "+00:00" if zone in ("Z", "z") else zone
    moment = datetime.fromisoformat(f"{date}T{clock}{zone}")
    seconds = int(moment.timestamp())
    ns = int((frac or "0")[:9].ljust(9, "0"))
    return TimePoint(seconds * NS_PER_SECOND + ns)


def initial_value(data_type: DataType) -> Any:
    """The value an element of this type holds before anything was produced or written."""
    if data_type is DataType.BOOLEAN:
        return False
    if data_type.integer_range is not None:
        return 0
    if data_type.is_float:
        return 0.0
    if data_type.is_string:
        return ""
    if data_type is DataType.UUID:
        return uuid.UUID(int=0)
    if data_type is DataType.TIME_POINT:
        return TimePoint(0)
    return None


def config_value(data_type: DataType, raw: object) -> Any:
    """A value written in a model file (e.g. a register's default) as the element stores it."""
    if data_type is DataType.BOOLEAN:
        if isinstance(raw, bool):
            return raw
    elif data_type.integer_range is not None:
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if isinstance(raw, int) and not isinstance(raw, bool):
            low, high = data_type.integer_range
            if low <= raw <= high:
                return raw
            raise ValueError(f"{raw} is outside the range {low} to {high}")
    elif data_type.is_float:
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            return to_float32(float(raw)) if data_type is DataType.FLOAT_32 else float(raw)
    elif data_type.is_string:
        if isinstance(raw, str):
            return raw
    elif data_type is DataType.TIME_POINT:
        return parse_time_stamp(raw)
    elif data_type is DataType.UUID:
        if isinstance(raw, str):
            return uuid.UUID(raw)
    raise ValueError(f"{raw!r} is not a valid {data_type.name.lower()} value")


def to_float32(value: float) -> float:
    """Round to single precision; out-of-range values become infinities like a C cast would."""
    if not math.isfinite(value):
        return value
    try:
        return float(struct.unpack("f", struct.pack("f", value))[0])
    except OverflowError:
        return math.copysign(math.inf, value)


def split_key(key: str) -> list[str]:
    """The components of a primary key; bracketed components may contain periods."""
    if "[" not in key:
        return key.split(".")  # the common case, and the same result as the walk below
    parts: list[str] = []
    i = 0
    while i <= len(key):
        if key.startswith("[", i):
            end = key.find("]", i)
            if end < 0:
                raise ValueError(f"unterminated [ in key {key!r}")
            parts.append(key[i : end + 1])
            i = end + 1
            if i < len(key) and key[i] != ".":
                raise ValueError(f"text after ] in key {key!r}")
            i += 1
        else:
            end = key.find(".", i)
            if end < 0:
                parts.append(key[i:])
                break
            parts.append(key[i:end])
            i = end + 1
    return parts

"""Values between the CBOR side and JSON (extensions §8.4, §9.21).

Out: time stamps as RFC 3339 text with nanoseconds (the minimum as null), UUIDs as text, byte
strings as base64, NaN and infinities as texts, quality and category as lower-case names, and a
per-attribute error as `{"error": {"code", "message"}}`. In: the reverse, guided by the
attribute's data type; whatever does not fit is passed on unchanged so that the command handler
answers with its own Xentara code (-32106 and friends).
"""

from __future__ import annotations

import base64
import calendar
import math
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ..protocol.alternatives import Alternative
from ..protocol.codec import TAG_ALTERNATIVE_0, TAG_ALTERNATIVE_1, TIME_POINT_MIN, TimePoint
from ..protocol.identifiers import DataType, ElementCategory, Quality

_NS = 1_000_000_000
_FLOAT_TEXTS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
QUALITY_NAMES = {quality: quality.name.lower() for quality in Quality}
_QUALITY_BY_NAME = {name: int(quality) for quality, name in QUALITY_NAMES.items()}
_CATEGORY_BY_NAME = {
    **{category.text: int(category) for category in ElementCategory},
    **{category.name.lower(): int(category) for category in ElementCategory},
}
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))\Z"
)


def category_name(category: int | ElementCategory) -> str:
    """An element category as its lower-case name ("data point"), the text Xentara reads for it."""
    return ElementCategory(category).text


def category_from_json(value: Any) -> int | None:
    """A category given as its name ("data point", "data_point") or number; None if it is neither."""
    if type(value) is int and value in ElementCategory._value2member_map_:
        return value
    if type(value) is str:
        return _CATEGORY_BY_NAME.get(value.lower())
    return None


def format_time(point: TimePoint) -> str | None:
    """RFC 3339 in UTC with nine fraction digits; the minimum time stamp is null."""
    if point == TIME_POINT_MIN:
        return None
    seconds, nanoseconds = divmod(point.ns, _NS)
    try:
        moment = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        # Beyond year 9999 (the int64 maximum is in 2262, but stay safe): say what it is.
        return None if point.ns < 0 else "9999-12-31T23:59:59.999999999Z"
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{nanoseconds:09d}Z"


def parse_time(text: str) -> TimePoint | None:
    """An RFC 3339 time stamp with up to nanosecond precision, or None if the text is not one."""
    match = _RFC3339.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = (match.group(7) or "").ljust(9, "0")
    try:
        datetime(year, month, day, hour, minute, min(second, 59))
    except ValueError:
        return None
    if hour > 23 or minute > 59 or second > 60:
        return None
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    if match.group(9):
        offset = int(match.group(10)) * 3600 + int(match.group(11)) * 60
        seconds -= offset if match.group(9) == "+" else -offset
    return TimePoint(seconds * _NS + int(fraction))


def to_json(value: Any) -> Any:
    """A CBOR-side value (as the handlers produce it) in its JSON form."""
    kind = type(value)
    if value is None or kind is bool or kind is int or kind is str:
        return value
    if kind is float:
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if kind is uuid.UUID:
        return str(value)
    if kind is TimePoint:
        return format_time(value)
    if kind is bytes or kind is bytearray:
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Alternative):
        if value.tag == TAG_ALTERNATIVE_0:
            return to_json(value.value)
        if value.tag == TAG_ALTERNATIVE_1 and isinstance(value.value, Mapping):
            return error_json(value.value.get(0), value.value.get(1))
        return to_json(value.value)
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, Mapping):
        return {str(to_json(key)): to_json(item) for key, item in value.items()}
    return str(value)


def error_json(code: Any, message: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def attribute_to_json(data_type: DataType, value: Any) -> Any:
    """An attribute's value (or its 121/122 wrapper) in JSON, with quality and category by name."""
    if isinstance(value, Alternative):
        if value.tag == TAG_ALTERNATIVE_0:
            return attribute_to_json(data_type, value.value)
        return to_json(value)
    if data_type is DataType.QUALITY and type(value) is int and value in Quality._value2member_map_:
        return QUALITY_NAMES[Quality(value)]
    if data_type is DataType.ELEMENT_CATEGORY and type(value) is int and value in ElementCategory._value2member_map_:
        return category_name(value)
    return to_json(value)


def from_json(data_type: DataType, value: Any) -> Any:
    """A written JSON value as the CBOR side would carry it for an attribute of this data type."""
    kind = type(value)
    if data_type.integer_range is not None and data_type not in (DataType.QUALITY, DataType.ELEMENT_CATEGORY):
        if kind is float and math.isfinite(value) and value == int(value):
            return int(value)  # §9.21: 5.0 is accepted for an integer attribute
        return value
    if data_type.is_float:
        if kind is str and value in _FLOAT_TEXTS:
            return _FLOAT_TEXTS[value]
        return value
    if data_type is DataType.TIME_POINT:
        if value is None:
            return TIME_POINT_MIN
        if kind is str:
            point = parse_time(value)
            return point if point is not None else value
        return value
    if data_type is DataType.UUID:
        if kind is str:
            try:
                return uuid.UUID(value)
            except ValueError:
                return value
        return value
    if data_type is DataType.QUALITY:
        if kind is str and value.lower() in _QUALITY_BY_NAME:
            return _QUALITY_BY_NAME[value.lower()]
        return value
    if data_type is DataType.ELEMENT_CATEGORY:
        category = category_from_json(value)
        return category if category is not None else value
    return value


def format_seconds(seconds: float) -> str | None:
    """A wall-clock time in seconds (time.time()) as RFC 3339 text."""
    return format_time(TimePoint(round(seconds * _NS)))

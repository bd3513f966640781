"""Turning user text into protocol values and values into text/JSON, for the CLI and examples."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import IntEnum
from typing import Any

from ..protocol.identifiers import Attribute, DataType, ElementCategory
from .types import AttributeKey, Timestamp, XentaraError

_ATTRIBUTES_BY_NAME = {a.attribute_name.lower(): a for a in Attribute} | {a.name.lower(): a for a in Attribute}
_ATTRIBUTES_BY_NAME |= {a.name.lower().replace("_", ""): a for a in Attribute}

_TRUE = frozenset(("true", "1", "yes", "on"))
_FALSE = frozenset(("false", "0", "no", "off"))


def parse_attribute(text: str) -> AttributeKey | None:
    """'value', 'changeTime', 'CHANGE_TIME', '11' or a UUID -> key; None for other (custom) names."""
    lowered = text.strip().lower()
    if lowered in _ATTRIBUTES_BY_NAME:
        return _ATTRIBUTES_BY_NAME[lowered]
    if lowered.isdigit():
        try:
            return Attribute(int(lowered))
        except ValueError:
            raise ValueError(f"{text} is not a standard attribute id (0-13)") from None
    try:
        return uuid.UUID(lowered)
    except ValueError:
        return None


def parse_category(text: str) -> ElementCategory:
    """'data-point', 'data point', 'DATA_POINT' or '2' -> ElementCategory (argparse type)."""
    normalized = text.strip().upper().replace("-", "_").replace(" ", "_")
    if normalized.isdigit():
        return ElementCategory(int(normalized))
    try:
        return ElementCategory[normalized]
    except KeyError:
        names = ", ".join(c.name.lower().replace("_", "-") for c in ElementCategory)
        raise ValueError(f"unknown category {text!r}; use one of {names}") from None


def parse_value(text: str, data_type: DataType | int) -> Any:
    """Parse command-line text as a value of the attribute's data type."""
    if data_type == DataType.BOOLEAN:
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError("expected true or false")
    try:
        limits = DataType(data_type).integer_range
    except ValueError:
        limits = None
    if limits is not None:
        try:
            number = int(text, 0)
        except ValueError:
            raise ValueError("expected an integer") from None
        low, high = limits
        if not low <= number <= high:
            raise ValueError(f"out of range {low}..{high}")
        return number
    if data_type in (DataType.FLOAT_32, DataType.FLOAT_64):
        try:
            return float(text)
        except ValueError:
            raise ValueError("expected a number") from None
    if data_type == DataType.TIME_POINT:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError("expected an ISO 8601 time stamp, e.g. 2024-01-01T11:11:11Z") from None
        if moment.tzinfo is None:
            raise ValueError("the time stamp needs a time zone, e.g. a trailing Z")
        return Timestamp.from_datetime(moment)
    if data_type == DataType.UUID:
        return uuid.UUID(text)
    # Text types, and anything unknown, go out as text; the server says if it disagrees.
    return text


def iso_ns(stamp: Timestamp) -> str:
    """ISO 8601 UTC with all nine fraction digits."""
    return f"{stamp:%Y-%m-%dT%H:%M:%S}.{stamp.ns % 1_000_000_000:09d}Z"


# Xentara's "no time yet" is the smallest time point (int64 minimum: 1677-09-21T00:12:43Z).
NEVER_NS = -(2**63)


def format_value(value: Any) -> str:
    if isinstance(value, XentaraError):
        return f"<error {int(value.code)}: {value.message}>"
    if isinstance(value, Timestamp):
        return "never" if value.ns == NEVER_NS else iso_ns(value)
    if isinstance(value, IntEnum):
        return value.name.lower().replace("_", " ")
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "-"
    return str(value)


def json_value(value: Any) -> Any:
    """A JSON-friendly rendition: enums by name, time stamps as ISO text, errors as objects."""
    if isinstance(value, XentaraError):
        return {"error": int(value.code), "message": value.message}
    if isinstance(value, Timestamp):
        return iso_ns(value)
    if isinstance(value, IntEnum):
        return value.name.lower()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def split_primary_key(primary_key: str) -> list[str]:
    """Split 'A.[v1.2].B' into its names; brackets protect literal periods."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in primary_key:
        if char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
        if char == "." and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if current or parts:
        parts.append("".join(current))
    return parts


def tree_order(elements: Sequence[Any]) -> list[Any]:
    """Each element right under its parent (and siblings in the server's order), whatever order they came in."""
    first: dict[tuple[str, ...], int] = {}
    paths = [tuple(split_primary_key(element.primary_key)) for element in elements]
    for index, path in enumerate(paths):
        for length in range(1, len(path) + 1):
            first.setdefault(path[:length], index)
    keys = [tuple(first[path[:length]] for length in range(1, len(path) + 1)) for path in paths]
    return [element for _, element in sorted(zip(keys, elements, strict=True), key=lambda pair: pair[0])]

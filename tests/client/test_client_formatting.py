"""Value parsing and rendering used by the CLI, and the Timestamp type."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from xentara_ws.client import Timestamp, XentaraError
from xentara_ws.client.formatting import (
    format_value,
    json_value,
    parse_attribute,
    parse_category,
    parse_value,
    split_primary_key,
)
from xentara_ws.protocol import (
    TIME_POINT_MAX,
    TIME_POINT_MIN,
    Attribute,
    DataType,
    ElementCategory,
    ErrorCode,
)


def test_values_are_parsed_by_data_type():
    assert parse_value("on", DataType.BOOLEAN) is True and parse_value("0", DataType.BOOLEAN) is False
    assert parse_value("0x10", DataType.UNSIGNED_INTEGER_16) == 16
    assert parse_value("-128", DataType.SIGNED_INTEGER_8) == -128
    assert parse_value("2.5", DataType.FLOAT_32) == 2.5
    assert parse_value("hello", DataType.STRING) == "hello"
    stamp = parse_value("2024-01-01T11:11:11.5Z", DataType.TIME_POINT)
    assert isinstance(stamp, Timestamp) and stamp.ns == 1_704_107_471_500_000_000
    for text, data_type in (
        ("maybe", DataType.BOOLEAN),
        ("-1", DataType.UNSIGNED_INTEGER_8),
        ("x", DataType.FLOAT_64),
    ):
        with pytest.raises(ValueError):
            parse_value(text, data_type)


def test_attribute_names_ids_and_uuids():
    assert parse_attribute("changeTime") is Attribute.CHANGE_TIME
    assert parse_attribute("CHANGE_TIME") is Attribute.CHANGE_TIME
    assert parse_attribute("11") is Attribute.VALUE
    custom = uuid.uuid4()
    assert parse_attribute(str(custom)) == custom
    assert parse_attribute("myCustomThing") is None
    assert parse_category("data-point") is ElementCategory.DATA_POINT and parse_category("1") is ElementCategory(1)


def test_timestamps_keep_nanoseconds_and_cover_the_extremes():
    stamp = Timestamp.from_ns(1_704_107_471_111_587_983)
    assert stamp == datetime(2024, 1, 1, 11, 11, 11, 111587, tzinfo=UTC)
    assert format_value(stamp) == "2024-01-01T11:11:11.111587983Z"
    assert Timestamp.from_ns(TIME_POINT_MIN.ns).year == 1677 and Timestamp.from_ns(TIME_POINT_MAX.ns).year == 2262
    assert Timestamp.from_datetime(stamp).ns == 1_704_107_471_111_587_000


def test_rendering_of_errors_and_enums():
    error = XentaraError(-32101)
    assert error.code is ErrorCode.MISSING_ATTRIBUTE and error.message == "missing attribute"
    assert json_value(error) == {"error": -32101, "message": "missing attribute"}
    assert XentaraError(-1, None).code == -1  # unknown codes are kept
    assert format_value(ElementCategory.DATA_POINT) == "data point"


def test_primary_keys_split_with_bracketed_periods():
    assert split_primary_key("Group 1.[v1.2]") == ["Group 1", "[v1.2]"]
    assert split_primary_key("A") == ["A"]

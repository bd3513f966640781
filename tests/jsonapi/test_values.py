"""Values between CBOR and JSON (§8.4, §9.21)."""

from __future__ import annotations

import math
import uuid

from cbor2 import CBORTag
from hypothesis import given
from hypothesis import strategies as st

from xentara_ws.jsonapi.values import (
    attribute_to_json,
    category_from_json,
    format_time,
    from_json,
    parse_time,
    to_json,
)
from xentara_ws.protocol.codec import TIME_POINT_MIN, TimePoint
from xentara_ws.protocol.identifiers import DataType


def test_time_stamps_are_rfc3339_with_nanoseconds() -> None:
    assert format_time(TimePoint(1_795_000_000_123_456_789)) == "2026-11-18T11:06:40.123456789Z"
    assert to_json(TimePoint(0)) == "1970-01-01T00:00:00.000000000Z"


def test_the_minimum_time_stamp_is_null() -> None:
    assert to_json(TIME_POINT_MIN) is None
    assert from_json(DataType.TIME_POINT, None) == TIME_POINT_MIN


@given(st.integers(min_value=-(10**18), max_value=2**63 - 1))
def test_time_stamps_survive_the_round_trip(ns: int) -> None:
    text = format_time(TimePoint(ns))
    assert text is not None
    assert parse_time(text) == TimePoint(ns)


def test_time_stamps_with_offsets_and_short_fractions_are_read() -> None:
    assert parse_time("2026-11-24T04:24:31.5+01:00") == TimePoint(1_795_490_671_500_000_000)
    assert parse_time("2026-11-24T03:24:31Z") == TimePoint(1_795_490_671_000_000_000)
    assert parse_time("2026-11-24 03:24:31.000000001z") == TimePoint(1_795_490_671_000_000_001)
    for bad in ("2026-13-01T00:00:00Z", "2026-11-24T03:24:31", "yesterday", "2026-11-24T03:24:31.1234567890Z"):
        assert parse_time(bad) is None


def test_special_floats_are_texts() -> None:
    assert to_json(math.nan) == "NaN"
    assert to_json(math.inf) == "Infinity"
    assert to_json(-math.inf) == "-Infinity"
    assert to_json(1.5) == 1.5
    assert from_json(DataType.FLOAT_64, "-Infinity") == -math.inf
    assert math.isnan(from_json(DataType.FLOAT_32, "NaN"))


def test_uuids_bytes_and_wrappers() -> None:
    u = uuid.UUID("935672f2-4f05-47c1-8f2d-445968c59893")
    assert to_json(u) == str(u)
    assert to_json(b"\x00\xff") == "AP8="
    assert to_json(CBORTag(121, 2.5)) == 2.5
    assert to_json(CBORTag(122, {0: -32101, 1: "missing attribute"})) == {
        "error": {"code": -32101, "message": "missing attribute"}
    }
    assert from_json(DataType.UUID, str(u)) == u
    assert from_json(DataType.UUID, "not a uuid") == "not a uuid"  # the handler answers -32106


def test_quality_and_category_are_lower_case_names() -> None:
    assert attribute_to_json(DataType.QUALITY, CBORTag(121, 0)) == "good"
    assert attribute_to_json(DataType.QUALITY, 3) == "bad"
    assert attribute_to_json(DataType.ELEMENT_CATEGORY, 2) == "data point"
    assert from_json(DataType.QUALITY, "Unreliable") == 2
    assert category_from_json("data point") == category_from_json("DATA_POINT") == 2
    assert category_from_json("nonsense") is None


def test_an_integral_float_is_accepted_for_an_integer_attribute() -> None:
    assert from_json(DataType.UNSIGNED_INTEGER_8, 5.0) == 5
    assert type(from_json(DataType.UNSIGNED_INTEGER_8, 5.0)) is int
    assert from_json(DataType.SIGNED_INTEGER_32, 5.5) == 5.5  # not integral: the handler refuses it


@given(st.integers(min_value=2**53, max_value=2**64 - 1))
def test_integers_beyond_2_53_are_exact(value: int) -> None:
    assert from_json(DataType.UNSIGNED_INTEGER_64, value) == value
    assert to_json(value) == value

"""The template encoder of hot values writes exactly cbor2's bytes for the same values."""

from __future__ import annotations

import uuid
from typing import Any

import cbor2
from cbor2 import CBORTag
from hypothesis import given
from hypothesis import strategies as st

from xentara_ws.protocol.codec import TIME_POINT_MAX, TIME_POINT_MIN, TimePoint, encode
from xentara_ws.protocol.templates import encode_item, encode_map, encode_time_point

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
time_points = st.one_of(
    INT64.map(TimePoint),
    st.sampled_from([TIME_POINT_MIN, TIME_POINT_MAX, TimePoint(0), TimePoint(-1), TimePoint(23), TimePoint(24)]),
)
# Around every boundary of CBOR's integer heads, and beyond 64 bits (bignums).
edges = [0, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**64 - 1, 2**64]
integers = st.one_of(
    st.integers(),
    st.sampled_from([sign * edge + delta for edge in edges for sign in (1, -1) for delta in (-1, 0, 1)]),
)
scalars = st.one_of(
    integers,
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=40),
    st.binary(max_size=40),
    st.uuids(),
    time_points,
)
values = st.one_of(
    scalars,
    scalars.map(lambda value: CBORTag(121, value)),
    st.tuples(integers, st.text(max_size=20)).map(lambda error: CBORTag(122, {0: error[0], 1: error[1]})),
)
keys = st.one_of(st.integers(min_value=-(2**40), max_value=2**40), st.text(max_size=10))


def spelled_out(value: Any) -> Any:
    """The same value with every time stamp as the explicit tag structure, for plain cbor2."""
    if isinstance(value, TimePoint):
        return value.to_cbor()
    if isinstance(value, CBORTag):
        return CBORTag(value.tag, spelled_out(value.value))
    if isinstance(value, dict):
        return {key: spelled_out(item) for key, item in value.items()}
    return value


@given(time_points)
def test_a_time_stamp_is_byte_for_byte_cbor2s_tag_1001(value: TimePoint) -> None:
    assert encode_time_point(value) == cbor2.dumps(value.to_cbor())


@given(values)
def test_an_item_is_byte_for_byte_cbor2s(value: Any) -> None:
    assert encode_item(value) == cbor2.dumps(spelled_out(value))


@given(st.dictionaries(keys, values, max_size=30))
def test_a_value_map_is_byte_for_byte_cbor2s_and_the_codecs(mapping: dict[Any, Any]) -> None:
    expected = cbor2.dumps(spelled_out(mapping))
    assert encode_map(mapping) == expected
    assert encode(mapping) == expected


def test_the_nanosecond_form_of_appendix_b() -> None:
    assert encode_time_point(TimePoint(1704107471111587983)).hex() == "d903e9a104c482281b17a634b75ab2088f"


def test_a_map_of_more_than_23_entries_has_a_two_byte_head() -> None:
    mapping = {key: CBORTag(121, TimePoint(key)) for key in range(30)}
    assert encode_map(mapping) == cbor2.dumps(spelled_out(mapping))
    assert encode_map(mapping)[:2] == b"\xb8\x1e"


def test_other_types_fall_back_to_the_codec() -> None:
    element = uuid.UUID("e3ee1071-4d88-4ba1-8e5d-0f1e4ce25ee8")
    assert encode_item(element) == encode(element)
    assert encode_item([1, TimePoint(5)]) == encode([1, TimePoint(5)])

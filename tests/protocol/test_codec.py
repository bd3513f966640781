"""The strict CBOR profile: spec Appendix B byte for byte, round trips, and refusals."""

from __future__ import annotations

import math
import uuid

import pytest
from cbor2 import CBORTag
from hypothesis import given
from hypothesis import strategies as st

from xentara_ws.protocol.codec import (
    TIME_POINT_MAX,
    TIME_POINT_MIN,
    CBORProfileError,
    TimePoint,
    decode,
    encode,
)
from xentara_ws.protocol.errors import ErrorCode
from xentara_ws.protocol.identifiers import Attribute

ELEMENT = uuid.UUID("e3ee1071-4d88-4ba1-8e5d-0f1e4ce25ee8")


def test_time_stamp_is_emitted_in_the_nanosecond_form_of_appendix_b():
    assert encode(TimePoint(1704107471111587983)).hex() == "d903e9a104c482281b17a634b75ab2088f"


def test_minimum_time_stamp_is_emitted_as_minus_infinity():
    assert encode(TIME_POINT_MIN).hex() == "d903e9a101f9fc00"
    assert decode(bytes.fromhex("d903e9a101f9fc00")) == TIME_POINT_MIN


def test_maximum_time_stamp_round_trips_as_plus_infinity():
    assert decode(encode(TIME_POINT_MAX)) == TIME_POINT_MAX


@pytest.mark.parametrize(
    ("exponent", "mantissa", "ns"),
    [
        (-9, 1704107471111587983, 1704107471111587983),
        (-6, 1704107471111587, 1704107471111587000),
        (-3, 1704107471111, 1704107471111000000),
    ],
)
def test_time_stamps_in_every_accepted_exponent_decode(exponent, mantissa, ns):
    data = encode(CBORTag(1001, {4: CBORTag(4, [exponent, mantissa])}))
    assert decode(data) == TimePoint(ns)


def test_time_stamps_in_seconds_and_tag_1_decode():
    assert decode(encode(CBORTag(1001, {1: 1704107471}))) == TimePoint(1704107471 * 10**9)
    assert decode(encode(CBORTag(1001, {1: 1.5}))) == TimePoint(1_500_000_000)
    assert decode(encode(CBORTag(1, 1704107471))) == TimePoint(1704107471 * 10**9)


@pytest.mark.parametrize(
    "item",
    [
        CBORTag(1001, {4: CBORTag(4, [-2, 5])}),
        CBORTag(1001, {1: math.nan}),
        CBORTag(1001, {1: "now"}),
        CBORTag(1001, {}),
        CBORTag(1001, {1: 1, 4: CBORTag(4, [-9, 1])}),
    ],
)
def test_malformed_time_stamps_are_refused(item):
    with pytest.raises(CBORProfileError):
        decode(encode(item))


def test_uuid_is_tag_37():
    assert encode(ELEMENT).hex() == "d82550e3ee10714d884ba18e5d0f1e4ce25ee8"
    assert decode(bytes.fromhex("d82550e3ee10714d884ba18e5d0f1e4ce25ee8")) == ELEMENT


def test_trailing_bytes_are_refused():
    with pytest.raises(CBORProfileError, match="trailing"):
        decode(bytes.fromhex("818400010ea20001010100"))


def test_duplicate_map_keys_are_refused():
    with pytest.raises(CBORProfileError, match=r"[Dd]uplicate"):
        decode(bytes.fromhex("a200010002"))


def test_nesting_depth_is_bounded():
    with pytest.raises(CBORProfileError, match="depth"):
        decode(b"\x81" * 100 + b"\x00")


@pytest.mark.parametrize("tag", [0, 5, 24, 32, 258, 55799, 999])
def test_tags_the_protocol_does_not_use_are_refused(tag):
    with pytest.raises(CBORProfileError, match="tag"):
        decode(encode(CBORTag(tag, b"\x01")))


def test_bignums_are_ordinary_integers():
    # Decision 15 as amended: tags 2/3 are CBOR integers; the attribute's range judges them.
    assert decode(encode(CBORTag(2, b"\x01" + b"\x00" * 9))) == 2**72
    assert decode(encode(CBORTag(3, b"\x01"))) == -2


def test_alternative_tags_stay_tags():
    item = decode(encode(CBORTag(123, {0: "user", 1: "secret"})))
    assert item.tag == 123 and dict(item.value) == {0: "user", 1: "secret"}


def test_half_single_and_double_floats_decode():
    assert decode(bytes.fromhex("f94100")) == 2.5
    assert decode(bytes.fromhex("fa40200000")) == 2.5
    assert decode(bytes.fromhex("fb4004000000000000")) == 2.5


def test_truncated_input_is_refused():
    with pytest.raises(CBORProfileError):
        decode(bytes.fromhex("8184000102"))


def test_attribute_uuids_are_the_clients_table():
    assert Attribute.VALUE.uuid == uuid.UUID("4aa0e4e0-521e-4599-a985-e454baa59f89")
    assert Attribute.from_uuid(uuid.UUID("d3c4b709-bccf-4665-9621-abfb5c6addce")) is Attribute.QUALITY


def test_error_codes_carry_the_clients_default_messages():
    assert ErrorCode.TYPE_MISMATCH.default_message == "value cannot be converted to requested type"
    assert ErrorCode(-32104).default_message == "value is write only"


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.binary(max_size=20)
    | st.uuids()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1).map(TimePoint)
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.integers(min_value=0, max_value=20) | st.text(max_size=5), children, max_size=5)
    ),
    max_leaves=30,
)


@given(values)
def test_every_profile_value_round_trips(value):
    assert decode(encode(value)) == value


@given(st.binary(max_size=64))
def test_random_bytes_decode_or_raise_the_profile_error_only(data):
    try:
        decode(data)
    except CBORProfileError:
        pass


def test_a_failed_decode_leaves_no_state_behind():
    for bad in (
        b"\x81" * 100 + b"\x00",
        b"\x82\x81\x81",
        bytes.fromhex("a2010201 03".replace(" ", "")),
        b"\xd8\x1c\x81\x00",
    ):
        with pytest.raises(CBORProfileError):
            decode(bad)
        assert decode(b"\x81" * 31 + b"\x00") is not None
        assert decode(bytes.fromhex("a201020304")) == {1: 2, 3: 4}

"""Value formats of model files: intervals, time stamps, keys and register defaults of every type."""

from __future__ import annotations

import uuid

import pytest

from xentara_ws.model.formats import parse_interval, parse_time_stamp, split_key
from xentara_ws.model.loader import load_model_data
from xentara_ws.protocol.codec import TimePoint
from xentara_ws.protocol.identifiers import DataType


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("0", 0),
        ("20µs", 20_000),
        ("20us", 20_000),
        ("0.5s", 500_000_000),
        ("500ms", 500_000_000),
        ("3.5h", 12_600_000_000_000),
        ("1m", 60_000_000_000),
        ("0.1s", 100_000_000),
        ("-2ms", -2_000_000),
        (5000000, 5_000_000_000),
    ],
)
def test_time_intervals_in_every_documented_unit(text: object, ns: int) -> None:
    assert parse_interval(text) == ns


@pytest.mark.parametrize("text", ["5", "1 s", "fast", "1.s", ""])
def test_malformed_intervals_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_interval(text)


def test_rfc3339_time_stamps_with_space_offsets_and_nanoseconds() -> None:
    assert parse_time_stamp("1970-01-01T00:00:01Z") == TimePoint(1_000_000_000)
    assert parse_time_stamp("1970-01-01 01:00:00.000000001+01:00") == TimePoint(1)
    assert parse_time_stamp("2022-06-01 18:15:03.254016+05:45").ns % 1_000_000_000 == 254_016_000


def test_keys_split_at_periods_except_inside_brackets() -> None:
    assert split_key("Shop.PLC.Temp") == ["Shop", "PLC", "Temp"]
    assert split_key("Rack.[v1.2].value") == ["Rack", "[v1.2]", "value"]


def test_registers_of_time_stamp_and_uuid_type() -> None:
    data = {
        "children": [
            {
                "@Skill.SignalFlow.Register": {
                    "name": "When",
                    "UUID": str(uuid.UUID(int=1)),
                    "defaultValue": ["timeStamp", "1970-01-01T00:00:02Z"],
                }
            },
            {
                "@Skill.SignalFlow.Register": {
                    "name": "Id",
                    "UUID": str(uuid.UUID(int=2)),
                    "defaultValue": ["UUID", "12345678-1234-5678-1234-567812345678"],
                }
            },
        ]
    }
    model = load_model_data(data)
    assert model.element("When").value == TimePoint(2_000_000_000)
    assert model.element("When").data_type is DataType.TIME_POINT
    assert model.element("Id").value == uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert model.element("Id").data_type is DataType.UUID

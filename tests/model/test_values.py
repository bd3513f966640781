"""Registers, data points, change notification and the embedding API (publish / on_write)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from support.clocks import ModelClock as FakeClock
from support.clocks import at
from support.fixtures import SAMPLE_MODEL, WAGO_MODEL, needs_vendor_fixtures

from xentara_ws.model import values
from xentara_ws.model.element import AttributeKey, AttributeSpec, Element
from xentara_ws.model.loader import load_model, load_model_data
from xentara_ws.model.simulation import Simulation
from xentara_ws.model.tree import Model
from xentara_ws.protocol.codec import TIME_POINT_MIN
from xentara_ws.protocol.errors import ErrorCode, ProtocolError
from xentara_ws.protocol.identifiers import Access, Attribute, DataType, Quality

VALUE = int(Attribute.VALUE)


def uid(n: int) -> str:
    return str(uuid.UUID(int=n))


def plant(clock: FakeClock) -> Model:
    """Registers of several types, data points over them (both io forms) and over a signal."""

    def reg(name: str, n: int, keyword: str, default: Any) -> dict[str, Any]:
        return {"@Skill.SignalFlow.Register": {"name": name, "UUID": uid(n), "defaultValue": [keyword, default]}}

    def point(name: str, n: int, io: Any) -> dict[str, Any]:
        return {"@DataPoint": {"name": name, "UUID": uid(n), "io": io, "units": "°C"}}

    signal = {
        "@Skill.SignalGenerator.Signal": {
            "name": "Wave",
            "UUID": uid(21),
            "dataType": "float64",
            "top": 10,
            "bottom": 0,
            "waveForm": {"@SawTooth": {"period": "10s"}},
        }
    }
    data = {
        "children": [
            {
                "@Group": {
                    "name": "Regs",
                    "UUID": uid(1),
                    "children": [
                        reg("F", 2, "float64", 1.5),
                        reg("B", 3, "bool", False),
                        reg("I", 4, "int32", 7),
                        reg("S", 5, "string", "hello"),
                        reg("Out", 6, "int16", 0),
                    ],
                }
            },
            point("Setpoint", 10, "Regs.F"),
            point("ReadOnly", 11, {"input": "Regs.I"}),
            point("WriteOnly", 12, {"output": "Regs.Out"}),
            point("Split", 13, {"input": "Regs.I", "output": "Regs.Out"}),
            point("Measured", 14, "Gen.Wave"),
            {"@Skill.SignalGenerator.Sampler": {"name": "Gen", "UUID": uid(20), "children": [signal]}},
            {"@Skill.Acme.Sensor": {"name": "Gateway", "UUID": uid(30), "dataType": "float64"}},
        ]
    }
    return load_model_data(data, clock=clock)


def write(element: Element, raw: Any, now: Any) -> None:
    """What the server's write command does: find the attribute, convert the wire value, write."""
    spec = element.attribute(VALUE)
    element.write(spec, values.convert(spec.data_type, raw), now)


def test_registers_start_at_their_default_with_good_quality(clock: FakeClock) -> None:
    model = plant(clock)
    assert [model.element(f"Regs.{k}").value for k in "FBIS"] == [1.5, False, 7, "hello"]
    register = model.element("Regs.F")
    assert register.quality is Quality.GOOD and register.write_time == TIME_POINT_MIN


@pytest.mark.parametrize(("key", "new"), [("Regs.F", 2.25), ("Regs.B", True), ("Regs.I", -5), ("Regs.S", "bye")])
def test_register_write_stores_value_and_stamps_write_update_and_change_time(
    clock: FakeClock, key: str, new: Any
) -> None:
    register = plant(clock).element(key)
    write(register, new, at(1))
    assert register.value == new
    assert register.write_time == register.update_time == register.change_time == at(1)


def test_writing_the_same_value_again_moves_write_time_but_not_change_time(clock: FakeClock) -> None:
    register = plant(clock).element("Regs.I")
    write(register, 9, at(1))
    write(register, 9, at(2))
    assert register.write_time == register.update_time == at(2)
    assert register.change_time == at(1)


@pytest.mark.parametrize(
    ("key", "raw", "code"),
    [
        ("Regs.I", "seven", ErrorCode.TYPE_MISMATCH),
        ("Regs.I", 2.5, ErrorCode.TYPE_MISMATCH),
        ("Regs.B", 1, ErrorCode.TYPE_MISMATCH),
        ("Regs.S", 3, ErrorCode.TYPE_MISMATCH),
        ("Regs.I", 2**31, ErrorCode.VALUE_OUT_OF_RANGE),
    ],
)
def test_register_rejects_values_of_the_wrong_type_and_keeps_its_value(
    clock: FakeClock, key: str, raw: Any, code: ErrorCode
) -> None:
    register = plant(clock).element(key)
    before = register.value
    with pytest.raises(ProtocolError) as caught:
        write(register, raw, at(1))
    assert caught.value.code == code
    assert register.value == before


def test_data_point_writes_through_to_its_register_and_reads_it_back(clock: FakeClock) -> None:
    model = plant(clock)
    point, register = model.element("Setpoint"), model.element("Regs.F")
    assert point.attribute(VALUE).access is Access.READ_WRITE
    write(point, 30.5, at(3))
    assert register.value == 30.5 and register.write_time == at(3)
    assert point.value == 30.5 and point.write_time == at(3) and point.change_time == at(3)


def test_data_point_mirrors_its_signal_and_cannot_be_written(clock: FakeClock) -> None:
    model = plant(clock)
    point = model.element("Measured")
    assert point.quality is Quality.BAD
    Simulation(model).step(at(2.5))
    assert point.value == model.element("Gen.Wave").value == pytest.approx(2.5)
    assert point.quality is Quality.GOOD and point.update_time == at(2.5)
    with pytest.raises(ProtocolError) as caught:
        write(point, 1.0, at(3))
    assert caught.value.code == ErrorCode.READ_ONLY


def test_object_io_sets_access_per_direction(clock: FakeClock) -> None:
    model = plant(clock)
    assert model.element("ReadOnly").attribute(VALUE).access is Access.READ_ONLY
    write_only = model.element("WriteOnly")
    assert write_only.attribute(VALUE).access is Access.WRITE_ONLY
    with pytest.raises(ProtocolError) as caught:
        write_only.read(write_only.attribute(VALUE))
    assert caught.value.code == ErrorCode.WRITE_ONLY
    write(write_only, 12, at(4))
    assert model.element("Regs.Out").value == 12
    assert write_only.write_time == at(4)


def test_split_io_reads_the_input_and_writes_the_output(clock: FakeClock) -> None:
    model = plant(clock)
    split = model.element("Split")
    write(split, 99, at(5))
    assert model.element("Regs.Out").value == 99
    assert split.value == 7  # the read side still follows the input register
    write(model.element("Regs.I"), 8, at(6))
    assert split.value == 8 and split.change_time == at(6)


@needs_vendor_fixtures
def test_wago_output_data_point_write_lands_in_the_entry() -> None:
    model = load_model(WAGO_MODEL)
    write(model.element("WagoIO.Out3"), True, at(1))
    assert model.element("EtherCAT Terminal.WAGO 750-1506.Out3").value is True
    assert model.element("WagoIO.Out3").value is True


def test_one_change_reaches_every_listener_as_the_same_frozenset(clock: FakeClock) -> None:
    model = plant(clock)
    register = model.element("Regs.F")
    received: list[tuple[Element, frozenset[AttributeKey]]] = []
    for _ in range(100):
        register.subscribe(lambda element, changed: received.append((element, changed)))
    write(register, 4.0, at(1))
    assert len(received) == 100
    first = received[0][1]
    assert all(changed is first for _, changed in received)
    assert first == {VALUE, int(Attribute.UPDATE_TIME), int(Attribute.CHANGE_TIME), int(Attribute.WRITE_TIME)}


def test_listeners_hear_only_attributes_the_element_has(clock: FakeClock) -> None:
    model = plant(clock)
    heard: list[frozenset[AttributeKey]] = []
    model.element("Gen").subscribe(lambda element, changed: heard.append(changed))
    Simulation(model).step(at(1))
    assert heard == [frozenset({int(Attribute.UPDATE_TIME), int(Attribute.QUALITY)})]


def test_data_point_listeners_are_told_when_the_io_value_changes(clock: FakeClock) -> None:
    model = plant(clock)
    heard: list[frozenset[AttributeKey]] = []
    model.element("Measured").subscribe(lambda element, changed: heard.append(changed))
    Simulation(model).step(at(1))
    assert heard and VALUE in heard[0] and int(Attribute.QUALITY) in heard[0]


def test_unsubscribed_listener_hears_nothing(clock: FakeClock) -> None:
    register = plant(clock).element("Regs.I")
    heard: list[Any] = []

    def listener(element: Element, changed: frozenset[AttributeKey]) -> None:
        heard.append(changed)

    register.subscribe(listener)
    register.unsubscribe(listener)
    write(register, 1, at(1))
    assert heard == []


def test_publish_feeds_a_gateway_value_with_the_model_clock(clock: FakeClock) -> None:
    model = plant(clock)
    gateway = model.element("Gateway")
    clock.advance(10)
    gateway.publish(42, quality=Quality.ACCEPTABLE)
    assert gateway.value == 42.0 and type(gateway.value) is float
    assert gateway.quality is Quality.ACCEPTABLE
    assert gateway.update_time == gateway.change_time == clock()


def test_publish_with_explicit_time_and_type_check(clock: FakeClock) -> None:
    register = plant(clock).element("Regs.I")
    register.publish(3, time=at(7))
    assert register.value == 3 and register.update_time == at(7)
    with pytest.raises(ProtocolError):
        register.publish("three")
    assert register.value == 3


def test_publish_on_a_data_point_feeds_its_input(clock: FakeClock) -> None:
    model = plant(clock)
    model.element("Setpoint").publish(55.0, quality=Quality.UNRELIABLE)
    assert model.element("Regs.F").value == 55.0
    assert model.element("Setpoint").value == 55.0
    assert model.element("Setpoint").quality is Quality.UNRELIABLE


def test_publish_on_an_element_without_value_is_refused(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="no value"):
        plant(clock).element("Regs").publish(1.0)


def test_on_write_callback_sees_every_accepted_client_write(clock: FakeClock) -> None:
    model = plant(clock)
    register = model.element("Regs.I")
    seen: list[tuple[str, str, Any]] = []

    @register.on_write
    def record(element: Element, spec: AttributeSpec, value: Any) -> None:
        seen.append((element.primary_key, spec.name, value))

    write(register, 11, at(1))
    with pytest.raises(ProtocolError):
        write(register, "x", at(2))
    assert seen == [("Regs.I", "value", 11)]


@needs_vendor_fixtures
def test_sample_register_accepts_int64_and_refuses_text() -> None:
    register = load_model(SAMPLE_MODEL).element("Semantic Sampler.Test Register")
    write(register, 2**40, at(1))
    assert register.value == 2**40
    with pytest.raises(ProtocolError) as caught:
        write(register, "1", at(2))
    assert caught.value.code == ErrorCode.TYPE_MISMATCH


def test_data_point_units_attribute(clock: FakeClock) -> None:
    point = plant(clock).element("Setpoint")
    spec = next(s for s in point.attributes.values() if s.name == "units")
    assert isinstance(spec.key, uuid.UUID) and spec.data_type is DataType.STRING
    assert point.read(spec) == "°C"


def test_data_point_over_another_data_point_follows_the_chain() -> None:
    data = {
        "children": [
            {"@DataPoint": {"name": "Outer", "UUID": uid(1), "io": "Inner"}},
            {"@DataPoint": {"name": "Inner", "UUID": uid(2), "io": "R"}},
            {"@Skill.SignalFlow.Register": {"name": "R", "UUID": uid(3), "defaultValue": ["uint8", 5]}},
        ]
    }
    model = load_model_data(data)
    outer = model.element("Outer")
    assert outer.value == 5 and outer.data_type is DataType.UNSIGNED_INTEGER_8
    write(outer, 6, at(1))
    assert model.element("R").value == 6 and outer.value == 6


def test_data_points_referring_to_each_other_are_refused() -> None:
    data = {
        "children": [
            {"@DataPoint": {"name": "A", "UUID": uid(1), "io": "B"}},
            {"@DataPoint": {"name": "B", "UUID": uid(2), "io": "A"}},
        ]
    }
    with pytest.raises(ValueError, match="cycle"):
        load_model_data(data, source="loop.json")


def test_debugging_logger_text_is_write_only_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    data = {"children": [{"@Skill.Debugging.Logger": {"name": "Log", "UUID": uid(1), "caption": "Demo"}}]}
    log = load_model_data(data).element("Log")
    spec = next(s for s in log.attributes.values() if s.name == "text")
    assert spec.access is Access.WRITE_ONLY
    with caplog.at_level("INFO"):
        log.write(spec, "hello", at(1))
    assert "Demo: hello" in caplog.text

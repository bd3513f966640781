"""Signal generators produce their wave forms at the configured periods, driven by an injected clock."""

from __future__ import annotations

import math
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.clocks import EPOCH, at
from support.fixtures import SAMPLE_MODEL, needs_vendor_fixtures

from xentara_ws.model.formats import to_float32
from xentara_ws.model.loader import load_model, load_model_data
from xentara_ws.model.simulation import DEFAULT_INTERVAL_NS, Simulation
from xentara_ws.model.skills import Signal
from xentara_ws.model.tree import Model
from xentara_ws.protocol.codec import TIME_POINT_MIN, TimePoint
from xentara_ws.protocol.identifiers import Attribute, DataType, Quality


def sample_at(seconds: float) -> Model:
    """The vendor sample model after one generate tick at `seconds` past the test epoch."""
    model = load_model(SAMPLE_MODEL)
    Simulation(model, seed=1).step(at(seconds))
    return model


def value(model: Model, key: str) -> Any:
    return model.element(key).value


@needs_vendor_fixtures
def test_signals_are_bad_with_minimum_time_before_the_first_generate() -> None:
    model = load_model(SAMPLE_MODEL)
    signal = model.element("Sampler.Sine Wave")
    assert signal.quality is Quality.BAD and signal.update_time == TIME_POINT_MIN
    assert model.element("Sampler").quality is Quality.BAD


@needs_vendor_fixtures
def test_first_generate_makes_signals_and_sampler_good_stamped_with_the_tick() -> None:
    model = sample_at(1.2)  # the 500 ms timer's tick is at 1.0 s
    for key in ("Sampler", "Sampler.Pulse", "Semantic Sampler.Noise"):
        element = model.element(key)
        assert element.quality is Quality.GOOD
        assert element.update_time == at(1.0)


@needs_vendor_fixtures
@pytest.mark.parametrize(("seconds", "expected"), [(0.0, True), (1.5, True), (2.0, False), (4.5, False), (5.0, True)])
def test_pulse_is_high_for_its_pulse_width_then_low(seconds: float, expected: bool) -> None:
    assert value(sample_at(seconds), "Semantic Sampler.Pulse") is expected


@needs_vendor_fixtures
def test_sine_wave_is_centred_with_phase_offset_and_reaches_top_at_a_quarter_period() -> None:
    model = load_model(SAMPLE_MODEL)
    signal = model.element("Sampler.Sine Wave")
    assert isinstance(signal, Signal)
    # period 15 s, phase offset 1 s: phase 0 at t = 14 s, a quarter period later at 2.75 s.
    assert signal.sample(at(14.0)) == pytest.approx(75.0)
    assert signal.sample(at(2.75)) == pytest.approx(100.0)
    assert signal.sample(at(10.25)) == pytest.approx(50.0)
    assert 99.0 < value(sample_at(3.0), "Semantic Sampler.Sine Wave") <= 100.0


@needs_vendor_fixtures
@pytest.mark.parametrize(("seconds", "expected"), [(0.0, -10.0), (1.0, -2.0), (2.5, 10.0), (4.0, -2.0)])
def test_triangle_rises_from_bottom_to_top_and_back(seconds: float, expected: float) -> None:
    result = value(sample_at(seconds), "Semantic Sampler.Triangle")
    assert result == pytest.approx(expected, abs=1e-6)


@needs_vendor_fixtures
@pytest.mark.parametrize(("seconds", "expected"), [(0.0, -1000), (2.5, 1000), (4.5, 2600), (5.0, -1000)])
def test_saw_tooth_ramps_bottom_to_top_as_integers(seconds: float, expected: int) -> None:
    result = value(sample_at(seconds), "Semantic Sampler.Saw-Tooth")
    assert type(result) is int and result == expected


@needs_vendor_fixtures
@pytest.mark.parametrize(("seconds", "expected"), [(2.0, 300), (4.5, 150), (1.5, 30)])
def test_inverted_saw_tooth_falls_from_300_to_0(seconds: float, expected: int) -> None:
    assert value(sample_at(seconds), "Semantic Sampler.Inverted Saw-Tooth") == expected


@needs_vendor_fixtures
def test_noise_changes_on_every_tick_and_stays_in_range() -> None:
    model = load_model(SAMPLE_MODEL)
    simulation = Simulation(model, seed=42)
    seen = set()
    for tick in range(50):
        simulation.step(at(tick * 0.5))
        noise = value(model, "Semantic Sampler.Noise")
        assert type(noise) is int and 0 <= noise <= 10000
        seen.add(noise)
    assert len(seen) > 40


@needs_vendor_fixtures
def test_deterministic_waves_repeat_after_one_period_and_differ_within_it() -> None:
    model = load_model(SAMPLE_MODEL)
    simulation = Simulation(model)
    simulation.step(at(1.0))
    first = value(model, "Semantic Sampler.Saw-Tooth")
    simulation.step(at(3.5))
    assert value(model, "Semantic Sampler.Saw-Tooth") != first
    simulation.step(at(6.0))  # one 5 s period after the first tick
    assert value(model, "Semantic Sampler.Saw-Tooth") == first


@needs_vendor_fixtures
def test_change_time_stays_while_a_pulse_stays_high_but_update_time_moves() -> None:
    model = load_model(SAMPLE_MODEL)
    simulation = Simulation(model)
    pulse = model.element("Semantic Sampler.Pulse")
    simulation.step(at(0.0))
    simulation.step(at(0.5))
    simulation.step(at(1.0))
    assert pulse.value is True
    assert pulse.update_time == at(1.0)
    assert pulse.change_time == at(0.0)
    simulation.step(at(2.0))
    assert pulse.value is False and pulse.change_time == at(2.0)


@needs_vendor_fixtures
def test_sampling_follows_the_timer_that_triggers_generate() -> None:
    model = load_model(SAMPLE_MODEL)
    simulation = Simulation(model)
    assert simulation.step(at(0.0)) == 1
    assert simulation.step(at(0.3)) == 0  # still inside the same 500 ms tick
    assert simulation.next_due(at(0.3)) == at(0.5)
    assert simulation.step(at(0.5)) == 1
    assert model.element("Sampler").update_time == at(0.5)


@needs_vendor_fixtures
def test_next_due_is_now_or_earlier_when_a_tick_is_pending() -> None:
    simulation = Simulation(load_model(SAMPLE_MODEL))
    due = simulation.next_due(at(0.7))
    assert due is not None and due.ns <= at(0.7).ns


@needs_vendor_fixtures
def test_pause_freezes_values_and_resume_continues() -> None:
    model = load_model(SAMPLE_MODEL)
    simulation = Simulation(model)
    simulation.step(at(0.0))
    simulation.pause()
    assert simulation.suspended
    assert simulation.step(at(2.5)) == 0
    assert simulation.next_due(at(2.5)) is None
    assert value(model, "Semantic Sampler.Saw-Tooth") == -1000
    simulation.resume()
    assert simulation.step(at(2.5)) == 1
    assert value(model, "Semantic Sampler.Saw-Tooth") == 1000


def signal_model(
    form: dict[str, Any], data_type: str = "float64", top: Any = 1, bottom: Any = 0, timer: bool = True
) -> Model:
    def uid(n: int) -> str:
        return str(uuid.UUID(int=n))

    signal = {
        "@Skill.SignalGenerator.Signal": {
            "name": "S",
            "UUID": uid(2),
            "dataType": data_type,
            "top": top,
            "bottom": bottom,
            "waveForm": form,
        }
    }
    children: list[Any] = [{"@Skill.SignalGenerator.Sampler": {"name": "Gen", "UUID": uid(1), "children": [signal]}}]
    if timer:
        children.append(
            {
                "@Track": {
                    "name": "T",
                    "UUID": uid(3),
                    "children": [
                        {"@Timer": {"name": "Clock", "UUID": uid(4), "period": "250ms"}},
                        {
                            "@Pipeline": {
                                "name": "P",
                                "UUID": uid(5),
                                "triggers": ["T.Clock.expired"],
                                "checkpoints": [{}, {}],
                                "segments": [{"start": 0, "end": 1, "tasks": [{"function": "Gen.generate"}]}],
                            }
                        },
                    ],
                }
            }
        )
    return load_model_data({"children": children})


def test_sine_at_a_quarter_period_reads_top_through_the_simulation() -> None:
    model = signal_model({"@SineWave": {"period": "4s"}}, top=20, bottom=10)
    Simulation(model).step(at(1.0))
    assert model.element("Gen.S").value == pytest.approx(20.0)


def test_sampler_without_a_timer_uses_the_default_interval() -> None:
    model = signal_model({"@SawTooth": {"period": "1s"}}, timer=False)
    simulation = Simulation(model)
    simulation.step(at(0.0))
    assert simulation.next_due(at(0.01)) == TimePoint(EPOCH + DEFAULT_INTERVAL_NS)


def test_bool_signal_thresholds_at_half() -> None:
    model = signal_model({"@Triangle": {"period": "4s"}}, data_type="bool")
    signal = model.element("Gen.S")
    assert isinstance(signal, Signal)
    assert signal.sample(at(0.5)) is False  # w = 0.25
    assert signal.sample(at(2.0)) is True  # w = 1


WAVES = st.sampled_from(
    [
        {"@SineWave": {"period": "3s", "phaseOffset": "250ms"}},
        {"@Triangle": {"period": "700ms"}},
        {"@SawTooth": {"period": "2s", "phaseOffset": "1.5s"}},
        {"@Pulse": {"period": "1s", "pulseWidth": "300ms"}},
        {"@Noise": {}},
    ]
)
TYPES = st.sampled_from(
    ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"]
)
LIMITS = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(form=WAVES, data_type=TYPES, top=LIMITS, bottom=LIMITS, offset_ns=st.integers(0, 10**13))
def test_wave_forms_stay_within_bottom_and_top(
    form: dict[str, Any], data_type: str, top: float, bottom: float, offset_ns: int
) -> None:
    model = signal_model(form, data_type, top, bottom, timer=False)
    signal = model.element("Gen.S")
    assert isinstance(signal, Signal)
    result = signal.sample(TimePoint(EPOCH + offset_ns))
    low, high = min(top, bottom), max(top, bottom)
    spec = signal.attribute(int(Attribute.VALUE))
    limits = spec.data_type.integer_range
    if limits is not None:
        assert type(result) is int
        low_int = min(max(math.floor(low + 0.5), limits[0]), limits[1])
        high_int = min(max(math.floor(high + 0.5), limits[0]), limits[1])
        assert low_int <= result <= high_int
    else:
        if spec.data_type is DataType.FLOAT_32:
            # Rounding to single precision is monotonic: the rounded bounds still enclose the value.
            low, high = to_float32(low), to_float32(high)
        slack = 1e-9 * max(abs(low), abs(high))
        assert low - slack <= result <= high + slack

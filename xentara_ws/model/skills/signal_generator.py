"""The SignalGenerator skill: samplers and the signals they produce (reference section 3)."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any

from ...protocol.codec import TimePoint
from ...protocol.identifiers import Attribute, DataType, ElementCategory
from ..element import Element
from ..formats import MODEL_DATA_TYPES, initial_value, parse_interval, to_float32
from .common import ConfigError, R, attrs, std


class Sampler(Element):
    """`@Skill.SignalGenerator.Sampler`: computes all its signals on every `generate`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            model_type="@Skill.SignalGenerator.Sampler",
            type_name="signal generator sampler",
            category=ElementCategory.DEVICE,
            attributes=attrs(std(Attribute.UPDATE_TIME), std(Attribute.QUALITY)),
            **kwargs,
        )

    @property
    def signals(self) -> list[Signal]:
        return [c for c in self.children if isinstance(c, Signal)]

    def generate(self, now: TimePoint, rng: random.Random) -> None:
        """The `generate` task: new values for every signal, all stamped with the scheduled time."""
        for signal in self.signals:
            signal.generate(now, rng)
        self.update(None, now)


WAVE_FORMS = ("@SineWave", "@Triangle", "@SawTooth", "@Pulse", "@Noise")


def wave(form: str, phase: float, high: bool = False) -> float:
    """The normalised wave (0..1) at `phase` in [0, 1); `high` is the pulse state (reference 3.14)."""
    if form == "@SineWave":
        return (1.0 + math.sin(2.0 * math.pi * phase)) / 2.0
    if form == "@Triangle":
        return 2.0 * phase if phase < 0.5 else 2.0 - 2.0 * phase
    if form == "@SawTooth":
        return phase
    if form == "@Pulse":
        return 1.0 if high else 0.0
    raise ValueError(f"unknown wave form {form}")


def to_signal_type(data_type: DataType, v: float) -> Any:
    """A scaled wave value in the signal's data type: bool by threshold 0.5, integers rounded and clamped."""
    if data_type is DataType.BOOLEAN:
        return v > 0.5
    limits = data_type.integer_range
    if limits is not None:
        low, high = limits
        return min(max(math.floor(v + 0.5), low), high)
    if data_type is DataType.FLOAT_32:
        return to_float32(v)
    return float(v)


class Signal(Element):
    """`@Skill.SignalGenerator.Signal`: a read-only generated input."""

    def __init__(self, *, config: Mapping[str, Any], **kwargs: Any) -> None:
        from ..formats import SIGNAL_DATA_TYPES

        keyword = config.get("dataType", "float64")
        if keyword not in SIGNAL_DATA_TYPES:
            raise ConfigError(f"unknown signal data type {keyword!r}", "dataType")
        data_type = MODEL_DATA_TYPES[keyword]
        super().__init__(
            model_type="@Skill.SignalGenerator.Signal",
            type_name="signal generator signal",
            category=ElementCategory.DATA_POINT,
            attributes=attrs(
                std(Attribute.VALUE, R, data_type),
                std(Attribute.UPDATE_TIME),
                std(Attribute.CHANGE_TIME),
                std(Attribute.QUALITY),
            ),
            config=config,
            **kwargs,
        )
        self.top = self._number(config.get("top", 1), "top")
        self.bottom = self._number(config.get("bottom", 0), "bottom")
        form = config.get("waveForm")
        if not isinstance(form, dict) or len(form) != 1 or next(iter(form)) not in WAVE_FORMS:
            raise ConfigError(
                f'waveForm must be one of {", ".join(WAVE_FORMS)}, e.g. {{"@SineWave": {{...}}}}', "waveForm"
            )
        self.wave_form, params = next(iter(form.items()))
        if not isinstance(params, dict):
            raise ConfigError("wave form parameters must be an object", "waveForm")
        try:
            self.period_ns = parse_interval(params.get("period", "1s"))
            self.phase_offset_ns = parse_interval(params.get("phaseOffset", "0"))
            self.pulse_width_ns = parse_interval(params.get("pulseWidth", "0.5s"))
        except ValueError as exc:
            raise ConfigError(str(exc), "waveForm") from None
        if self.period_ns <= 0:
            raise ConfigError("the wave form period must be positive", "waveForm")
        self.value = initial_value(data_type)

    @staticmethod
    def _number(raw: object, member: str) -> float:
        if isinstance(raw, bool):
            return 1.0 if raw else 0.0
        if isinstance(raw, (int, float)):
            return float(raw)
        raise ConfigError(f"{member} must be a number or boolean, not {raw!r}", member)

    def sample(self, now: TimePoint, rng: random.Random | None = None) -> Any:
        """The signal's value at `now`, in its data type (pure apart from noise)."""
        if self.wave_form == "@Noise":
            w = (rng or random).random()
        else:
            # Integer nanoseconds keep the phase exact however far from the epoch we are.
            phase_ns = (now.ns + self.phase_offset_ns) % self.period_ns
            w = wave(self.wave_form, phase_ns / self.period_ns, phase_ns < self.pulse_width_ns)
        v = self.bottom + (self.top - self.bottom) * w
        # Floating-point error must not push a value a hair outside the configured range.
        v = min(max(v, min(self.top, self.bottom)), max(self.top, self.bottom))
        data_type = self.data_type
        assert data_type is not None
        return to_signal_type(data_type, v)

    def generate(self, now: TimePoint, rng: random.Random) -> None:
        self.update(self.sample(now, rng), now)

"""Element types with behaviour: signal generator samplers and signals, registers, data points.

Attribute sets, type texts and categories follow spec/xentara-model-reference.md sections 2-4.
"""

from __future__ import annotations

import functools
import logging
import math
import random
import uuid
from collections.abc import Mapping
from typing import Any

from ..protocol.codec import TimePoint
from ..protocol.errors import ErrorCode, ProtocolError
from ..protocol.identifiers import Access, Attribute, DataType, ElementCategory, Quality
from . import values
from .element import (
    IDENTITY_ATTRIBUTES,
    AttributeKey,
    AttributeSpec,
    Element,
    custom_attribute,
    standard_attribute,
)
from .formats import MODEL_DATA_TYPES, config_value, initial_value, parse_interval, to_float32

logger = logging.getLogger(__name__)

R = Access.READ_ONLY
W = Access.WRITE_ONLY
RW = Access.READ_WRITE

_VALUE = int(Attribute.VALUE)
_WRITE_TIME = int(Attribute.WRITE_TIME)
_WRITE_ERROR = int(Attribute.WRITE_ERROR)


def _attrs(*specs: AttributeSpec) -> tuple[AttributeSpec, ...]:
    return IDENTITY_ATTRIBUTES + specs


def _std(attribute: Attribute, access: Access = R, data_type: DataType | None = None) -> AttributeSpec:
    return standard_attribute(attribute, access, data_type)


class ConfigError(ValueError):
    """A problem with one element's configuration; the loader adds file and JSON path."""

    def __init__(self, message: str, member: str | None = None) -> None:
        super().__init__(message)
        self.member = member


# -- signal generator --------------------------------------------------------------------------


class Sampler(Element):
    """`@Skill.SignalGenerator.Sampler`: computes all its signals on every `generate`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            model_type="@Skill.SignalGenerator.Sampler",
            type_name="signal generator sampler",
            category=ElementCategory.DEVICE,
            attributes=_attrs(_std(Attribute.UPDATE_TIME), _std(Attribute.QUALITY)),
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
        from .formats import MODEL_DATA_TYPES, SIGNAL_DATA_TYPES

        keyword = config.get("dataType", "float64")
        if keyword not in SIGNAL_DATA_TYPES:
            raise ConfigError(f"unknown signal data type {keyword!r}", "dataType")
        data_type = MODEL_DATA_TYPES[keyword]
        super().__init__(
            model_type="@Skill.SignalGenerator.Signal",
            type_name="signal generator signal",
            category=ElementCategory.DATA_POINT,
            attributes=_attrs(
                _std(Attribute.VALUE, R, data_type),
                _std(Attribute.UPDATE_TIME),
                _std(Attribute.CHANGE_TIME),
                _std(Attribute.QUALITY),
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


# -- registers ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)  # one tuple per data type, shared by every register of it
def _register_attributes(data_type: DataType) -> tuple[AttributeSpec, ...]:
    return _attrs(
        _std(Attribute.VALUE, RW, data_type),
        _std(Attribute.UPDATE_TIME),
        _std(Attribute.CHANGE_TIME),
        _std(Attribute.WRITE_TIME),
        _std(Attribute.QUALITY),
    )


class Register(Element):
    """`@Skill.SignalFlow.Register`: stores a written value; quality is always good."""

    def __init__(self, *, config: Mapping[str, Any], **kwargs: Any) -> None:
        default = config.get("defaultValue")
        if not isinstance(default, list) or len(default) != 2:
            raise ConfigError('defaultValue must be [dataType, value], e.g. ["int64", 0]', "defaultValue")
        keyword, raw = default
        data_type = MODEL_DATA_TYPES.get(keyword) if isinstance(keyword, str) else None
        if data_type is None:
            raise ConfigError(f"unknown register data type {keyword!r}", "defaultValue")
        try:
            value = config_value(data_type, raw)
        except ValueError as exc:
            raise ConfigError(f"default value: {exc}", "defaultValue") from None
        super().__init__(
            model_type="@Skill.SignalFlow.Register",
            type_name="register",
            category=ElementCategory.DATA_POINT,
            attributes=_register_attributes(data_type),
            config=config,
            **kwargs,
        )
        self.value = value
        self.quality = Quality.GOOD
        # Time stamps stay at the minimum time point until the first write (reference 3.10).

    def accept_write(self, spec: AttributeSpec, value: Any, now: TimePoint) -> None:
        if spec.key != _VALUE:
            super().accept_write(spec, value, now)
            return
        self.write_time = now
        self.update(value, now, changed_extra=(_WRITE_TIME,))


# -- data points -------------------------------------------------------------------------------

_INPUT_MIRRORED = (
    Attribute.SOURCE_TIME,
    Attribute.UPDATE_TIME,
    Attribute.CHANGE_TIME,
    Attribute.QUALITY,
    Attribute.ERROR,
)
_OUTPUT_MIRRORED = (Attribute.WRITE_TIME, Attribute.WRITE_ERROR)


_UNITS = custom_attribute("units", R, DataType.STRING)
_DATA_POINT_ATTRIBUTES = _attrs(_UNITS, custom_attribute("displayName", R, DataType.STRING))


class DataPoint(Element):
    """`@DataPoint`: reads mirror its input element, writes go to its output element."""

    def __init__(self, *, config: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(
            model_type="@DataPoint",
            type_name="data point",
            category=ElementCategory.DATA_POINT,
            attributes=_DATA_POINT_ATTRIBUTES,
            config=config,
            **kwargs,
        )
        self.input: Element | None = None
        self.output: Element | None = None
        self.custom_values[_UNITS.key] = config.get("units", "")
        self._display_name: str | None = config.get("displayName")

    def set_display_name_default(self) -> None:
        """An omitted display name reads as the primary key, known only after indexing."""
        spec = custom_attribute("displayName", R, DataType.STRING)
        self.custom_values[spec.key] = self._display_name if self._display_name is not None else self.primary_key

    def attach(self, input_element: Element | None, output_element: Element | None) -> None:
        """Bind to the io elements; the value's access and the inherited attributes follow from them."""
        in_value = input_element.attributes.get(_VALUE) if input_element is not None else None
        out_value = output_element.attributes.get(_VALUE) if output_element is not None else None
        readable = in_value is not None and in_value.access.readable
        writable = out_value is not None and out_value.access.writable
        if input_element is not None and not readable:
            raise ConfigError(f"input {input_element.primary_key} cannot be read", "io")
        if output_element is not None and not writable:
            raise ConfigError(f"output {output_element.primary_key} cannot be written", "io")
        self.input = input_element if readable else None
        self.output = output_element if writable else None
        access = RW if readable and writable else (R if readable else W)
        source_spec = in_value if readable else out_value
        assert source_spec is not None
        self.add_attribute(_std(Attribute.VALUE, access, source_spec.data_type))
        if self.input is not None:
            for attribute in _INPUT_MIRRORED:
                if int(attribute) in self.input.attributes:
                    self.add_attribute(_std(attribute))
            self.input.subscribe(self._input_changed)
            self._mirror_input()
        else:
            self.value = initial_value(source_spec.data_type)
        if self.output is not None:
            for attribute in _OUTPUT_MIRRORED:
                if int(attribute) in self.output.attributes:
                    self.add_attribute(_std(attribute))
            self._mirror_output()
            if self.output is not self.input:
                self.output.subscribe(self._output_changed)

    def _mirror_input(self) -> None:
        source = self.input
        assert source is not None
        self.value = source.value
        self.quality = source.quality
        self.error = source.error
        self.source_time = source.source_time
        self.update_time = source.update_time
        self.change_time = source.change_time

    def _mirror_output(self) -> None:
        target = self.output
        assert target is not None
        self.write_time = target.write_time
        self.write_error = target.write_error

    def _input_changed(self, source: Element, changed: frozenset[AttributeKey]) -> None:
        self._mirror_input()
        if self.output is source:
            self._mirror_output()
        # Most data points have the same attributes as their input: pass the set on untouched.
        self.notify(changed if changed.issubset(self.attributes) else changed.intersection(self.attributes))

    def _output_changed(self, target: Element, changed: frozenset[AttributeKey]) -> None:
        mine = changed.intersection((_WRITE_TIME, _WRITE_ERROR)).intersection(self.attributes)
        if mine:
            self._mirror_output()
            self.notify(frozenset(mine))

    def accept_write(self, spec: AttributeSpec, value: Any, now: TimePoint) -> None:
        if spec.key != _VALUE:
            super().accept_write(spec, value, now)
            return
        output = self.output
        if output is None:
            raise ProtocolError(ErrorCode.READ_ONLY)
        out_spec = output.attributes[_VALUE]
        if out_spec.data_type != spec.data_type:
            value = values.convert(out_spec.data_type, value)
        output.write(out_spec, value, now)

    def publish(
        self,
        value: Any,
        quality: Quality = Quality.GOOD,
        time: TimePoint | None = None,
        *,
        error: int = 0,
        source_time: TimePoint | None = None,
    ) -> None:
        """A data point has no state of its own: publishing feeds its input element."""
        if self.input is None:
            raise ValueError(f"{self.primary_key} has no input to publish to")
        self.input.publish(value, quality, time, error=error, source_time=source_time)


# -- debugging logger ----------------------------------------------------------------------------


class DebugLogger(Element):
    """`@Skill.Debugging.Logger`: write-only `text` and `errorText` attributes, printed via logging."""

    def __init__(self, *, config: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(
            model_type="@Skill.Debugging.Logger",
            type_name="debugging logger",
            category=ElementCategory.SPECIAL_PURPOSE,
            attributes=_attrs(
                custom_attribute("text", W, DataType.STRING),
                custom_attribute("errorText", W, DataType.STRING),
            ),
            config=config,
            **kwargs,
        )

    def accept_write(self, spec: AttributeSpec, value: Any, now: TimePoint) -> None:
        caption = self.config.get("caption") or self.primary_key
        level = logging.ERROR if spec.name == "errorText" else logging.INFO
        logger.log(level, "%s: %s", caption, value)


# -- everything else ---------------------------------------------------------------------------

BUILTIN_TYPES: dict[str, tuple[str, ElementCategory]] = {
    "@Group": ("element group", ElementCategory.ELEMENT_GROUP),
    "@Timer": ("timer", ElementCategory.TIMER),
    "@Track": ("execution track", ElementCategory.EXECUTION_TRACK),
    "@Pipeline": ("execution pipeline", ElementCategory.EXECUTION_PIPELINE),
    "@Skill.SignalFlow.EdgeDetection": ("edge detection", ElementCategory.MICROSERVICE),
    "@Skill.SignalFlow.Bridge": ("signal bridge", ElementCategory.MICROSERVICE),
    "@Skill.Debugging.Inspector": ("debugging inspector", ElementCategory.SPECIAL_PURPOSE),
}
"""Built-in types without values of their own: only the five identity attributes."""

SKILL_DATA_POINTS: dict[str, tuple[str, DataType | None, Access]] = {
    "@Skill.SignalProcessing.ConvertedValue": ("converted value", DataType.FLOAT_64, RW),
    "@Skill.SignalProcessing.Bit": ("bit value", DataType.BOOLEAN, R),
    "@Skill.SignalProcessing.BitValue": ("bit value", DataType.BOOLEAN, R),
    "@Skill.SignalProcessing.SummaryState": ("summary state", DataType.BOOLEAN, R),
}
"""Built-in skill data points loaded as held-in-memory values (no computation yet)."""

KNOWN_TYPE_TEXTS = {
    "@Skill.CPP.Control": "C++ control",
    "@Skill.CoE.Entry": "EtherCAT device entry",
}

_NAME_CATEGORIES: tuple[tuple[tuple[str, ...], ElementCategory], ...] = (
    (("Bus", "Network", "Master"), ElementCategory.DEVICE_GROUP),
    (("Device", "Coupler", "Slave", "Connection"), ElementCategory.DEVICE),
    (("Module", "Slot", "SubDevice"), ElementCategory.SUB_DEVICE),
    (("Poll", "Batch", "Transaction", "Request", "Command"), ElementCategory.TRANSACTION),
    (("Control", "Microservice", "Logic", "Program"), ElementCategory.MICROSERVICE),
    (("Client", "Server", "Broker"), ElementCategory.EXTERNAL_INTERFACE),
    (("Database", "Storage", "Archive"), ElementCategory.DATA_STORAGE),
    (("Model", "Inference", "Engine"), ElementCategory.AI),
)
_ADDRESSING_MEMBERS = ("dataType", "index", "subIndex", "address", "symbolName", "nodeId")
CONNECTION_TIME = "connectionTime"


def skill_category(
    designation: str, config: Mapping[str, Any], referenced: bool, child_types: list[str]
) -> ElementCategory:
    """Reference 4.2: the category of an unknown skill element, first matching rule wins."""
    if referenced:
        return ElementCategory.DATA_POINT
    if not child_types and any(member in config for member in _ADDRESSING_MEMBERS):
        return ElementCategory.DATA_POINT
    type_part = designation.rsplit(".", 1)[-1]
    for suffixes, category in _NAME_CATEGORIES:
        if type_part.endswith(suffixes):
            return category
    if child_types:
        return ElementCategory.DEVICE
    return ElementCategory.MICROSERVICE


def skill_direction(config: Mapping[str, Any]) -> Access:
    """Read, write or both for a generic skill data point (direction, CoE sync manager or index)."""
    direction = config.get("direction")
    if direction == "input":
        return R
    if direction == "output":
        return RW  # real output entries read back what was written
    sync_manager = config.get("syncManager")
    if sync_manager == 3:
        return R
    if sync_manager == 2:
        return RW
    index = config.get("index")
    if isinstance(index, str):
        try:
            number = int(index, 16)
        except ValueError:
            number = -1
        if 0x6000 <= number <= 0x6FFF:
            return R
    return RW


def make_skill_element(
    designation: str,
    config: Mapping[str, Any],
    *,
    name: str,
    element_uuid: uuid.UUID,
    acl: Mapping[str, Any] | None,
    referenced: bool,
    child_types: list[str],
    now: TimePoint,
) -> Element:
    """A generic element for a type without its own class (reference 4.2 and 2.2)."""
    from .formats import data_type_from_keyword

    common: dict[str, Any] = {
        "name": name,
        "element_uuid": element_uuid,
        "acl": acl,
        "config": config,
        "model_type": designation,
    }
    if designation in BUILTIN_TYPES:
        type_name, category = BUILTIN_TYPES[designation]
        return Element(type_name=type_name, category=category, **common)
    if designation in SKILL_DATA_POINTS:
        type_name, data_type, access = SKILL_DATA_POINTS[designation]
        return _held_data_point(type_name, data_type, access, now, common)
    _, skill, type_part = designation.split(".", 2)
    type_name = KNOWN_TYPE_TEXTS.get(designation, f"{type_part} ({skill})")
    category = skill_category(designation, config, referenced, child_types)
    if category is ElementCategory.DATA_POINT:
        data_type = data_type_from_keyword(config.get("dataType"))
        if data_type is None:
            data_type = DataType.FLOAT_64
        return _held_data_point(type_name, data_type, skill_direction(config), now, common)
    if category in (ElementCategory.DEVICE, ElementCategory.DEVICE_GROUP, ElementCategory.SUB_DEVICE):
        connection = custom_attribute(CONNECTION_TIME, R, DataType.TIME_POINT)
        element = Element(
            type_name=type_name,
            category=category,
            attributes=_attrs(_std(Attribute.DEVICE_STATE), _std(Attribute.ERROR), connection),
            **common,
        )
        element.custom_values[connection.key] = now
        return element
    return Element(type_name=type_name, category=category, **common)


def _held_data_point(
    type_name: str, data_type: DataType | None, access: Access, now: TimePoint, common: dict[str, Any]
) -> Element:
    """A skill data point whose value is simply held in memory (gateways feed it via publish)."""
    # DataType.BOOLEAN is 0 (falsy): compare with None, never use `or` on data types.
    if data_type is None:
        data_type = DataType.FLOAT_64
    specs = [
        _std(Attribute.VALUE, access, data_type),
        _std(Attribute.QUALITY),
        _std(Attribute.UPDATE_TIME),
        _std(Attribute.CHANGE_TIME),
        _std(Attribute.ERROR),
    ]
    if access.writable:
        specs += [_std(Attribute.WRITE_TIME), _std(Attribute.WRITE_ERROR)]
    element = Element(type_name=type_name, category=ElementCategory.DATA_POINT, attributes=_attrs(*specs), **common)
    # Live from the first operational cycle: a sane initial value with good quality (reference 4.2).
    element.value = initial_value(data_type)
    element.quality = Quality.GOOD
    element.update_time = now
    element.change_time = now
    return element

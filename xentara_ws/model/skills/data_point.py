"""@DataPoint: a value mirrored from an input and written to an output (reference section 2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...protocol.codec import TimePoint
from ...protocol.errors import ErrorCode, ProtocolError
from ...protocol.identifiers import Attribute, DataType, ElementCategory, Quality
from .. import values
from ..element import AttributeKey, AttributeSpec, Element, custom_attribute
from ..formats import initial_value
from .common import RW, VALUE_KEY, WRITE_ERROR_KEY, WRITE_TIME_KEY, ConfigError, R, W, attrs, std

_INPUT_MIRRORED = (
    Attribute.SOURCE_TIME,
    Attribute.UPDATE_TIME,
    Attribute.CHANGE_TIME,
    Attribute.QUALITY,
    Attribute.ERROR,
)
_OUTPUT_MIRRORED = (Attribute.WRITE_TIME, Attribute.WRITE_ERROR)


_UNITS = custom_attribute("units", R, DataType.STRING)
_DATA_POINT_ATTRIBUTES = attrs(_UNITS, custom_attribute("displayName", R, DataType.STRING))


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
        in_value = input_element.attributes.get(VALUE_KEY) if input_element is not None else None
        out_value = output_element.attributes.get(VALUE_KEY) if output_element is not None else None
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
        self.add_attribute(std(Attribute.VALUE, access, source_spec.data_type))
        if self.input is not None:
            for attribute in _INPUT_MIRRORED:
                if int(attribute) in self.input.attributes:
                    self.add_attribute(std(attribute))
            self.input.subscribe(self._input_changed)
            self._mirror_input()
        else:
            self.value = initial_value(source_spec.data_type)
        if self.output is not None:
            for attribute in _OUTPUT_MIRRORED:
                if int(attribute) in self.output.attributes:
                    self.add_attribute(std(attribute))
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
        mine = changed.intersection((WRITE_TIME_KEY, WRITE_ERROR_KEY)).intersection(self.attributes)
        if mine:
            self._mirror_output()
            self.notify(frozenset(mine))

    def accept_write(self, spec: AttributeSpec, value: Any, now: TimePoint) -> None:
        if spec.key != VALUE_KEY:
            super().accept_write(spec, value, now)
            return
        output = self.output
        if output is None:
            raise ProtocolError(ErrorCode.READ_ONLY)
        out_spec = output.attributes[VALUE_KEY]
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

"""The SignalFlow skill: registers that hold a written value (reference section 3)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from ...protocol.codec import TimePoint
from ...protocol.identifiers import Attribute, DataType, ElementCategory, Quality
from ..element import AttributeSpec, Element
from ..formats import MODEL_DATA_TYPES, config_value
from .common import RW, VALUE_KEY, WRITE_TIME_KEY, ConfigError, attrs, std


@functools.lru_cache(maxsize=64)  # one tuple per data type, shared by every register of it
def _register_attributes(data_type: DataType) -> tuple[AttributeSpec, ...]:
    return attrs(
        std(Attribute.VALUE, RW, data_type),
        std(Attribute.UPDATE_TIME),
        std(Attribute.CHANGE_TIME),
        std(Attribute.WRITE_TIME),
        std(Attribute.QUALITY),
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
        if spec.key != VALUE_KEY:
            super().accept_write(spec, value, now)
            return
        self.write_time = now
        self.update(value, now, changed_extra=(WRITE_TIME_KEY,))

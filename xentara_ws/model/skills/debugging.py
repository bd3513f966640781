"""The Debugging skill: a logger element that reports what it is given."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ...protocol.codec import TimePoint
from ...protocol.identifiers import DataType, ElementCategory
from ..element import AttributeSpec, Element, custom_attribute
from .common import W, attrs

logger = logging.getLogger("xentara_ws.model.skills")


class DebugLogger(Element):
    """`@Skill.Debugging.Logger`: write-only `text` and `errorText` attributes, printed via logging."""

    def __init__(self, *, config: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(
            model_type="@Skill.Debugging.Logger",
            type_name="debugging logger",
            category=ElementCategory.SPECIAL_PURPOSE,
            attributes=attrs(
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

"""Every other type: built-in containers, held skill data points and unknown plugin skill elements (reference 4.2)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from ...protocol.codec import TimePoint
from ...protocol.identifiers import Access, Attribute, DataType, ElementCategory, Quality
from ..element import Element, custom_attribute
from ..formats import initial_value
from .common import RW, R, attrs, std

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
    from ..formats import data_type_from_keyword

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
            attributes=attrs(std(Attribute.DEVICE_STATE), std(Attribute.ERROR), connection),
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
        std(Attribute.VALUE, access, data_type),
        std(Attribute.QUALITY),
        std(Attribute.UPDATE_TIME),
        std(Attribute.CHANGE_TIME),
        std(Attribute.ERROR),
    ]
    if access.writable:
        specs += [std(Attribute.WRITE_TIME), std(Attribute.WRITE_ERROR)]
    element = Element(type_name=type_name, category=ElementCategory.DATA_POINT, attributes=attrs(*specs), **common)
    # Live from the first operational cycle: a sane initial value with good quality (reference 4.2).
    element.value = initial_value(data_type)
    element.quality = Quality.GOOD
    element.update_time = now
    element.change_time = now
    return element

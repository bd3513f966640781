"""The small hand-built model most protocol tests serve, and the UUIDs of its elements."""

from __future__ import annotations

import uuid

from xentara_ws.model.element import Element, standard_attribute
from xentara_ws.model.tree import Model
from xentara_ws.protocol.codec import TimePoint
from xentara_ws.protocol.identifiers import Access, Attribute, DataType, ElementCategory

GROUP_UUID = uuid.UUID("11111111-1111-4111-8111-111111111111")
REGISTER_UUID = uuid.UUID("e3ee1071-4d88-4ba1-8e5d-0f1e4ce25ee8")
FLAG_UUID = uuid.UUID("22222222-2222-4222-8222-222222222222")
COUNTER_UUID = uuid.UUID("33333333-3333-4333-8333-333333333333")
DOTTED_UUID = uuid.UUID("44444444-4444-4444-8444-444444444444")
OUTPUT_UUID = uuid.UUID("55555555-5555-4555-8555-555555555555")
PENDING_UUID = uuid.UUID("66666666-6666-4666-8666-666666666666")


def register(
    name: str, element_uuid: uuid.UUID, data_type: DataType, value: object, access: Access = Access.READ_WRITE
) -> Element:
    specs = (
        standard_attribute(Attribute.PRIMARY_KEY),
        standard_attribute(Attribute.NAME),
        standard_attribute(Attribute.UUID),
        standard_attribute(Attribute.TYPE),
        standard_attribute(Attribute.CATEGORY),
        standard_attribute(Attribute.UPDATE_TIME),
        standard_attribute(Attribute.CHANGE_TIME),
        standard_attribute(Attribute.WRITE_TIME),
        standard_attribute(Attribute.QUALITY),
        standard_attribute(Attribute.VALUE, access, data_type),
    )
    element = Element(
        name=name,
        element_uuid=element_uuid,
        model_type="@Skill.SignalFlow.Register",
        type_name="register",
        category=ElementCategory.DATA_POINT,
        attributes=specs,
    )
    if value is not None:
        element.update(value, TimePoint(1_704_107_471_111_587_983))
    return element


def small_model() -> Model:
    """Group 1 { Data Point 1 (float64), Flag (bool), Counter (uint8), [v1.2] (string), Output, Pending }"""
    model = Model(path="/models/small.json")
    group = Element(
        name="Group 1",
        element_uuid=GROUP_UUID,
        model_type="@Group",
        type_name="element group",
        category=ElementCategory.ELEMENT_GROUP,
    )
    model.root.add_child(group)
    group.add_child(register("Data Point 1", REGISTER_UUID, DataType.FLOAT_64, 42.5))
    group.add_child(register("Flag", FLAG_UUID, DataType.BOOLEAN, False))
    group.add_child(register("Counter", COUNTER_UUID, DataType.UNSIGNED_INTEGER_8, 7))
    group.add_child(register("v1.2", DOTTED_UUID, DataType.STRING, "x"))
    group.add_child(register("Output", OUTPUT_UUID, DataType.FLOAT_64, 1.0, Access.WRITE_ONLY))
    group.add_child(register("Pending", PENDING_UUID, DataType.FLOAT_64, None))
    model.reindex()
    return model

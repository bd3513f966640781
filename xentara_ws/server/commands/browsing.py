"""browse (1), meta_data (2) and lookup (3): walking the element tree."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from ...model.element import Element
from ...protocol.errors import ErrorCode, ProtocolError
from ...protocol.identifiers import ElementCategory, MetaData, Opcode
from ..params import Param, invalid, is_array, is_text, is_uint, parse, uuid_param
from ..registry import CommandContext, command
from ..state import ServerState

_CATEGORIES = frozenset(int(c) for c in ElementCategory)


def find_element(state: ServerState, element_uuid: uuid.UUID) -> Element:
    element = state.model.find(element_uuid)
    if element is None:
        raise ProtocolError(ErrorCode.UNKNOWN_ELEMENT, f"unknown element {element_uuid}")
    return element


_BROWSE = (
    uuid_param(0, "element_uuid"),
    Param(1, "depth", "an unsigned integer", is_uint, required=False),
    Param(2, "element_category", "an array", is_array, required=False),
)


@command(Opcode.BROWSE)
def browse(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    p = parse(params, _BROWSE)
    depth = p.get(1)
    if depth == 0:
        raise invalid("parameter 1 (depth) must be at least 1")
    categories = p.get(2)
    if categories is not None:
        for category in categories:
            if type(category) is not int or category not in _CATEGORIES:
                raise invalid(f"parameter 2 (element_category) holds an invalid category {category!r}")
        wanted = frozenset(categories)
    start = find_element(ctx.state, p[0])
    return [
        {0: e.primary_key, 1: e.uuid, 2: int(e.category)}
        for e in start.descendants(depth)
        if categories is None or e.category in wanted
    ]


_META_DATA = (uuid_param(0, "element_uuid"), Param(1, "identifiers", "an array", is_array))


def attribute_list(element: Element) -> list[dict[int, Any]]:
    return [
        {0: spec.name, 1: spec.key, 2: int(spec.access), 3: int(spec.data_type)} for spec in element.attributes.values()
    ]


_META_VALUES: dict[int, Callable[[Element], Any]] = {
    MetaData.PRIMARY_KEY: lambda e: e.primary_key,
    MetaData.ELEMENT_CATEGORY: lambda e: int(e.category),
    MetaData.ATTRIBUTE_LIST: attribute_list,
    MetaData.HAS_CHILDREN: lambda e: bool(e.children),
}


@command(Opcode.META_DATA)
def meta_data(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    p = parse(params, _META_DATA)
    for identifier in p[1]:
        if type(identifier) is not int or identifier not in _META_VALUES:
            raise invalid("invalid meta data identifier")
    element = find_element(ctx.state, p[0])
    return {identifier: _META_VALUES[identifier](element) for identifier in p[1]}


_LOOKUP = (Param(0, "primary_key", "a text string", is_text),)


@command(Opcode.LOOKUP)
def lookup(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    primary_key = parse(params, _LOOKUP)[0]
    if not primary_key:
        raise invalid("parameter 0 (primary_key) must not be empty")
    element = ctx.state.model.lookup(primary_key)
    if element is None:
        raise ProtocolError(ErrorCode.UNKNOWN_ELEMENT, f"unknown element {primary_key!r}")
    return element.uuid

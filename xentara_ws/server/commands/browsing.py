"""browse (1), meta_data (2) and lookup (3): walking the element tree."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ...model.element import Element
from ...protocol.errors import ErrorCode, ProtocolError
from ...protocol.identifiers import ElementCategory, MetaData
from ..params import Param, invalid, is_array, is_text, is_uint, parse, uuid_param
from .common import find_element
from .context import CommandContext

_CATEGORIES = frozenset(int(c) for c in ElementCategory)


_BROWSE = (
    uuid_param(0, "element_uuid"),
    Param(1, "depth", "an unsigned integer", is_uint, required=False),
    Param(2, "element_category", "an array", is_array, required=False),
)


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
    return _bounded_browse(start, depth, wanted if categories is not None else None, ctx.state.limits.max_message_size)


# Bytes of one browse entry besides its primary key: map head, keys 0-2, 37(h'…16 bytes…'), category.
_ENTRY_OVERHEAD = 1 + 3 + 3 + 16 + 1
# The reply packet around the entries: [1, message id, array head].
_REPLY_OVERHEAD = 32
_TEXT_HEAD = (1, 2, 3, 5)  # bytes of a text string's head, by how many length thresholds it passes


def _bounded_browse(
    start: Element, depth: int | None, wanted: frozenset[int] | None, limit: int
) -> list[dict[int, Any]]:
    """The browse result, or -32602 as soon as its encoding would exceed the message-size limit.

    The size is counted as the walk goes (the entries' exact CBOR sizes), so the work for a tree
    too large to answer is bounded by the limit, not by the tree: the event loop is not held up
    encoding a reply that could not be sent anyway.
    """
    budget = limit - _REPLY_OVERHEAD
    size = 0
    found: list[Element] = []
    for element in _walk(start, depth):
        if wanted is None or element.category in wanted:
            key = element.primary_key
            length = len(key) if key.isascii() else len(key.encode())
            size += _ENTRY_OVERHEAD + _TEXT_HEAD[(length >= 24) + (length >= 0x100) + (length >= 0x10000)] + length
            if size > budget:
                raise invalid(
                    f"the reply would exceed the message-size limit of {limit} bytes after {len(found)} elements: "
                    "browse with a depth (parameter 1), e.g. depth 1, and descend into the children you need"
                )
            found.append(element)
    # The entries are built only once the reply is known to fit.
    return [{0: e.primary_key, 1: e.uuid, 2: int(e.category)} for e in found]


def _walk(start: Element, depth: int | None) -> Iterator[Element]:
    """The descendants of `start` in depth-first pre-order, down to `depth` levels (None = all)."""
    if depth is None:
        stack = start.children[::-1]
        while stack:
            element = stack.pop()
            yield element
            if element.children:
                stack += element.children[::-1]
        return
    levels: list[tuple[Element, int]] = [(c, 1) for c in reversed(start.children)]
    while levels:
        element, level = levels.pop()
        yield element
        if level < depth and element.children:
            levels += [(c, level + 1) for c in reversed(element.children)]


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


def meta_data(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    p = parse(params, _META_DATA)
    for identifier in p[1]:
        if type(identifier) is not int or identifier not in _META_VALUES:
            raise invalid("invalid meta data identifier")
    element = find_element(ctx.state, p[0])
    return {identifier: _META_VALUES[identifier](element) for identifier in p[1]}


_LOOKUP = (Param(0, "primary_key", "a text string", is_text),)


def lookup(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    primary_key = parse(params, _LOOKUP)[0]
    if not primary_key:
        raise invalid("parameter 0 (primary_key) must not be empty")
    element = ctx.state.model.lookup(primary_key)
    if element is None:
        raise ProtocolError(ErrorCode.UNKNOWN_ELEMENT, f"unknown element {primary_key!r}")
    return element.uuid

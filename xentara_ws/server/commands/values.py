"""read (4) and write (5) of element attributes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from ...model.element import AttributeSpec
from ...model.values import convert
from ...protocol.errors import ErrorCode, ProtocolError
from ...protocol.identifiers import Stage
from ..params import Param, anything, is_array, is_attribute_id, parse, uuid_param
from ..wire import CACHED_KEYS_MAX, encoded_access_denied, encoded_values
from .common import check_attribute_id, find_element, principals
from .context import NO_RESULT, CommandContext, Encoded

_READ = (uuid_param(0, "element_uuid"), Param(1, "attribute_ids", "an array", is_array))


_CHECKED_KEY_LISTS: set[tuple[Any, ...]] = set()
"""Lists of standard attribute ids already found valid, so that an HMI's repeated read checks its
list once (attribute UUIDs are checked every time: a client must not fill this with its own)."""
CHECKED_KEY_LISTS_MAX = 1024


def read(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    # The hot path of every HMI: the usual well-formed request skips the generic parameter check.
    if type(params) is dict and len(params) == 2 and type(params.get(0)) is uuid.UUID and type(params.get(1)) is list:
        element_uuid, keys = params[0], tuple(params[1])
    else:
        p = parse(params, _READ)
        element_uuid, keys = p[0], tuple(p[1])
    if keys not in _CHECKED_KEY_LISTS:
        for key in keys:
            check_attribute_id(key, 1, "attribute_ids")
        if (
            len(_CHECKED_KEY_LISTS) < CHECKED_KEY_LISTS_MAX
            and len(keys) <= CACHED_KEYS_MAX
            and all(type(key) is int for key in keys)
        ):
            _CHECKED_KEY_LISTS.add(keys)
    element = find_element(ctx.state, element_uuid)
    if not ctx.state.access.can_read(ctx.connection.principal, element):
        return Encoded(encoded_access_denied(keys))
    return Encoded(encoded_values(element, keys))


_WRITE = (
    uuid_param(0, "element_uuid"),
    Param(1, "attribute_id", "an integer attribute id or an attribute UUID", is_attribute_id),
    Param(2, "attribute_value", "a value", anything),
    uuid_param(3, "sub_session_id", required=False),
)


def write(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    p = parse(params, _WRITE)
    check_attribute_id(p[1], 1, "attribute_id")
    state = ctx.state
    element = find_element(state, p[0])
    who = principals(ctx, p.get(3))
    spec: AttributeSpec = element.attribute(p[1])
    if not spec.access.writable:
        raise ProtocolError(ErrorCode.READ_ONLY, f"attribute {spec.name} of {element.primary_key} is read only")
    if not all(state.access.can_write(principal, element) for principal in who):
        raise ProtocolError(ErrorCode.ACCESS_DENIED, f"writing {element.primary_key} is not permitted")
    if state.stage is not Stage.OPERATIONAL:
        raise ProtocolError(ErrorCode.WRITE_ERROR, f"cannot write while the server is {state.stage.name.lower()}")
    value = convert(spec.data_type, p[2])
    element.write(spec, value, state.model.clock())
    return NO_RESULT

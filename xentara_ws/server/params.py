"""Validation of a request's parameter map: every failure names the parameter (-32602)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..protocol.errors import ErrorCode, ProtocolError
from ..protocol.identifiers import NIL_UUID

Check = Callable[[Any], bool]


@dataclass(frozen=True, slots=True)
class Param:
    key: int
    name: str
    kind: str
    """What the value must be, as the error message says it: 'a UUID', 'an array', ..."""
    check: Check
    required: bool = True


def invalid(message: str) -> ProtocolError:
    return ProtocolError(ErrorCode.INVALID_PARAMETER, message)


def is_uuid(value: Any) -> bool:
    return type(value) is uuid.UUID


def is_uint(value: Any) -> bool:
    return type(value) is int and value >= 0


def is_text(value: Any) -> bool:
    return type(value) is str


def is_array(value: Any) -> bool:
    return isinstance(value, (list, tuple))


def is_map(value: Any) -> bool:
    return isinstance(value, Mapping)


def is_attribute_id(value: Any) -> bool:
    return (type(value) is int) or type(value) is uuid.UUID


def anything(value: Any) -> bool:
    return True


def uuid_param(key: int, name: str, required: bool = True) -> Param:
    return Param(key, name, "a UUID", is_uuid, required)


def parse(params: Mapping[Any, Any] | None, spec: Sequence[Param]) -> dict[int, Any]:
    """Check `params` against `spec` and return it as a dict keyed by parameter id."""
    given = params if params is not None else {}
    known = {p.key: p for p in spec}
    for key in given:
        if key not in known:
            raise invalid(f"unknown parameter {key!r}")
    result: dict[int, Any] = {}
    for p in spec:
        if p.key in given:
            value = given[p.key]
            if not p.check(value):
                raise invalid(f"parameter {p.key} ({p.name}) must be {p.kind}")
            result[p.key] = value
        elif p.required:
            raise invalid(f"parameter {p.key} ({p.name}) is missing")
    return result


def not_nil(value: uuid.UUID, p_key: int, name: str) -> uuid.UUID:
    if value == NIL_UUID:
        raise invalid(f"parameter {p_key} ({name}) must not be the nil UUID")
    return value

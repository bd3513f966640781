"""How attribute values travel in read results and events: 121(value) or 122({0: code, 1: text})."""

from __future__ import annotations

from typing import Any

from cbor2 import CBORTag

from ..model.element import Element
from ..protocol.codec import TAG_ALTERNATIVE_0, TAG_ALTERNATIVE_1
from ..protocol.errors import ErrorCode, ProtocolError

ACCESS_DENIED_VALUE = CBORTag(TAG_ALTERNATIVE_1, {0: int(ErrorCode.ACCESS_DENIED), 1: "access denied"})
_NO_VALUE = CBORTag(TAG_ALTERNATIVE_1, {0: int(ErrorCode.READ_ERROR), 1: "no value has been produced yet"})


def error_value(error: ProtocolError) -> CBORTag:
    return CBORTag(TAG_ALTERNATIVE_1, {0: int(error.code), 1: error.message})


def read_value(element: Element, key: Any) -> CBORTag:
    """One attribute of an element, tagged for the wire."""
    try:
        spec = element.attribute(key)
        value = element.read(spec)
    except ProtocolError as error:
        return error_value(error)
    if value is None:
        return _NO_VALUE
    return CBORTag(TAG_ALTERNATIVE_0, value)

"""How attribute values travel in read results and events: 121(value) or 122({0: code, 1: text})."""

from __future__ import annotations

from typing import Any

from cbor2 import CBORTag

from ..model.element import Element
from ..protocol.codec import TAG_ALTERNATIVE_0, TAG_ALTERNATIVE_1, encode
from ..protocol.errors import ErrorCode, ProtocolError
from ..protocol.templates import encode_map

ACCESS_DENIED_VALUE = CBORTag(TAG_ALTERNATIVE_1, {0: int(ErrorCode.ACCESS_DENIED), 1: "access denied"})
CACHED_KEYS_MAX = 32
"""Key lists longer than this are encoded for each read and never cached."""
CACHE_ENTRIES_PER_ELEMENT = 16
"""Least-recently-used key lists kept per element."""
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


def encoded_values(element: Element, keys: tuple[Any, ...]) -> bytes:
    """The CBOR map `{key: 121(v) | 122(err)}` for these keys, shared by reads and events.

    Cached on the element until its next change, so one change is encoded once however many
    clients read it or are subscribed to it.
    """
    if len(keys) > CACHED_KEYS_MAX:
        # Client-chosen long key lists are not worth keeping: they would pin their size per element.
        return encode_map({key: read_value(element, key) for key in keys})
    cache = element.wire_cache
    cached = cache.pop(keys, None)
    if cached is not None and cached[0] == element.version:
        cache[keys] = cached  # most recently used last (dicts keep insertion order)
        return cached[1]  # type: ignore[no-any-return]
    data = encode_map({key: read_value(element, key) for key in keys})
    while len(cache) >= CACHE_ENTRIES_PER_ELEMENT:
        del cache[next(iter(cache))]  # least recently used
    cache[keys] = (element.version, data)
    return data


def encoded_access_denied(keys: tuple[Any, ...]) -> bytes:
    return encode({key: ACCESS_DENIED_VALUE for key in keys})

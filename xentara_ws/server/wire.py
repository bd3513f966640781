"""How attribute values travel in read results and events: 121(value) or 122({0: code, 1: text})."""

from __future__ import annotations

from typing import Any

from ..model.element import Element
from ..protocol.alternatives import Alternative, success_value
from ..protocol.alternatives import error_value as _error_value
from ..protocol.codec import encode
from ..protocol.errors import ErrorCode, ProtocolError
from ..protocol.templates import encode_map

ACCESS_DENIED_VALUE = _error_value(ErrorCode.ACCESS_DENIED, "access denied")
CACHED_KEYS_MAX = 32
"""Key lists longer than this are encoded for each read and never cached."""
CACHE_ENTRIES_PER_ELEMENT = 16
"""Key lists kept per element (the oldest kept go first)."""
_NO_VALUE = _error_value(ErrorCode.READ_ERROR, "no value has been produced yet")


def error_value(error: ProtocolError) -> Alternative:
    return _error_value(error.code, error.message)


def read_value(element: Element, key: Any) -> Alternative:
    """One attribute of an element, tagged for the wire."""
    try:
        spec = element.attribute(key)
        value = element.read(spec)
    except ProtocolError as error:
        return error_value(error)
    if value is None:
        return _NO_VALUE
    return success_value(value)


CACHED_ELEMENTS_MAX = 65_536
"""Elements whose encodings are kept at once (the oldest kept go first): a global bound."""


class WireCache:
    """Encodings of elements' values shared by every connection, until the element's next change.

    Keyed by (element, key list) and checked against `element.version`, which the model bumps on
    every notification, so a stale entry is never served and the model knows nothing of encodings.
    A hit is two dictionary lookups and nothing else (every read of an HMI passes here); when a
    bound is reached the entry kept longest goes first, and an element in use that went is
    encoded again on its next read.
    """

    def __init__(self, max_elements: int = CACHED_ELEMENTS_MAX) -> None:
        self.max_elements = max_elements
        # element -> {keys: (version, bytes)}; both dicts in the order their entries were kept.
        self._entries: dict[Element, dict[tuple[Any, ...], tuple[int, bytes]]] = {}

    def encoded_values(self, element: Element, keys: tuple[Any, ...]) -> bytes:
        per_element = self._entries.get(element)
        if per_element is not None:
            cached = per_element.get(keys)
            if cached is not None and cached[0] == element.version:
                return cached[1]
        data = encode_map({key: read_value(element, key) for key in keys})
        if len(keys) > CACHED_KEYS_MAX:
            return data  # client-chosen long key lists are not worth keeping: they would pin their size
        if per_element is None:
            entries = self._entries
            while len(entries) >= self.max_elements:
                del entries[next(iter(entries))]
            per_element = entries[element] = {}
        elif keys not in per_element:
            while len(per_element) >= CACHE_ENTRIES_PER_ELEMENT:
                del per_element[next(iter(per_element))]
        per_element[keys] = (element.version, data)
        return data

    def cached_key_lists(self, element: Element) -> list[tuple[Any, ...]]:
        """The key lists of this element whose encoding is kept, oldest first."""
        return list(self._entries.get(element, ()))

    def __len__(self) -> int:
        return len(self._entries)


WIRE_CACHE = WireCache()
"""The process's cache: encodings depend only on the element, so every server may share it."""


encoded_values = WIRE_CACHE.encoded_values
"""`encoded_values(element, keys)`: the CBOR map `{key: 121(v) | 122(err)}` for these keys, shared by
reads and events; cached until the element's next change, so one change is encoded once however many
clients read it or are subscribed to it."""


def encoded_access_denied(keys: tuple[Any, ...]) -> bytes:
    return encode({key: ACCESS_DENIED_VALUE for key in keys})

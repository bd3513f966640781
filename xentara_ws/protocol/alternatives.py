"""The spec's tagged alternatives 121, 122 and 123 (which of several shapes an item has): built and taken apart."""

from __future__ import annotations

from typing import Any

from cbor2 import CBORTag

from .codec import TAG_ALTERNATIVE_0, TAG_ALTERNATIVE_1, TAG_ALTERNATIVE_2


def alternative(index: int, content: Any) -> Any:
    """`121(content)`, `122(content)` or `123(content)` for index 0, 1 or 2, ready to encode."""
    if not 0 <= index <= TAG_ALTERNATIVE_2 - TAG_ALTERNATIVE_0:
        raise ValueError(f"the protocol has alternatives 0, 1 and 2, not {index}")
    return CBORTag(TAG_ALTERNATIVE_0 + index, content)


def alternative_of(item: Any) -> tuple[int | None, Any]:
    """(index, content) of a decoded alternative; (None, item) for anything that is not one."""
    if isinstance(item, CBORTag) and TAG_ALTERNATIVE_0 <= item.tag <= TAG_ALTERNATIVE_2:
        return item.tag - TAG_ALTERNATIVE_0, item.value
    return None, item


Alternative = CBORTag
"""The type of a tagged alternative as built and decoded (for annotations outside the core)."""


def success_value(value: Any) -> Alternative:
    """`121(value)`: a value that was produced (read results, events); the hot path, so no checks."""
    return CBORTag(TAG_ALTERNATIVE_0, value)


def error_value(code: int, message: str) -> Alternative:
    """`122({0: code, 1: message})`: an item that failed with an error (spec 7)."""
    return CBORTag(TAG_ALTERNATIVE_1, {0: int(code), 1: message})


def is_alternative(item: Any) -> bool:
    """Whether a decoded item is one of the alternatives 121, 122 or 123."""
    return isinstance(item, CBORTag) and TAG_ALTERNATIVE_0 <= item.tag <= TAG_ALTERNATIVE_2

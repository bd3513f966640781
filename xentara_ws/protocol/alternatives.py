"""The spec's tagged alternatives 121, 122 and 123 (which of several shapes an item has): built and taken apart."""

from __future__ import annotations

from typing import Any

from cbor2 import CBORTag

from .codec import TAG_ALTERNATIVE_0, TAG_ALTERNATIVE_2


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

"""CBOR diagnostic notation (RFC 8949 §8, EDN) for what the kit sent and received."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from typing import Any

from cbor2 import CBORSimpleValue, CBORTag, undefined


def render(item: Any) -> str:
    """One CBOR data item (as decoded by `wire.decode_raw` or built for sending) in EDN."""
    if item is None:
        return "null"
    if item is undefined:
        return "undefined"
    if item is True:
        return "true"
    if item is False:
        return "false"
    if isinstance(item, int):
        return str(item)
    if isinstance(item, float):
        return _float(item)
    if isinstance(item, str):
        return _text(item)
    if isinstance(item, (bytes, bytearray, memoryview)):
        return "h'" + bytes(item).hex() + "'"
    if isinstance(item, uuid.UUID):
        return "37(h'" + item.hex + "')"
    if isinstance(item, CBORTag):
        return f"{item.tag}({render(item.value)})"
    if isinstance(item, CBORSimpleValue):
        return f"simple({item.value})"
    if isinstance(item, Mapping):
        return "{" + ", ".join(f"{render(k)}: {render(v)}" for k, v in item.items()) + "}"
    if isinstance(item, (list, tuple)):
        return "[" + ", ".join(render(v) for v in item) + "]"
    return f"<{type(item).__name__} {item!r}>"


def _float(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    text = repr(value)
    return text if any(c in text for c in ".en") else text + ".0"


def _text(value: str) -> str:
    out = ['"']
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def render_message(data: bytes | str | None, item: Any = None, *, decoded: bool = True, limit: int = 2000) -> str:
    """A sent or received WebSocket message: EDN when it decoded, else its hex (or the text frame)."""
    if data is None:
        return "(nothing)"
    if isinstance(data, str):
        text = "text frame " + _text(data)
    elif decoded:
        text = render(item)
    else:
        text = "h'" + data.hex() + "' (not one well-formed CBOR item)"
    return text if len(text) <= limit else text[: limit - 1] + "…"

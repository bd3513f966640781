"""CBOR as a test kit sees it: every tag kept as sent, and diagnostic notation (RFC 8949 §8, EDN).

Unlike the server's strict profile (codec.py), items are decoded without interpreting tags, so that
a conformance case can check the exact wire form (a 1001 time stamp stays 1001, not a datetime).
Only a tag 37 around 16 bytes becomes a `uuid.UUID`, which is exactly its wire form `d8 25 50 …`.
"""

from __future__ import annotations

import io
import math
import uuid
from collections.abc import Mapping
from typing import Any, Final

import cbor2
from cbor2 import CBORSimpleValue, CBORTag, undefined

Tagged = CBORTag
"""A tagged item as decode_raw returns it (`.tag`, `.value`); build one with `Tagged(tag, value)`."""

# Tags cbor2 would otherwise turn into Python objects; the kit wants to see them as they came.
_INTERPRETED_TAGS: Final = (0, 1, 2, 3, 4, 5, 25, 28, 29, 30, 35, 36, 37, 52, 54, 100, 256, 258, 260, 261, 1004, 55799)


class WireError(ValueError):
    """The bytes are not exactly one well-formed CBOR item."""


def _keep(tag: int) -> Any:
    def keep(value: Any, immutable: bool) -> Any:
        return CBORTag(tag, value)

    return keep


_DECODERS: Final[dict[int, Any]] = {tag: _keep(tag) for tag in _INTERPRETED_TAGS}


def _tag_hook(tag: CBORTag, immutable: bool = False) -> Any:
    return tag


def _plain(item: Any) -> Any:
    """Frozen containers (cbor2 freezes map keys and tag contents) back to lists and dicts."""
    if isinstance(item, CBORTag):
        value = _plain(item.value)
        if item.tag == 37 and isinstance(value, bytes) and len(value) == 16:
            return uuid.UUID(bytes=value)
        return CBORTag(item.tag, value)
    if isinstance(item, (list, tuple)):
        return [_plain(v) for v in item]
    if isinstance(item, dict) or type(item).__name__ == "frozendict":
        return {_key(k): _plain(v) for k, v in item.items()}
    return item


def _key(key: Any) -> Any:
    plain = _plain(key)
    # A list cannot be a dict key; keep the frozen form for such (odd) keys.
    return key if isinstance(plain, (list, dict)) else plain


def decode_raw(data: bytes) -> Any:
    """Exactly one CBOR item, or WireError."""
    stream = io.BytesIO(data)
    decoder = cbor2.CBORDecoder(stream, tag_hook=_tag_hook, semantic_decoders=_DECODERS, max_depth=64)
    try:
        item = decoder.decode()
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError) as error:
        raise WireError(str(error)) from None
    if stream.tell() != len(data):
        raise WireError(f"{len(data) - stream.tell()} trailing bytes after the CBOR item")
    return _plain(item)


def encode(item: Any, *, shortest_floats: bool = False) -> bytes:
    """Encode a message; `shortest_floats` sends 2.5 as a half float, like the vendor's client."""
    return cbor2.dumps(item, canonical=shortest_floats)


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

"""How the loader names places in the model document: JSON paths and kinds of JSON value."""

from __future__ import annotations

import functools
import json
from typing import Any


def json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path = index_path(path, part) if isinstance(part, int) else member_path(path, str(part))
    return path


def member_path(path: str, name: str) -> str:
    return path + _member_suffix(name)


@functools.lru_cache(maxsize=1024)  # the same few member names and designations, 100,000 times in a big model
def _member_suffix(name: str) -> str:
    return f".{name}" if name.isidentifier() else f"[{json.dumps(name, ensure_ascii=False)}]"


def index_path(path: str, i: int) -> str:
    return f"{path}[{i}]"


def kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    if value is None:
        return "null"
    return type(value).__name__

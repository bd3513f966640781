"""Validation of passwords.json: password hashes by user UUID."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from .json_files import Problems, is_uuid
from .types import FILE_NAMES


def load_passwords(doc: Mapping[str, Any], problems: Problems) -> dict[uuid.UUID, str]:
    file = FILE_NAMES["passwords"]
    out: dict[uuid.UUID, str] = {}
    for key, value in doc.items():
        if key == "$schema":
            continue
        if not is_uuid(key):
            problems.error(file, f"$.{key}", "member names must be user UUIDs")
            continue
        if not isinstance(value, str) or not value:
            problems.error(file, f"$.{key}", "must be a password hash string")
            continue
        out[uuid.UUID(key)] = value
    return out

"""Validation of users.json: users, their UUIDs and roles."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from .json_files import Problems, is_uuid, string_list
from .types import EVERYONE, FILE_NAMES, User


def load_users(doc: Mapping[str, Any], known_roles: frozenset[str], problems: Problems) -> dict[str, User]:
    file = FILE_NAMES["users"]
    raw = doc.get("users")
    users: dict[str, User] = {}
    if raw is None:
        return users
    if not isinstance(raw, list):
        problems.error(file, "$.users", "must be an array")
        return users
    uuids: set[uuid.UUID] = set()
    for i, item in enumerate(raw):
        ipath = f"$.users[{i}]"
        if not isinstance(item, Mapping):
            problems.error(file, ipath, "must be an object")
            continue
        name, uid = item.get("userName"), item.get("UUID")
        if not isinstance(name, str) or not name:
            problems.error(file, f"{ipath}.userName", "required non-empty string")
            continue
        if not is_uuid(uid):
            problems.error(file, f"{ipath}.UUID", f"required, must be a UUID, not {uid!r}")
            continue
        u = uuid.UUID(uid)
        if name in users:
            problems.error(file, f"{ipath}.userName", f"duplicate user name {name!r}")
            continue
        if u in uuids:
            problems.error(file, f"{ipath}.UUID", f"duplicate UUID {uid}")
            continue
        if ":" in name or any(ord(c) < 32 or ord(c) == 127 for c in name):
            problems.warn(
                file, f"{ipath}.userName", f"{name!r} contains ':' or control characters: no HTTP Basic login"
            )
        roles = string_list(item.get("roles"), file, f"{ipath}.roles", problems)
        for j, r in enumerate(roles):
            if r not in known_roles:
                problems.warn(file, f"{ipath}.roles[{j}]", f"undefined role {r!r} ignored")
        uuids.add(u)
        users[name] = User(name, u, tuple(r for r in roles if r in known_roles and r != EVERYONE))
    return users

"""Access control lists as model.json and security.json write them: the types and the shape check.

Pure and shared: the model loader checks element ACLs with it, the security configuration the global one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Report = Callable[[str, str], None]
"""Called with the JSON path of a problem and the problem."""


@dataclass(frozen=True)
class AclEntry:
    role: str
    allow: frozenset[str] = frozenset()
    deny: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Acl:
    inherit: bool = True
    entries: tuple[AclEntry, ...] = ()


def _names(value: Any, path: str, report: Report) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        report(path, "must be an array of non-empty strings")
        return frozenset()
    return frozenset(value)


def parse_acl(raw: Any, path: str, report: Report) -> Acl:
    """The ACL an object describes; each shape problem goes to `report`, and what is returned fails closed."""
    if raw is None:
        return Acl()
    if not isinstance(raw, Mapping):
        report(path, "ACL must be an object")
        return Acl(inherit=False)  # fail closed if someone ignores the error
    inherit = raw.get("inherit", True)
    if not isinstance(inherit, bool):
        report(f"{path}.inherit", "must be true or false")
        inherit = False
    entries: list[AclEntry] = []
    raw_entries = raw.get("entries", [])
    if not isinstance(raw_entries, list):
        report(f"{path}.entries", "must be an array")
        raw_entries = []
    for i, entry in enumerate(raw_entries):
        epath = f"{path}.entries[{i}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("role"), str) or not entry.get("role"):
            report(epath, "an ACL entry needs a non-empty string `role`")
            continue
        allow = _names(entry.get("allow"), f"{epath}.allow", report)
        deny = _names(entry.get("deny"), f"{epath}.deny", report)
        entries.append(AclEntry(entry["role"], allow, deny))
    return Acl(inherit=inherit, entries=tuple(entries))

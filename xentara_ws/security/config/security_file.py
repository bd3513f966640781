"""Validation of security.json: roles, entitlements, the global ACL and the server certificate."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .acl import parse_acl
from .json_files import Problems, is_uuid, resolve
from .types import BUILTIN_ENTITLEMENTS, EVERYONE, FILE_NAMES, Entitlement, Role, ServerCertificate


def load_named_list(
    raw: Any, file: str, path: str, problems: Problems, kind: str
) -> list[tuple[int, Mapping[str, Any], str, uuid.UUID]]:
    """Shared checks for roles and entitlements: an array of {name, UUID}, both unique."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        # The vendor page calls them "objects"; the schema and sample use arrays (reference §4).
        problems.error(file, path, f"{kind} must be an array of {{name, UUID}} objects")
        return []
    out = []
    names: set[str] = set()
    uuids: set[uuid.UUID] = set()
    for i, item in enumerate(raw):
        ipath = f"{path}[{i}]"
        if not isinstance(item, Mapping):
            problems.error(file, ipath, "must be an object")
            continue
        name, uid = item.get("name"), item.get("UUID")
        if not isinstance(name, str) or not name:
            problems.error(file, f"{ipath}.name", "required non-empty string")
            continue
        if name == EVERYONE:
            problems.error(file, f"{ipath}.name", "`Everyone` is built in and cannot be defined")
            continue
        if not is_uuid(uid):
            problems.error(file, f"{ipath}.UUID", f"required, must be a UUID, not {uid!r}")
            continue
        u = uuid.UUID(uid)
        if name in names:
            problems.error(file, f"{ipath}.name", f"duplicate {kind[:-1]} name {name!r}")
            continue
        if u in uuids:
            problems.error(file, f"{ipath}.UUID", f"duplicate UUID {uid}")
            continue
        names.add(name)
        uuids.add(u)
        out.append((i, item, name, u))
    return out


def load_security(doc: Mapping[str, Any], config_dir: Path, problems: Problems) -> dict[str, Any]:
    file = FILE_NAMES["security"]
    roles = {
        name: Role(name, u) for _, _, name, u in load_named_list(doc.get("roles"), file, "$.roles", problems, "roles")
    }
    entitlements: dict[str, Entitlement] = {}
    for i, item, name, u in load_named_list(doc.get("entitlements"), file, "$.entitlements", problems, "entitlements"):
        if name in BUILTIN_ENTITLEMENTS:
            problems.error(file, f"$.entitlements[{i}].name", f"{name!r} clashes with a built-in entitlement")
            continue
        default = item.get("default")
        if default not in (None, "allow", "deny"):
            problems.error(file, f"$.entitlements[{i}].default", 'must be "allow" or "deny"')
            default = None
        entitlements[name] = Entitlement(name, u, default)
    global_acl = parse_acl(doc.get("ACL"), file, "$.ACL", problems)

    server_certificate: ServerCertificate | None = None
    tls = doc.get("TLS")
    if tls is not None and not isinstance(tls, Mapping):
        problems.error(file, "$.TLS", "must be an object")
    elif isinstance(tls, Mapping) and tls.get("serverCertificate") is not None:
        sc = tls["serverCertificate"]
        cert, key = (sc.get("certificatePath"), sc.get("privateKeyPath")) if isinstance(sc, Mapping) else (None, None)
        if not isinstance(cert, str) or not cert or not isinstance(key, str) or not key:
            problems.error(file, "$.TLS.serverCertificate", "needs both certificatePath and privateKeyPath")
        else:
            cert_path = resolve(config_dir, cert, ("certs",))
            key_path = resolve(config_dir, key, ("private",))
            for p, member in ((cert_path, "certificatePath"), (key_path, "privateKeyPath")):
                if not p.is_file():
                    problems.error(file, f"$.TLS.serverCertificate.{member}", f"file not found: {p}")
            server_certificate = ServerCertificate(cert_path, key_path)
    if server_certificate is None:
        default_cert = config_dir / "certs" / "xentara.pem"
        default_key = config_dir / "private" / "xentara.key.pem"
        if default_cert.is_file() and default_key.is_file():
            server_certificate = ServerCertificate(default_cert, default_key)
        elif default_cert.is_file():
            problems.warn("certs/xentara.pem", "$", "server certificate without private/xentara.key.pem: ignored")
    return {
        "roles": roles,
        "entitlements": entitlements,
        "global_acl": global_acl,
        "server_certificate": server_certificate,
    }

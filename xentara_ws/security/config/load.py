"""Loading a whole configuration folder: every file read, validated and put together."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .client_certs_file import load_client_certs
from .config_file import load_http_server
from .json_files import Problems, object_root, read_json, schema_validate
from .oauth2_file import load_oauth2
from .passwords_file import load_passwords
from .security_file import load_security
from .types import EVERYONE, FILE_NAMES, ConfigurationError, XentaraConfiguration
from .users_file import load_users


def load_configuration(
    config_dir: str | os.PathLike[str], schema_dir: str | os.PathLike[str] | None = None
) -> XentaraConfiguration:
    """Read every security-relevant file of a Xentara configuration folder; missing files use the defaults.

    `schema_dir` (or env XENTARA_SCHEMA_DIR) holds the vendor's schema-xentara-*.json files; when given,
    each file is validated against its schema as well as by our own checks. Raises ConfigurationError.
    """
    folder = Path(config_dir)
    if not folder.is_dir():
        raise ConfigurationError([f"{folder}: configuration folder not found"])
    if schema_dir is None and os.environ.get("XENTARA_SCHEMA_DIR"):
        schema_dir = os.environ["XENTARA_SCHEMA_DIR"]
    schemas = Path(schema_dir) if schema_dir is not None else None
    problems = Problems()
    docs: dict[str, Mapping[str, Any]] = {}
    loaded: list[Path] = []
    for name, file_name in FILE_NAMES.items():
        path = folder / file_name
        if not path.is_file():
            docs[name] = {}
            continue
        loaded.append(path)
        doc = read_json(path, problems)
        if doc is not None and schemas is not None:
            schema_validate(name, doc, schemas, problems)
        docs[name] = object_root(doc, file_name, problems)

    http_server = load_http_server(docs["config"], problems)
    if http_server is None:
        problems.warn(FILE_NAMES["config"], "$.httpServer", "absent: a real Xentara runs no HTTP/WebSocket server")
    security = load_security(docs["security"], folder, problems)
    known_roles = frozenset(security["roles"]) | {EVERYONE}
    users = load_users(docs["users"], known_roles, problems)
    passwords = load_passwords(docs["passwords"], problems)
    user_uuids = {u.uuid for u in users.values()}
    for u in passwords:
        if u not in user_uuids:
            problems.warn(FILE_NAMES["passwords"], f"$.{u}", "no user with this UUID in users.json")
    oauth2 = load_oauth2(docs["oauth2"], folder, known_roles, problems)
    client_certs = load_client_certs(docs["client-certs"], folder, known_roles, problems)
    if problems.errors:
        raise ConfigurationError(problems.errors)
    return XentaraConfiguration(
        config_dir=folder,
        http_server=http_server,
        server_certificate=security["server_certificate"],
        roles=security["roles"],
        entitlements=security["entitlements"],
        global_acl=security["global_acl"],
        users=users,
        passwords=passwords,
        oauth2=oauth2,
        client_certs=client_certs,
        warnings=tuple(problems.warnings),
        loaded_files=tuple(loaded),
    )

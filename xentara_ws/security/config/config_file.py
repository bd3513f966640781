"""Validation of config.json: the HTTP server and its authentication."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .json_files import SCOPE_TOKEN, Problems, string_list
from .types import DEFAULT_PORT, DEFAULT_REALM, DEFAULT_SCHEMES, FILE_NAMES, HttpAuthentication, HttpServer

_REALM = re.compile(r"^[\x20-\x7e]*$")


def load_http_server(doc: Mapping[str, Any], problems: Problems) -> HttpServer | None:
    file = FILE_NAMES["config"]
    raw = doc.get("httpServer")
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.error(file, "$.httpServer", "must be an object")
        return None
    port = raw.get("port")
    if port is None:
        problems.error(file, "$.httpServer.port", "required when httpServer is given")
        port = DEFAULT_PORT
    elif isinstance(port, bool) or not isinstance(port, (int, float)) or port != int(port) or not 1 <= port <= 65535:
        problems.error(file, "$.httpServer.port", f"must be an integer 1-65535, not {port!r}")
        port = DEFAULT_PORT
    auth_raw = raw.get("authentication")
    if auth_raw is None:
        return HttpServer(port=int(port))
    if not isinstance(auth_raw, Mapping):
        problems.error(file, "$.httpServer.authentication", "must be an object")
        return HttpServer(port=int(port))
    realm = auth_raw.get("realm", DEFAULT_REALM)
    if not isinstance(realm, str) or not _REALM.match(realm):
        problems.error(file, "$.httpServer.authentication.realm", "must be printable ASCII text")
        realm = DEFAULT_REALM
    schemes = DEFAULT_SCHEMES
    if "schemes" in auth_raw:
        given = string_list(auth_raw["schemes"], file, "$.httpServer.authentication.schemes", problems)
        for i, s in enumerate(given):
            if s not in ("Basic", "Bearer"):
                problems.error(
                    file, f"$.httpServer.authentication.schemes[{i}]", f"unknown scheme {s!r} (Basic, Bearer)"
                )
        schemes = tuple(dict.fromkeys(s for s in given if s in ("Basic", "Bearer")))
        if not schemes:
            problems.warn(file, "$.httpServer.authentication.schemes", "no scheme enabled: nobody can connect")
    scope: tuple[str, ...] | None = None
    if "scope" in auth_raw:
        scope = string_list(auth_raw["scope"], file, "$.httpServer.authentication.scope", problems)
        for i, s in enumerate(scope):
            if not SCOPE_TOKEN.match(s):
                problems.error(file, f"$.httpServer.authentication.scope[{i}]", f"invalid scope token {s!r}")
    return HttpServer(
        port=int(port),
        authentication=HttpAuthentication(realm=realm, schemes=schemes, scope=scope),
        authentication_given=True,
    )

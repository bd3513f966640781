"""Load and validate a Xentara configuration folder (config, security, users, passwords, oauth2, client-certs).

Errors are collected for all files and raised together, each naming the file, the JSON path and the problem.
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

EVERYONE = "Everyone"
BUILTIN_ENTITLEMENTS: frozenset[str] = frozenset(
    {"read", "write", "websocket.connect", "suspend", "shutdown", "sessions.admin"}
)
"""The built-in entitlements: the three documented ones, the stage-control names we chose (reference §7.5),
and sessions.admin (administration of sub-sessions, xentara-ws extensions §3)."""

DEFAULT_REALM = "Xentara"
DEFAULT_SCHEMES: tuple[str, ...] = ("Bearer", "Basic")  # reference §2 [PROPOSAL]
DEFAULT_PORT = 8080

FILE_NAMES: dict[str, str] = {
    "config": "config.json",
    "security": "security.json",
    "users": "users.json",
    "passwords": "passwords.json",
    "oauth2": "oauth2.json",
    "client-certs": "client-certs.json",
}

_NQCHAR_SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")  # RFC 6749 §3.3 scope-token
_REALM = re.compile(r"^[\x20-\x7e]*$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# Tolerant member names for an issuer's undocumented `verification` object (reference §8.9).
_PEM_KEYS = ("publicKey", "publicKeyPath", "publicKeyFile", "keyFile", "keyPath", "pem", "pemFile")
_JWKS_KEYS = ("jwks", "jwksPath", "jwksFile", "jwkSet", "jwkSetPath", "jwkSetFile", "keySet", "keySetPath")
ACCEPTED_JWT_ALGORITHMS: tuple[str, ...] = (
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES256K",
    "ES384",
    "ES512",
    "EdDSA",
    "RS256",
    "RS384",
    "RS512",
    "HS256",
    "HS384",
    "HS512",
)


class ConfigurationError(ValueError):
    """One or more problems in the configuration files; `problems` lists them all."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid Xentara configuration:\n  " + "\n  ".join(self.problems))


# -- the configuration objects ------------------------------------------------------------------


@dataclass(frozen=True)
class HttpAuthentication:
    realm: str = DEFAULT_REALM
    schemes: tuple[str, ...] = DEFAULT_SCHEMES
    scope: tuple[str, ...] | None = None
    """`httpServer.authentication.scope`; None = not given, fall back to oauth2.json's scope."""


@dataclass(frozen=True)
class HttpServer:
    port: int = DEFAULT_PORT
    authentication: HttpAuthentication = field(default_factory=HttpAuthentication)
    authentication_given: bool = False


@dataclass(frozen=True)
class AclEntry:
    role: str
    allow: frozenset[str] = frozenset()
    deny: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Acl:
    inherit: bool = True
    entries: tuple[AclEntry, ...] = ()


@dataclass(frozen=True)
class Role:
    name: str
    uuid: uuid.UUID


@dataclass(frozen=True)
class Entitlement:
    name: str
    uuid: uuid.UUID
    default: str | None = None  # "allow" | "deny" | None


@dataclass(frozen=True)
class User:
    name: str
    uuid: uuid.UUID
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServerCertificate:
    certificate_path: Path
    private_key_path: Path


@dataclass(frozen=True)
class NonConformance:
    allow_generic_jwt: bool = False
    allow_missing_typ: bool = False
    allow_missing_iat: bool = False
    allow_missing_exp: bool = False
    allow_missing_sub: bool = False
    allow_missing_client_id: bool = False
    allow_missing_jti: bool = False


@dataclass(frozen=True)
class Issuer:
    iss: str
    aud: str
    roles: tuple[str, ...] = ()
    authorization_claims: Mapping[str, Any] = field(default_factory=dict)
    """claim name -> "implicit" | {claim value: [role, ...]}"""
    public_key_path: Path | None = None
    jwks_path: Path | None = None
    algorithms: tuple[str, ...] = ACCEPTED_JWT_ALGORITHMS
    non_conformance: NonConformance = field(default_factory=NonConformance)


@dataclass(frozen=True)
class OAuth2Config:
    scope: tuple[str, ...] = ()
    issuers: tuple[Issuer, ...] = ()


@dataclass(frozen=True)
class CertificateRule:
    """One client-certs.json rule; `kind` is "fingerprint", "certificate" or "trust"."""

    kind: str
    roles: tuple[str, ...] = ()
    fingerprint: str | None = None  # normalised lower-case hex
    certificate_path: Path | None = None
    issuer: str | None = None
    subject: str | None = None
    subject_prefix: str | None = None
    serial_number: str | None = None  # normalised lower-case hex
    ski: str | None = None
    public_key_sha256: str | None = None
    public_key_sha1: str | None = None
    ntds_object_sid: str | None = None


@dataclass(frozen=True)
class RootCertificate:
    issuer: str | None
    certificate_path: Path


@dataclass(frozen=True)
class ClientCertsConfig:
    rules: tuple[CertificateRule, ...] = ()
    root_certificates: tuple[RootCertificate, ...] = ()


@dataclass(frozen=True)
class XentaraConfiguration:
    """Everything the security package needs from a Xentara configuration folder."""

    config_dir: Path
    http_server: HttpServer | None
    """None when config.json has no `httpServer`: a real Xentara then has no WebSocket interface."""
    server_certificate: ServerCertificate | None
    """From security.json TLS.serverCertificate or the certs/ + private/ defaults; None if neither exists."""
    roles: Mapping[str, Role] = field(default_factory=dict)
    entitlements: Mapping[str, Entitlement] = field(default_factory=dict)
    global_acl: Acl = field(default_factory=Acl)
    users: Mapping[str, User] = field(default_factory=dict)
    """By userName."""
    passwords: Mapping[uuid.UUID, str] = field(default_factory=dict)
    oauth2: OAuth2Config = field(default_factory=OAuth2Config)
    client_certs: ClientCertsConfig = field(default_factory=ClientCertsConfig)
    warnings: tuple[str, ...] = ()
    loaded_files: tuple[Path, ...] = ()

    @property
    def http_authentication(self) -> HttpAuthentication:
        """The effective HTTP authentication settings (defaults if config.json gives none)."""
        return self.http_server.authentication if self.http_server is not None else HttpAuthentication()

    @property
    def effective_scope(self) -> tuple[str, ...]:
        """Required token scope: httpServer.authentication.scope if given, else oauth2.json scope."""
        given = self.http_authentication.scope
        return given if given is not None else self.oauth2.scope

    @property
    def known_roles(self) -> frozenset[str]:
        return frozenset(self.roles) | {EVERYONE}

    @property
    def known_entitlements(self) -> frozenset[str]:
        return frozenset(self.entitlements) | BUILTIN_ENTITLEMENTS


# -- loading ---------------------------------------------------------------------------------------


class _Problems:
    """Collects problems and warnings while loading, so that all are reported at once."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def error(self, file: str, path: str, message: str) -> None:
        self.errors.append(f"{file}: {path}: {message}")

    def warn(self, file: str, path: str, message: str) -> None:
        text = f"{file}: {path}: {message}"
        self.warnings.append(text)
        logger.warning("%s", text)


def _json_path(parts: Iterable[Any]) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _read_json(path: Path, problems: _Problems) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.error(path.name, "$", f"not UTF-8 text ({exc})")
        return None
    except OSError as exc:
        problems.error(path.name, "$", f"cannot be read ({exc.strerror})")
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        problems.error(path.name, f"line {exc.lineno}, column {exc.colno}", f"invalid JSON: {exc.msg}")
        return None


def _schema_validate(name: str, document: Any, schema_dir: Path, problems: _Problems) -> None:
    import jsonschema  # type: ignore[import-untyped]

    schema_file = schema_dir / f"schema-xentara-{name}.json"
    if not schema_file.is_file():
        problems.warn(FILE_NAMES[name], "$", f"no vendor schema {schema_file} to validate against")
        return
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    for err in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        problems.error(FILE_NAMES[name], _json_path(err.absolute_path), f"schema: {err.message}")


def _resolve(config_dir: Path, value: str, subdirs: Sequence[str]) -> Path:
    """Absolute paths as is; relative ones tried under each subdir, then the folder itself (reference §1.3)."""
    given = Path(value)
    if given.is_absolute():
        return given
    candidates = [config_dir / sub / given for sub in subdirs] + [config_dir / given]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return candidates[0]


def _is_uuid(value: Any) -> bool:
    return isinstance(value, str) and bool(_UUID.match(value))


def _string_list(value: Any, file: str, path: str, problems: _Problems) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problems.error(file, path, "must be an array of non-empty strings")
        return ()
    return tuple(value)


def normalise_hex(value: str) -> str:
    """Hex text without `:` or spaces, lower case (reference §6.2 [PROPOSAL])."""
    return value.replace(":", "").replace(" ", "").lower()


def parse_acl(raw: Any, file: str, path: str, problems: _Problems | None = None) -> Acl:
    """An ACL object from security.json or model.json; shape errors are reported to `problems`."""
    sink = problems if problems is not None else _Problems()
    if raw is None:
        return Acl()
    if not isinstance(raw, Mapping):
        sink.error(file, path, "ACL must be an object")
        return Acl(inherit=False)  # fail closed if someone ignores the error
    inherit = raw.get("inherit", True)
    if not isinstance(inherit, bool):
        sink.error(file, f"{path}.inherit", "must be true or false")
        inherit = False
    entries: list[AclEntry] = []
    raw_entries = raw.get("entries", [])
    if not isinstance(raw_entries, list):
        sink.error(file, f"{path}.entries", "must be an array")
        raw_entries = []
    for i, entry in enumerate(raw_entries):
        epath = f"{path}.entries[{i}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("role"), str) or not entry.get("role"):
            sink.error(file, epath, "an ACL entry needs a non-empty string `role`")
            continue
        allow = _string_list(entry.get("allow"), file, f"{epath}.allow", sink)
        deny = _string_list(entry.get("deny"), file, f"{epath}.deny", sink)
        entries.append(AclEntry(entry["role"], frozenset(allow), frozenset(deny)))
    if problems is None and sink.errors:
        raise ConfigurationError(sink.errors)
    return Acl(inherit=inherit, entries=tuple(entries))


def _object_root(doc: Any, file: str, problems: _Problems) -> Mapping[str, Any]:
    if doc is None:
        return {}
    if not isinstance(doc, Mapping):
        problems.error(file, "$", "the file must hold a JSON object")
        return {}
    return doc


def _load_http_server(doc: Mapping[str, Any], problems: _Problems) -> HttpServer | None:
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
        given = _string_list(auth_raw["schemes"], file, "$.httpServer.authentication.schemes", problems)
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
        scope = _string_list(auth_raw["scope"], file, "$.httpServer.authentication.scope", problems)
        for i, s in enumerate(scope):
            if not _NQCHAR_SCOPE.match(s):
                problems.error(file, f"$.httpServer.authentication.scope[{i}]", f"invalid scope token {s!r}")
    return HttpServer(
        port=int(port),
        authentication=HttpAuthentication(realm=realm, schemes=schemes, scope=scope),
        authentication_given=True,
    )


def _load_named_list(
    raw: Any, file: str, path: str, problems: _Problems, kind: str
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
        if not _is_uuid(uid):
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


def _load_security(doc: Mapping[str, Any], config_dir: Path, problems: _Problems) -> dict[str, Any]:
    file = FILE_NAMES["security"]
    roles = {
        name: Role(name, u) for _, _, name, u in _load_named_list(doc.get("roles"), file, "$.roles", problems, "roles")
    }
    entitlements: dict[str, Entitlement] = {}
    for i, item, name, u in _load_named_list(doc.get("entitlements"), file, "$.entitlements", problems, "entitlements"):
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
            cert_path = _resolve(config_dir, cert, ("certs",))
            key_path = _resolve(config_dir, key, ("private",))
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


def _load_users(doc: Mapping[str, Any], known_roles: frozenset[str], problems: _Problems) -> dict[str, User]:
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
        if not _is_uuid(uid):
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
        roles = _string_list(item.get("roles"), file, f"{ipath}.roles", problems)
        for j, r in enumerate(roles):
            if r not in known_roles:
                problems.warn(file, f"{ipath}.roles[{j}]", f"undefined role {r!r} ignored")
        uuids.add(u)
        users[name] = User(name, u, tuple(r for r in roles if r in known_roles and r != EVERYONE))
    return users


def _load_passwords(doc: Mapping[str, Any], problems: _Problems) -> dict[uuid.UUID, str]:
    file = FILE_NAMES["passwords"]
    out: dict[uuid.UUID, str] = {}
    for key, value in doc.items():
        if key == "$schema":
            continue
        if not _is_uuid(key):
            problems.error(file, f"$.{key}", "member names must be user UUIDs")
            continue
        if not isinstance(value, str) or not value:
            problems.error(file, f"$.{key}", "must be a password hash string")
            continue
        out[uuid.UUID(key)] = value
    return out


def _load_oauth2(
    doc: Mapping[str, Any], config_dir: Path, known_roles: frozenset[str], problems: _Problems
) -> OAuth2Config:
    file = FILE_NAMES["oauth2"]
    scope = _string_list(doc.get("scope"), file, "$.scope", problems)
    for i, s in enumerate(scope):
        if not _NQCHAR_SCOPE.match(s):
            problems.error(file, f"$.scope[{i}]", f"invalid scope token {s!r}")
    raw = doc.get("issuers")
    issuers: list[Issuer] = []
    if raw is not None and not isinstance(raw, list):
        problems.error(file, "$.issuers", "must be an array")
        raw = None
    seen: set[str] = set()
    for i, item in enumerate(raw or []):
        ipath = f"$.issuers[{i}]"
        if not isinstance(item, Mapping):
            problems.error(file, ipath, "must be an object")
            continue
        iss, aud = item.get("iss"), item.get("aud")
        if not isinstance(iss, str) or not iss:
            problems.error(file, f"{ipath}.iss", "required non-empty string")
            continue
        if not isinstance(aud, str) or not aud:
            problems.error(file, f"{ipath}.aud", "required non-empty string")
            continue
        if iss in seen:
            problems.error(file, f"{ipath}.iss", f"duplicate issuer {iss!r}")
            continue
        roles = _string_list(item.get("roles"), file, f"{ipath}.roles", problems)
        for j, r in enumerate(roles):
            if r not in known_roles:
                problems.warn(file, f"{ipath}.roles[{j}]", f"undefined role {r!r} ignored")
        claims = item.get("authorizationClaims", {})
        if not isinstance(claims, Mapping) or not all(
            v == "implicit" or (isinstance(v, Mapping) and all(isinstance(rs, list) for rs in v.values()))
            for v in claims.values()
        ):
            problems.error(file, f"{ipath}.authorizationClaims", 'claim -> "implicit" or {value: [roles]} expected')
            claims = {}
        nc_raw = item.get("nonConformance", {})
        nc_fields = {
            "allowGenericJwt": "allow_generic_jwt",
            "allowMissingTyp": "allow_missing_typ",
            "allowMissingIat": "allow_missing_iat",
            "allowMissingExp": "allow_missing_exp",
            "allowMissingSub": "allow_missing_sub",
            "allowMissingClientId": "allow_missing_client_id",
            "allowMissingJti": "allow_missing_jti",
        }
        nc_args: dict[str, bool] = {}
        if not isinstance(nc_raw, Mapping):
            problems.error(file, f"{ipath}.nonConformance", "must be an object")
            nc_raw = {}
        for k, v in nc_raw.items():
            if k not in nc_fields or not isinstance(v, bool):
                problems.error(file, f"{ipath}.nonConformance.{k}", "unknown switch or not a boolean")
                continue
            nc_args[nc_fields[k]] = v
        verification = item.get("verification")
        if not isinstance(verification, Mapping):
            problems.error(file, f"{ipath}.verification", "required object")
            continue
        pem = next((verification[k] for k in _PEM_KEYS if isinstance(verification.get(k), str)), None)
        jwks = next((verification[k] for k in _JWKS_KEYS if isinstance(verification.get(k), str)), None)
        algorithms: tuple[str, ...] = ACCEPTED_JWT_ALGORITHMS
        if "algorithms" in verification:
            given = _string_list(verification["algorithms"], file, f"{ipath}.verification.algorithms", problems)
            bad = [a for a in given if a not in ACCEPTED_JWT_ALGORITHMS]
            if bad:
                problems.error(
                    file, f"{ipath}.verification.algorithms", f"not accepted: {bad} (alg none is never allowed)"
                )
            algorithms = tuple(a for a in given if a in ACCEPTED_JWT_ALGORITHMS)
        if pem is None and jwks is None:
            # Member names are undocumented (reference §8.9): refuse this issuer, keep the rest working.
            problems.warn(
                file,
                f"{ipath}.verification",
                f"no key file understood (expected one of {_PEM_KEYS + _JWKS_KEYS}); issuer {iss!r} refused",
            )
            continue
        pem_path = _resolve(config_dir, pem, ("oauth2/keys", "oauth2")) if pem else None
        jwks_path = _resolve(config_dir, jwks, ("oauth2/jwks",)) if jwks else None
        for p in (pem_path, jwks_path):
            if p is not None and not p.is_file():
                problems.error(file, f"{ipath}.verification", f"key file not found: {p}")
        seen.add(iss)
        issuers.append(
            Issuer(
                iss=iss,
                aud=aud,
                roles=tuple(r for r in roles if r in known_roles and r != EVERYONE),
                authorization_claims=dict(claims),
                public_key_path=pem_path,
                jwks_path=jwks_path,
                algorithms=algorithms,
                non_conformance=NonConformance(**nc_args),
            )
        )
    return OAuth2Config(scope=scope, issuers=tuple(issuers))


def _hex_member(
    item: Mapping[str, Any],
    key: str,
    file: str,
    ipath: str,
    problems: _Problems,
    lengths: tuple[int, ...] | None = None,
) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        problems.error(file, f"{ipath}.{key}", "must be a string")
        return None
    norm = normalise_hex(value)
    if not norm or not re.fullmatch(r"[0-9a-f]+", norm) or (lengths is not None and len(norm) not in lengths):
        problems.error(file, f"{ipath}.{key}", f"not a valid hex value: {value!r}")
        return None
    return norm


def _load_client_certs(
    doc: Mapping[str, Any], config_dir: Path, known_roles: frozenset[str], problems: _Problems
) -> ClientCertsConfig:
    file = FILE_NAMES["client-certs"]
    rules: list[CertificateRule] = []
    raw_rules = doc.get("rules")
    if raw_rules is not None and not isinstance(raw_rules, list):
        problems.error(file, "$.rules", "must be an array")
        raw_rules = None
    trust_members = {
        "issuer",
        "subject",
        "subjectPrefix",
        "serialNumber",
        "SKI",
        "publicKeySHA256",
        "publicKeySHA1",
        "NTDSObjectSID",
    }
    for i, item in enumerate(raw_rules or []):
        ipath = f"$.rules[{i}]"
        if not isinstance(item, Mapping):
            problems.error(file, ipath, "must be an object")
            continue
        roles = _string_list(item.get("roles"), file, f"{ipath}.roles", problems)
        for j, r in enumerate(roles):
            if r not in known_roles:
                problems.warn(file, f"{ipath}.roles[{j}]", f"undefined role {r!r} ignored")
        roles = tuple(r for r in roles if r in known_roles and r != EVERYONE)
        members = set(item) - {"roles"}
        kinds = [k for k in ("fingerprint", "certificatePath", "issuer") if k in members]
        if len(kinds) != 1:
            problems.error(file, ipath, "a rule needs exactly one of fingerprint, certificatePath or issuer")
            continue
        allowed = (
            {"fingerprint"}
            if kinds[0] == "fingerprint"
            else {"certificatePath"}
            if kinds[0] == "certificatePath"
            else trust_members
        )
        unknown = members - allowed
        if unknown:
            problems.error(file, ipath, f"members not allowed in this kind of rule: {sorted(unknown)}")
            continue
        if kinds[0] == "fingerprint":
            fp = _hex_member(item, "fingerprint", file, ipath, problems, (40, 64))
            if fp:
                rules.append(CertificateRule(kind="fingerprint", roles=roles, fingerprint=fp))
        elif kinds[0] == "certificatePath":
            value = item["certificatePath"]
            if not isinstance(value, str) or not value:
                problems.error(file, f"{ipath}.certificatePath", "must be a non-empty string")
                continue
            path = _resolve(config_dir, value, ("certs",))
            if not path.is_file():
                problems.error(file, f"{ipath}.certificatePath", f"file not found: {path}")
                continue
            rules.append(CertificateRule(kind="certificate", roles=roles, certificate_path=path))
        else:
            strs = {}
            for k in ("issuer", "subject", "subjectPrefix", "NTDSObjectSID"):
                v = item.get(k)
                if v is not None and (not isinstance(v, str) or not v):
                    problems.error(file, f"{ipath}.{k}", "must be a non-empty string")
                    v = None
                strs[k] = v
            if strs["issuer"] is None:
                continue
            rules.append(
                CertificateRule(
                    kind="trust",
                    roles=roles,
                    issuer=strs["issuer"],
                    subject=strs["subject"],
                    subject_prefix=strs["subjectPrefix"],
                    ntds_object_sid=strs["NTDSObjectSID"],
                    serial_number=_hex_member(item, "serialNumber", file, ipath, problems),
                    ski=_hex_member(item, "SKI", file, ipath, problems),
                    public_key_sha256=_hex_member(item, "publicKeySHA256", file, ipath, problems, (64,)),
                    public_key_sha1=_hex_member(item, "publicKeySHA1", file, ipath, problems, (40,)),
                )
            )
    roots: list[RootCertificate] = []
    raw_roots = doc.get("rootCertificates")
    if raw_roots is not None and not isinstance(raw_roots, list):
        problems.error(file, "$.rootCertificates", "must be an array")
        raw_roots = None
    for i, item in enumerate(raw_roots or []):
        ipath = f"$.rootCertificates[{i}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("certificatePath"), str):
            problems.error(file, ipath, "needs a certificatePath string")
            continue
        path = _resolve(config_dir, item["certificatePath"], ("certs",))
        if not path.is_file():
            problems.error(file, f"{ipath}.certificatePath", f"file not found: {path}")
            continue
        issuer = item.get("issuer")
        roots.append(RootCertificate(issuer if isinstance(issuer, str) else None, path))
    return ClientCertsConfig(rules=tuple(rules), root_certificates=tuple(roots))


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
    problems = _Problems()
    docs: dict[str, Mapping[str, Any]] = {}
    loaded: list[Path] = []
    for name, file_name in FILE_NAMES.items():
        path = folder / file_name
        if not path.is_file():
            docs[name] = {}
            continue
        loaded.append(path)
        doc = _read_json(path, problems)
        if doc is not None and schemas is not None:
            _schema_validate(name, doc, schemas, problems)
        docs[name] = _object_root(doc, file_name, problems)

    http_server = _load_http_server(docs["config"], problems)
    if http_server is None:
        problems.warn(FILE_NAMES["config"], "$.httpServer", "absent: a real Xentara runs no HTTP/WebSocket server")
    security = _load_security(docs["security"], folder, problems)
    known_roles = frozenset(security["roles"]) | {EVERYONE}
    users = _load_users(docs["users"], known_roles, problems)
    passwords = _load_passwords(docs["passwords"], problems)
    user_uuids = {u.uuid for u in users.values()}
    for u in passwords:
        if u not in user_uuids:
            problems.warn(FILE_NAMES["passwords"], f"$.{u}", "no user with this UUID in users.json")
    oauth2 = _load_oauth2(docs["oauth2"], folder, known_roles, problems)
    client_certs = _load_client_certs(docs["client-certs"], folder, known_roles, problems)
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

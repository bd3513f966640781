"""The configuration objects a Xentara configuration folder describes, and its file names."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...model.acl import Acl

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

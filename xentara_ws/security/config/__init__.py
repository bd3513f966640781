"""Load and validate a Xentara configuration folder (config, security, users, passwords, oauth2, client-certs).

Errors are collected for all files and raised together, each naming the file, the JSON path and the problem.
"""

from .acl import Acl, AclEntry, parse_acl
from .json_files import normalise_hex
from .load import load_configuration
from .types import (
    ACCEPTED_JWT_ALGORITHMS,
    BUILTIN_ENTITLEMENTS,
    DEFAULT_PORT,
    DEFAULT_REALM,
    DEFAULT_SCHEMES,
    EVERYONE,
    FILE_NAMES,
    CertificateRule,
    ClientCertsConfig,
    ConfigurationError,
    Entitlement,
    HttpAuthentication,
    HttpServer,
    Issuer,
    NonConformance,
    OAuth2Config,
    Role,
    RootCertificate,
    ServerCertificate,
    User,
    XentaraConfiguration,
)

__all__ = [
    "ACCEPTED_JWT_ALGORITHMS",
    "BUILTIN_ENTITLEMENTS",
    "DEFAULT_PORT",
    "DEFAULT_REALM",
    "DEFAULT_SCHEMES",
    "EVERYONE",
    "FILE_NAMES",
    "Acl",
    "AclEntry",
    "CertificateRule",
    "ClientCertsConfig",
    "ConfigurationError",
    "Entitlement",
    "HttpAuthentication",
    "HttpServer",
    "Issuer",
    "NonConformance",
    "OAuth2Config",
    "Role",
    "RootCertificate",
    "ServerCertificate",
    "User",
    "XentaraConfiguration",
    "load_configuration",
    "normalise_hex",
    "parse_acl",
]

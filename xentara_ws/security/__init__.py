"""Xentara security: configuration folder, users, passwords, ACLs, tokens, certificates."""

from .authentication import AuthenticationFailed, Authenticator, Principal
from .authorization import AccessControl
from .config import ConfigurationError, XentaraConfiguration, load_configuration
from .passwords import hash_password, set_password, verify_password
from .tls import certificate_fingerprint, server_ssl_context

__all__ = [
    "AccessControl",
    "AuthenticationFailed",
    "Authenticator",
    "ConfigurationError",
    "Principal",
    "XentaraConfiguration",
    "certificate_fingerprint",
    "hash_password",
    "load_configuration",
    "server_ssl_context",
    "set_password",
    "verify_password",
]

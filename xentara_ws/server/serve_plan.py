"""ServePlan and ServeError: what `serve` decided before listening, shared by bootstrap and security setup."""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from ..edge import API_PATH, Gatekeeper
from .access import AccessPolicy, SubSessionAuthenticator
from .options import ServeOptions
from .security_reload import SecurityReloader


class ServeError(Exception):
    """A problem with the options or the configuration that stops the server from starting."""


@dataclass
class ServePlan:
    """Everything `serve` decided before it starts listening."""

    model_path: Path
    config_dir: Path | None
    host: str | None  # None: every address of both families (IPv4 and IPv6)
    port: int
    demo: bool
    ssl_context: ssl.SSLContext | None = None
    gatekeeper: Gatekeeper | None = None
    access: AccessPolicy | None = None
    sub_session_authenticator: SubSessionAuthenticator | None = None
    www: Path | None = None
    notes: list[str] = field(default_factory=list)
    reloader: SecurityReloader | None = None

    @property
    def url(self) -> str:
        scheme = "wss" if self.ssl_context is not None else "ws"
        host = "127.0.0.1" if self.host in (None, "0.0.0.0", "", "::") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"{scheme}://{host}:{self.port}{API_PATH}"


def schema_dir(options: ServeOptions) -> Path | None:
    """The folder of the vendor's schema-xentara-*.json files, if the operator named one."""
    value = options.schema_dir or os.environ.get("XENTARA_SCHEMA_DIR")
    if not value:
        return None
    folder = Path(value)
    if not folder.is_dir():
        raise ServeError(f"--schema-dir {value}: no such directory")
    return folder

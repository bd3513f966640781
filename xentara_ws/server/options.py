"""ServeOptions: every option of `xentara-ws serve`, typed; the CLI builds it, `server/` reads it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True, kw_only=True)
class ServeOptions:
    """What the operator asked for. None means "not given": the configuration folder or a default decides."""

    config: Path | None = None
    model: Path | None = None
    host: str | None = None  # None: every IPv4 and IPv6 address
    port: int | None = None  # None: httpServer.port of config.json, else 8080
    tls: bool = True
    allow_shutdown: bool = False
    www: Path | None = None
    schema_dir: Path | None = None  # None: $XENTARA_SCHEMA_DIR, if set
    state_dir: Path | None = None  # None: $XDG_STATE_HOME/xentara-ws
    reload_interval: float | None = None
    max_message_size: int | None = None
    max_packets: int | None = None
    hello_timeout: float | None = None
    send_timeout: float | None = None
    max_subscriptions: int | None = None
    max_subscription_attributes: int | None = None
    max_sub_sessions: int | None = None
    max_sub_sessions_total: int | None = None
    max_connections: int | None = None
    max_reply_size: int | None = None
    max_connection_subscription_attributes: int | None = None
    max_total_subscription_attributes: int | None = None
    max_outgoing_buffer: int | None = None
    max_total_outgoing_buffer: int | None = None
    login_workers: int | None = None
    max_pending_logins: int | None = None
    cluster: str | None = None  # a NATS URL
    node_name: str | None = None
    cluster_name: str | None = None

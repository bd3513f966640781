"""Configurable limits with safe defaults (spec 10.16)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    max_message_size: int = 1024 * 1024
    """Bytes per incoming WebSocket message; larger messages close the connection with 1009."""
    max_packets_per_message: int = 1000
    """Request packets answered per message; the excess gets -32600, the rest is answered."""
    client_hello_timeout: float = 10.0
    """Seconds a client has to complete client_hello before the connection is closed (1008)."""
    max_subscriptions: int = 1000
    """Subscriptions per connection."""
    max_subscription_attributes: int = 10000
    """Element/attribute pairs per subscription."""
    max_sub_sessions: int = 64
    """Sub-sessions per connection."""
    max_sub_sessions_total: int = 100_000
    """Sub-sessions in the server's registry, attached or not."""
    send_timeout: float = 30.0
    """Seconds a client may stall reading before it is disconnected as a slow consumer (1008)."""
    max_connections: int = 10000
    open_timeout: float = 10.0
    """Seconds a new (or idle keep-alive) connection has to send a complete HTTP request before it is closed."""
    close_timeout: float = 10.0
    """Seconds the closing handshake may take before the connection is aborted."""

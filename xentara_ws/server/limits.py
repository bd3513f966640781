"""Configurable limits with safe defaults (spec 10.16)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    max_message_size: int = 1024 * 1024
    """Bytes per incoming WebSocket message; larger messages close the connection with 1009."""
    max_packets_per_message: int = 1000
    """Request packets answered per message; the excess gets -32600, the rest is answered."""
    max_reply_size: int = 4 * 1024 * 1024
    """Bytes of the reply to one message; packets after the reply reached it are not executed (one -32600)."""
    client_hello_timeout: float = 10.0
    """Seconds a client has to complete client_hello before the connection is closed (1008)."""
    max_subscriptions: int = 1000
    """Subscriptions per connection."""
    max_subscription_attributes: int = 10000
    """Element/attribute pairs per subscription."""
    max_connection_subscription_attributes: int = 50_000
    """Element/attribute pairs over all subscriptions of one connection (~600 bytes each: ~30 MiB)."""
    max_total_subscription_attributes: int = 2_000_000
    """Element/attribute pairs over all connections of the server."""
    max_outgoing_buffer: int = 16 * 1024 * 1024
    """Bytes of replies and events waiting for one client to read; beyond it the client is a slow consumer."""
    max_total_outgoing_buffer: int = 512 * 1024 * 1024
    """Bytes waiting to be written over all connections; the connection that would exceed it is dropped."""
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

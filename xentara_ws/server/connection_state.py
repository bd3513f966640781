"""The state of one CBOR connection: hello, its principal, the sub-sessions attached, its event scheduler.

A connection is one kind of *attachment* of a registry sub-session (xentara_ws.sessions); it is
not itself a session.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..protocol.state import (
    AWAITING_HELLO,
    CONNECTION_CLOSED,
    HELLO_RECEIVED,
    READY,
    ConnectionPhase,
    ProtocolState,
)
from ..protocol.state import CLOSED as CONNECTION_CLOSED_STATE

if TYPE_CHECKING:
    from ..sessions.entry import SubSessionEntry
    from .subscriptions import EventScheduler


@dataclass(slots=True)
class ConnectionState:
    """What the server knows about one WebSocket connection."""

    principal: Any = None
    peer: str = ""
    peer_address: str = ""
    protocol_version: int | None = None
    sub_sessions: dict[uuid.UUID, SubSessionEntry] = field(default_factory=dict)
    """The registry's sub-sessions attached to this connection."""
    events: EventScheduler | None = None
    protocol: ProtocolState = field(default_factory=ProtocolState)
    """Where the connection is in the protocol: awaiting client_hello, ready, or closed."""

    @classmethod
    def ready(cls, **fields: Any) -> ConnectionState:
        """A connection that needs no client_hello (the JSON API's sessions speak protocol version 1 at once)."""
        return cls(protocol=ProtocolState(READY), **fields)

    @property
    def phase(self) -> ConnectionPhase:
        return self.protocol.state

    @property
    def hello_done(self) -> bool:
        """Whether client_hello succeeded (and the connection has not closed since)."""
        return self.protocol.state is READY

    @property
    def awaiting_hello(self) -> bool:
        return self.protocol.state is AWAITING_HELLO

    @property
    def closed(self) -> bool:
        return self.protocol.state is CONNECTION_CLOSED_STATE

    def hello_received(self) -> None:
        self.protocol.process_event(HELLO_RECEIVED)

    def close(self) -> None:
        """The connection ended; idempotent."""
        self.protocol.process_event(CONNECTION_CLOSED)

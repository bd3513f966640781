"""The state of one CBOR connection: hello, its principal, the sub-sessions attached, its event scheduler.

A connection is one kind of *attachment* of a registry sub-session (xentara_ws.sessions); it is
not itself a session.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..sessions.entry import SubSessionEntry
    from .subscriptions import EventScheduler


@dataclass(slots=True)
class ConnectionState:
    """What the server knows about one WebSocket connection."""

    principal: Any = None
    peer: str = ""
    peer_address: str = ""
    hello_done: bool = False
    protocol_version: int | None = None
    sub_sessions: dict[uuid.UUID, SubSessionEntry] = field(default_factory=dict)
    """The registry's sub-sessions attached to this connection."""
    events: EventScheduler | None = None
    closed: bool = False

"""Per-connection protocol state: hello, the connection's principal, sub-sessions, subscriptions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .subscriptions import EventScheduler


@dataclass(slots=True)
class SubSession:
    """A light-weight login on top of a connection (create_sub_session)."""

    id: uuid.UUID
    principal: Any


@dataclass(slots=True)
class Session:
    """What the server knows about one WebSocket connection."""

    principal: Any = None
    peer: str = ""
    peer_address: str = ""
    hello_done: bool = False
    protocol_version: int | None = None
    sub_sessions: dict[uuid.UUID, SubSession] = field(default_factory=dict)
    events: EventScheduler | None = None
    closed: bool = False

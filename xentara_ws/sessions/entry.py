"""The registry's entry type: one sub-session, whatever it is attached to (or not)."""

from __future__ import annotations

import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

from .health import NO_THRESHOLDS, HealthThresholds, SlidingRate
from .will import LastWill

NORMAL = "normal"
HIDDEN = "hidden"
BANNED = "banned"
INACTIVE = "inactive"
STATUSES = (NORMAL, HIDDEN, BANNED, INACTIVE)

METHOD_TOKEN = 0
METHOD_CERTIFICATE = 1
METHOD_PASSWORD = 2


class Attachment(Protocol):
    """What a sub-session can be attached to: a CBOR connection's Session, or any other front end.

    The registry adds and removes the entry in `sub_sessions` and moves bound subscriptions in and
    out of `events` (an EventScheduler, or None when the front end has no pushed events yet).
    """

    peer_address: str
    sub_sessions: dict[uuid.UUID, SubSessionEntry]
    events: Any

    @property
    def closed(self) -> bool: ...


@dataclass(eq=False, slots=True)
class BoundSubscription:
    """A subscription that belongs to a sub-session (§7): its definition, and what was retained."""

    id: uuid.UUID
    items: list[tuple[Any, tuple[Any, ...]]]
    """(Element, attribute keys) pairs."""
    maximum_update_rate: int | None
    minimum_update_rate: int | None
    queue_size: int = 1
    retained: dict[Any, deque[tuple[int, bytes]]] = field(default_factory=dict)
    """Per element, while detached: (sequence, encoded values at the change), oldest first."""
    dropped: int = 0
    """Changes dropped while detached, since the last catch-up (oldest first when a queue was full)."""
    dropped_by_element: dict[Any, int] = field(default_factory=dict)
    fresh: bool = False
    """Restored after a restart: the next attach sends one event per element with current values."""
    watching: list[Any] = field(default_factory=list)
    """Elements watched while detached, to unwatch on attach."""
    session: SubSessionEntry | None = None
    """The sub-session it belongs to."""
    clock: Any = None
    """The registry's clock (seconds), for the sliding rates."""

    # -- called by the connection's EventScheduler (Subscription.owner) -------------------------

    def count_backlog(self) -> None:
        if self.session is not None:
            self.session.backlog.add(self.clock())

    def event_prefix(self, entry: Any) -> bytes:
        if self.session is not None:
            self.session.events_sent += 1
        return bytes(entry.prefix)

    def definition(self) -> dict[int, Any]:
        return {
            0: self.id,
            1: [[element.uuid, list(keys)] for element, keys in self.items],
            2: self.maximum_update_rate,
            3: self.minimum_update_rate,
            4: self.queue_size,
        }


@dataclass(eq=False, slots=True)
class SubSessionEntry:
    id: uuid.UUID
    owner: str
    creator: str
    method: int
    created: float
    last_activity: float
    permanent: bool = False
    keep_alive_s: int = 0
    expiry_s: int = 0
    status: str = NORMAL
    description: str = ""
    health: HealthThresholds = NO_THRESHOLDS
    last_will: LastWill | None = None
    principal: Any = None
    """Who logged in; None after a restart until resumed (wills need it)."""
    attachment: Attachment | None = None
    closed_at: float | None = None
    """When it was detached by a connection end (lease rule), None while attached or closed orderly."""
    held_elsewhere: bool = False
    """A shared store says another node holds it attached (a JSON session used there): it does not
    expire here until that node writes it detached. Never written: each node writes its own state."""
    lost: bool = False
    """A loss happened (connection lost, keep-alive lapsed) and no activity or resume since."""
    lapsed: bool = False
    """The keep-alive lapsed on an open connection (health says so)."""
    kind: str = "cbor"
    """"cbor", or the front end that created it ("json"): only CBOR ones can be resumed over CBOR."""
    secondary_key: bytes | None = None
    """A lookup key besides the id (the hash of a JSON authToken)."""
    requests_total: int = 0
    requests: SlidingRate = field(default_factory=SlidingRate)
    events_sent: int = 0
    backlog: SlidingRate = field(default_factory=SlidingRate)
    subscriptions: dict[uuid.UUID, BoundSubscription] = field(default_factory=dict)
    scheduled: float | None = None
    """The due time of this entry's item in the registry's timer heap."""
    stored: bool = False
    """The store holds it (it stays there, also if its options change so that it would not go there now)."""

    @property
    def connected(self) -> bool:
        return self.attachment is not None

    def record(self) -> dict[str, Any]:
        """What storage keeps of an entry (not its attachment, principal or counters): a permanent one,
        or in a cluster a temporary one with an expiry (closed_at and last_activity are its lease)."""
        return {
            "id": self.id,
            "owner": self.owner,
            "creator": self.creator,
            "method": self.method,
            "created": self.created,
            "last_activity": self.last_activity,
            "closed_at": self.closed_at,
            "permanent": self.permanent,
            "keep_alive_s": self.keep_alive_s,
            "expiry_s": self.expiry_s,
            "status": self.status,
            "description": self.description,
            "health": self.health.to_map(),
            "last_will": None if self.last_will is None else self.last_will.to_map(),
            "kind": self.kind,
            "secondary_key": self.secondary_key,
            "subscriptions": [s.definition() for s in self.subscriptions.values()],
        }


def identity(principal: Any) -> str:
    """The identity text of a connection's or sub-session's principal (`user:NAME`, ...)."""
    if principal is None:
        return "anonymous"
    kind = getattr(principal, "kind", None)
    name = getattr(principal, "name", None)
    if kind == "user":
        return f"user:{name}"
    if kind == "token":
        return f"token:{getattr(principal, 'issuer', '')}#{name}"
    if kind == "certificate":
        return f"cert:{name}"
    if kind == "anonymous":
        return "anonymous"
    return f"user:{name if name is not None else principal}"

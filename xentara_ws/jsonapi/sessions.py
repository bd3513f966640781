"""JSON sessions (extensions §8.2, §9.15, §9.18): registry sub-sessions found by the hash of their authToken.

A JSON session IS a sub-session of the server's registry (kind "json", secondary key = SHA-256 of
its token): leases, last will, status, persistence and the CBOR views come from there. This
module keeps what only the JSON front end needs: the CBOR-side connection state the actions run
the command handlers with (it is the entry's attachment while a request runs or a WebSocket
holds the session), the event queue for getEvents, and the WebSocket events are pushed to.
Tokens are 256-bit random secrets, so a fast hash is enough to keep them.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..server.connection_state import ConnectionState
from ..sessions.entry import SubSessionEntry
from ..sessions.registry import Durable, SubSessionRegistry
from .events import EventQueue

logger = logging.getLogger(__name__)

JSON_KIND = "json"
DEFAULT_EXPIRY_S = 3600
MAX_SESSIONS_PER_OWNER = 50
"""FairCom's maxJsonApiSessionsPerUsername."""


def new_token() -> str:
    """A fresh authToken: base64url of 32 random bytes (§9.21)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


class EventSink(Protocol):
    """Where a session's pushed events go while a WebSocket is attached."""

    def push_event(self, event: dict[str, Any]) -> None: ...


@dataclass(eq=False)
class JsonSession:
    entry: SubSessionEntry
    connection: ConnectionState
    """The state the command handlers run with; the registry entry's attachment while in use."""
    events: EventQueue = field(default_factory=EventQueue)
    sink: EventSink | None = None
    running: int = 0
    """Requests running right now (an HTTP request attaches the session only while it runs)."""

    @property
    def id(self) -> uuid.UUID:
        return self.entry.id

    @property
    def principal(self) -> Any:
        return self.connection.principal

    @property
    def connected(self) -> bool:
        """§9.19: true only while a WebSocket is attached."""
        return self.sink is not None


class JsonSessions:
    """The JSON front end's view of the registry: token -> session, and the per-session state."""

    def __init__(
        self,
        registry: SubSessionRegistry,
        *,
        restore_principal: Callable[[str], Any] = lambda owner: None,
        on_opened: Callable[[JsonSession], None] = lambda session: None,
        on_removed: Callable[[JsonSession], None] = lambda session: None,
        on_detaching: Callable[[JsonSession], None] = lambda session: None,
        max_per_owner: int = MAX_SESSIONS_PER_OWNER,
    ) -> None:
        self.registry = registry
        self.restore_principal = restore_principal
        self.on_opened = on_opened
        self.on_removed = on_removed
        self.on_detaching = on_detaching
        self.max_per_owner = max_per_owner
        self._open: dict[uuid.UUID, JsonSession] = {}

    @property
    def clock(self) -> Callable[[], float]:
        return self.registry.clock

    def open_session(self, session_id: uuid.UUID) -> JsonSession | None:
        """The JSON-side state of a registry entry, if it is a JSON session in use since the start."""
        return self._open.get(session_id)

    def __iter__(self) -> Iterator[JsonSession]:
        self.sweep()
        return iter(list(self._open.values()))

    def create(
        self, principal: Any, owner: str, method: int, peer: str, peer_address: str, options: dict[str, Any]
    ) -> tuple[str, JsonSession, Durable]:
        """A new session attached to its own connection state (the caller's request detaches it at its end)."""
        mine = sum(1 for e in self.registry if e.kind == JSON_KIND and e.owner == owner)
        if mine >= self.max_per_owner:
            raise OverflowError(f"too many JSON sessions of {owner} (limit {self.max_per_owner})")
        token = new_token()
        connection = ConnectionState.ready(
            principal=principal, peer=peer, peer_address=peer_address, protocol_version=1
        )
        entry, durable = self.registry.create(
            uuid.uuid4(),
            owner=owner,
            creator=owner,  # §9.15: a JSON session's creator is its owner
            method=method,
            principal=principal,
            attachment=connection,
            options=options,
            kind=JSON_KIND,
            secondary_key=token_hash(token),
        )
        session = self._opened(entry, connection)
        return token, session, durable

    def find(self, token: str) -> JsonSession | None:
        """The live session of a token; an expired one is removed and not found."""
        entry = self.registry.find(token_hash(token))
        if entry is None or entry.kind != JSON_KIND:
            return None
        due = self.registry.expires_at(entry)
        if due is not None and due <= self.clock():
            self.registry.tick()  # the timer may not have run yet: remove it now
            if self.registry.get(entry.id) is None:
                self._forget(entry.id)
                return None
        session = self._open.get(entry.id)
        if session is None:
            session = self._restore(entry)
        return session

    def _restore(self, entry: SubSessionEntry) -> JsonSession | None:
        """A permanent session restored from storage after a restart: its state is made anew."""
        principal = entry.principal if entry.principal is not None else self.restore_principal(entry.owner)
        if principal is None:
            logger.warning("JSON session %s of %s cannot be used: its owner is unknown now", entry.id, entry.owner)
            return None
        entry.principal = principal
        connection = ConnectionState.ready(principal=principal, protocol_version=1)
        return self._opened(entry, connection)

    def _opened(self, entry: SubSessionEntry, connection: ConnectionState) -> JsonSession:
        session = JsonSession(entry, connection)
        self._open[entry.id] = session
        self.on_opened(session)
        return session

    def begin_request(self, session: JsonSession, peer_address: str) -> None:
        session.running += 1
        registry = self.registry
        if session.entry.attachment is not session.connection:
            if session.sink is None:
                session.connection.peer_address = peer_address
            registry.attach(session.entry, session.connection)
        registry.activity(session.entry)

    def end_request(self, session: JsonSession) -> None:
        session.running -= 1
        self._let_go(session, lost=False)

    def attach(self, session: JsonSession, sink: EventSink, peer_address: str) -> None:
        """Pushed events go to this WebSocket from now on (§9.15: the latest that used the token)."""
        session.sink = sink
        session.connection.peer_address = peer_address
        if session.entry.attachment is not session.connection and self.registry.get(session.id) is not None:
            self.registry.attach(session.entry, session.connection)

    def detach(self, session: JsonSession, sink: EventSink) -> None:
        if session.sink is sink:
            session.sink = None
            self._let_go(session, lost=True)

    def _let_go(self, session: JsonSession, *, lost: bool) -> None:
        # Neither a request nor a WebSocket holds it: the lease runs (§8.2); with
        # sessionExpiryInterval 0 the registry removes it at once (§9.18). The end of an HTTP
        # request is no loss (its will waits for a keep-alive lapse); a WebSocket that closes is.
        if session.running <= 0 and session.sink is None and session.entry.attachment is session.connection:
            self.on_detaching(session)  # what is due now is queued; later changes the registry retains
            self.registry.detach(session.entry, lost=lost, lease=True)
            if self.registry.get(session.id) is None:
                self._forget(session.id)

    def sweep(self) -> None:
        """Forget the state of sessions the registry removed (expired, deleted or banned away)."""
        self.registry.tick()
        for session_id in [i for i in self._open if self.registry.get(i) is None]:
            self._forget(session_id)

    def forget(self, session: JsonSession) -> None:
        self._forget(session.id)

    def _forget(self, session_id: uuid.UUID) -> None:
        session = self._open.pop(session_id, None)
        if session is None:
            return
        events = session.connection.events
        if events is not None:
            events.close()
        session.connection.close()
        session.sink = None
        self.on_removed(session)

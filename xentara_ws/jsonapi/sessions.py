"""JSON sessions (extensions §8.2, §9.15, §9.18): authTokens, leases, health and the views of them.

A JSON session carries a CBOR-side connection state (`connection`) so that the Xentara actions
run through the same command handlers as CBOR clients, and an event queue for getEvents. Only
the SHA-256 of a token is kept: tokens are 256-bit random secrets, so a fast hash is enough.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..server.session import Session, SubSession
from .events import EventQueue

NEVER = 4_294_967_296
"""FairCom's "never" for an expiry."""
DEFAULT_EXPIRY_S = 3600
MAX_SESSIONS = 1024
MAX_SESSIONS_PER_OWNER = 50
"""FairCom's maxJsonApiSessions and maxJsonApiSessionsPerUsername."""
HEALTH_KEYS = (
    "minHealthySendRatePerMinute",
    "maxHealthySendRatePerMinute",
    "maxHealthyBacklogRatePerMinute",
    "minHealthySubscribedTopicFiltersCount",
    "maxHealthySubscribedTopicFiltersCount",
)


def new_token() -> str:
    """A fresh authToken: base64url of 32 random bytes (§9.21)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def identity(principal: Any) -> str:
    """The registry's identity text (§1): `user:NAME`, `token:SUBJECT`, `cert:...`, or `anonymous`."""
    if principal is None:
        return "anonymous"
    kind = getattr(principal, "kind", "")
    name = getattr(principal, "name", str(principal))
    prefix = {"user": "user", "token": "token", "certificate": "cert"}.get(kind)
    return f"{prefix}:{name}" if prefix else "anonymous"


class EventSink(Protocol):
    """Where a session's pushed events go while a WebSocket is attached."""

    def push_event(self, event: dict[str, Any]) -> None: ...


class RateWindow:
    """Counts over the last 60 s in one-second buckets (bounded whatever the rate)."""

    def __init__(self) -> None:
        self._buckets = [0] * 60
        self._stamps = [-1] * 60

    def add(self, now: float, count: int = 1) -> None:
        second = int(now)
        index = second % 60
        if self._stamps[index] != second:
            self._stamps[index] = second
            self._buckets[index] = 0
        self._buckets[index] += count

    def total(self, now: float) -> int:
        second = int(now)
        return sum(b for b, s in zip(self._buckets, self._stamps, strict=True) if second - 60 < s <= second)


@dataclass(eq=False)
class JsonSession:
    id: uuid.UUID
    token_hash: bytes
    principal: Any
    owner: str
    creator: str
    method: str
    """"password" or "token"."""
    username: str
    description: str = ""
    permanent: bool = False
    keep_alive_s: int = 0
    expiry_s: int = DEFAULT_EXPIRY_S
    status: str = "normal"
    thresholds: dict[str, int] = field(default_factory=lambda: dict.fromkeys(HEALTH_KEYS, 0))
    last_will: dict[str, Any] | None = None
    created: float = 0.0
    last_activity: float = 0.0
    detached_at: float | None = 0.0
    """When the last transport let go of it; None while a WebSocket or a request holds it."""
    connection: Session = field(default_factory=Session)
    events: EventQueue = field(default_factory=EventQueue)
    sink: EventSink | None = None
    peer: str | None = None
    running: int = 0
    """Requests running right now (an HTTP request attaches the session only while it runs)."""
    requests: RateWindow = field(default_factory=RateWindow)
    requests_total: int = 0
    events_sent: int = 0
    dropped: RateWindow = field(default_factory=RateWindow)

    @property
    def connected(self) -> bool:
        """§9.19: true only while a WebSocket is attached."""
        return self.sink is not None

    def t_idle(self) -> float | None:
        """§2: the earlier of the keep-alive lapse and the moment it was let go (None: never)."""
        candidates = []
        if self.keep_alive_s > 0:
            candidates.append(self.last_activity + 1.5 * self.keep_alive_s)
        if self.detached_at is not None:
            candidates.append(self.detached_at)
        return min(candidates) if candidates else None

    def expires_at(self) -> float | None:
        if self.permanent or self.expiry_s >= NEVER:
            return None
        idle = self.t_idle()
        return None if idle is None else idle + self.expiry_s

    def subscription_count(self) -> int:
        events = self.connection.events
        return len(events.subscriptions) if events is not None else 0

    def health(self, now: float) -> tuple[str, list[str]]:
        if self.sink is None and self.running == 0:
            return "offline", []
        reasons = []
        rate = self.requests.total(now)
        backlog = self.dropped.total(now)
        subscriptions = self.subscription_count()
        t = self.thresholds
        checks = (
            (t["minHealthySendRatePerMinute"], rate < t["minHealthySendRatePerMinute"], f"{rate} requests per minute"),
            (t["maxHealthySendRatePerMinute"], rate > t["maxHealthySendRatePerMinute"], f"{rate} requests per minute"),
            (t["maxHealthyBacklogRatePerMinute"], backlog > t["maxHealthyBacklogRatePerMinute"], f"{backlog} dropped"),
            (
                t["minHealthySubscribedTopicFiltersCount"],
                subscriptions < t["minHealthySubscribedTopicFiltersCount"],
                f"{subscriptions} subscriptions",
            ),
            (
                t["maxHealthySubscribedTopicFiltersCount"],
                subscriptions > t["maxHealthySubscribedTopicFiltersCount"],
                f"{subscriptions} subscriptions",
            ),
        )
        for (limit, violated, what), name in zip(checks, HEALTH_KEYS, strict=True):
            if limit and violated:
                reasons.append(f"{what} violates {name} = {limit}")
        return ("unhealthy" if reasons else "healthy"), reasons


class SessionLimitReached(Exception):
    pass


class JsonSessions:
    """Every JSON session of one server, by token hash and by id; expiry is checked on every use."""

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        *,
        max_sessions: int = MAX_SESSIONS,
        max_per_owner: int = MAX_SESSIONS_PER_OWNER,
        on_removed: Callable[[JsonSession], None] = lambda session: None,
    ) -> None:
        self.clock = clock
        self.max_sessions = max_sessions
        self.max_per_owner = max_per_owner
        self.on_removed = on_removed
        self._by_token: dict[bytes, JsonSession] = {}
        self._by_id: dict[uuid.UUID, JsonSession] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[JsonSession]:
        self.sweep()
        return iter(list(self._by_id.values()))

    def create(self, principal: Any, method: str, username: str, peer: str) -> tuple[str, JsonSession]:
        """A new session and its token (the token is returned once and never stored)."""
        self.sweep()
        owner = identity(principal)
        if len(self._by_id) >= self.max_sessions:
            raise SessionLimitReached(f"too many JSON sessions on this server (limit {self.max_sessions})")
        if sum(1 for s in self._by_id.values() if s.owner == owner) >= self.max_per_owner:
            raise SessionLimitReached(f"too many JSON sessions of {owner} (limit {self.max_per_owner})")
        token = new_token()
        now = self.clock()
        session_id = uuid.uuid4()
        session = JsonSession(
            id=session_id,
            token_hash=token_hash(token),
            principal=principal,
            owner=owner,
            creator=owner,
            method=method,
            username=username,
            created=now,
            last_activity=now,
            detached_at=now,
            connection=Session(principal=principal, peer=peer, hello_done=True, protocol_version=1),
        )
        # The session is its own sub-session: check_access and writes naming it use its rights.
        session.connection.sub_sessions[session_id] = SubSession(session_id, principal)
        self._by_token[session.token_hash] = session
        self._by_id[session_id] = session
        return token, session

    def find(self, token: str) -> JsonSession | None:
        """The live session of a token; an expired one is removed and not found."""
        session = self._by_token.get(token_hash(token))
        if session is None:
            return None
        if self._expired(session, self.clock()):
            self.remove(session)
            return None
        return session

    def get(self, session_id: uuid.UUID) -> JsonSession | None:
        session = self._by_id.get(session_id)
        if session is not None and self._expired(session, self.clock()):
            self.remove(session)
            return None
        return session

    def touch(self, session: JsonSession) -> None:
        """Activity: the lease starts over."""
        now = self.clock()
        session.last_activity = now
        if session.detached_at is not None:
            session.detached_at = now

    def begin_request(self, session: JsonSession) -> None:
        now = self.clock()
        session.running += 1
        session.detached_at = None
        session.last_activity = now
        session.requests.add(now)
        session.requests_total += 1

    def end_request(self, session: JsonSession) -> None:
        session.running -= 1
        if session.running <= 0 and session.sink is None:
            session.detached_at = self.clock()

    def attach(self, session: JsonSession, sink: EventSink, peer: str) -> None:
        session.sink = sink
        session.peer = peer
        session.detached_at = None

    def detach(self, session: JsonSession, sink: EventSink) -> None:
        if session.sink is sink:
            session.sink = None
            session.peer = None
            if session.running <= 0:
                session.detached_at = self.clock()
            if session.expiry_s == 0 and not session.permanent:
                self.remove(session)  # §9.18: sessionExpiryInterval 0 lasts until the WebSocket closes

    def remove(self, session: JsonSession) -> bool:
        if self._by_id.pop(session.id, None) is None:
            return False
        self._by_token.pop(session.token_hash, None)
        events = session.connection.events
        if events is not None:
            events.close()
        session.connection.sub_sessions.clear()
        session.connection.closed = True
        self.on_removed(session)
        return True

    def sweep(self) -> None:
        """Remove every expired session (called on use and by the server's timer)."""
        now = self.clock()
        for session in [s for s in self._by_id.values() if self._expired(s, now)]:
            self.remove(session)

    @staticmethod
    def _expired(session: JsonSession, now: float) -> bool:
        expires = session.expires_at()
        return expires is not None and now >= expires

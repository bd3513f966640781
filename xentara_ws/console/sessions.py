"""Console logins: which principal a browser's session cookie stands for, with a lease.

The store is an interface so that the server-wide sub-session registry can back it later; the
in-memory implementation here is bounded and expires idle and old sessions by an injectable clock.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

DEFAULT_IDLE_TIMEOUT = 30 * 60.0
DEFAULT_MAX_AGE = 12 * 3600.0
DEFAULT_MAX_SESSIONS = 1000


@dataclass(slots=True)
class ConsoleSession:
    """One browser login."""

    principal: Any
    user: str
    created: float
    last_used: float


class ConsoleSessionStore(Protocol):
    """Cookie value -> console session. Cookie values are secrets: implementations keep only their hashes."""

    def open(self, principal: Any, user: str) -> str:
        """Start a session for a principal that has just authenticated; returns the new cookie value."""
        ...

    def find(self, cookie: str) -> ConsoleSession | None:
        """The live session of a cookie value (its use renews the lease), or None."""
        ...

    def close(self, cookie: str) -> bool:
        """End a session (logout); False when there was none."""
        ...


def _key(cookie: str) -> bytes:
    return hashlib.sha256(cookie.encode("utf-8", "surrogateescape")).digest()


class MemoryConsoleSessions:
    """Sessions held in memory: lost on restart, at most `max_sessions` (the least recently used go first).

    A session ends `idle_timeout` seconds after its last use, and `max_age` seconds after the login
    whatever its use: a stolen cookie does not stay good for ever.
    """

    def __init__(
        self,
        *,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        max_age: float = DEFAULT_MAX_AGE,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if idle_timeout <= 0 or max_age <= 0 or max_sessions <= 0:
            raise ValueError("idle_timeout, max_age and max_sessions must be positive")
        self.idle_timeout = idle_timeout
        self.max_age = max_age
        self.max_sessions = max_sessions
        self.clock = clock
        self._sessions: OrderedDict[bytes, ConsoleSession] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    def open(self, principal: Any, user: str) -> str:
        now = self.clock()
        self._expire(now)
        cookie = secrets.token_urlsafe(32)
        self._sessions[_key(cookie)] = ConsoleSession(principal, user, now, now)
        while len(self._sessions) > self.max_sessions:
            self._sessions.popitem(last=False)
        return cookie

    def find(self, cookie: str) -> ConsoleSession | None:
        key = _key(cookie)
        session = self._sessions.get(key)
        if session is None:
            return None
        now = self.clock()
        if self._expired(session, now):
            del self._sessions[key]
            return None
        session.last_used = now
        self._sessions.move_to_end(key)
        return session

    def close(self, cookie: str) -> bool:
        return self._sessions.pop(_key(cookie), None) is not None

    def _expired(self, session: ConsoleSession, now: float) -> bool:
        return now >= session.last_used + self.idle_timeout or now >= session.created + self.max_age

    def _expire(self, now: float) -> None:
        # Least recently used first: stop at the first one still in use (bounded work per login).
        while self._sessions:
            key, session = next(iter(self._sessions.items()))
            if not self._expired(session, now):
                break
            del self._sessions[key]

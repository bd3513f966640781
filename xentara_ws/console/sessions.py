"""Console logins: which principal a browser's session cookie stands for, with a lease.

The store is an interface so that the server-wide sub-session registry can back it later; the
in-memory implementation here is bounded and expires idle and old sessions by an injectable clock.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..sessions.entry import BANNED, identity

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
    ends: float = float("inf")
    """The latest moment it may be used: the login's maximum age, or the end of its token."""


class ConsoleSessionStore(Protocol):
    """Cookie value -> console session. Cookie values are secrets: implementations keep only their hashes."""

    def open(self, principal: Any, user: str, lifetime: float | None = None) -> str:
        """Start a session for a principal that has just authenticated; returns the new cookie value.

        `lifetime` (seconds) shortens the session to what the credentials allow (a token's expiry).
        """
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

    def open(self, principal: Any, user: str, lifetime: float | None = None) -> str:
        now = self.clock()
        self._expire(now)
        cookie = secrets.token_urlsafe(32)
        ends = now + (self.max_age if lifetime is None else min(self.max_age, lifetime))
        self._sessions[_key(cookie)] = ConsoleSession(principal, user, now, now, ends)
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
        return now >= session.last_used + self.idle_timeout or now >= session.ends

    def _expire(self, now: float) -> None:
        # Least recently used first: stop at the first one still in use (bounded work per login).
        while self._sessions:
            key, session = next(iter(self._sessions.items()))
            if not self._expired(session, now):
                break
            del self._sessions[key]


CONSOLE_KIND = "console"
"""The `kind` of the registry entries that stand for console logins (only the console resumes them)."""
_METHOD_TOKEN = 0
_METHOD_PASSWORD = 2


class ConsoleSessionsFull(Exception):
    """The server holds as many sub-sessions as it may: no console login can be added now."""


class RegistryConsoleSessions:
    """Console logins as sub-sessions of the server-wide registry (CONTRACTS §4, extensions §1–2).

    Each login is a temporary sub-session of kind "console", found by the hash of its cookie, with
    the registry's lease: `keep_alive_s` so that it lapses after `idle_timeout` without use, and no
    expiry beyond that. Using the cookie counts as activity. Administrators see console logins in
    list_sub_sessions like any other, and deleting or banning one logs that browser out. A login
    also ends `max_age` seconds after it began, and at most `max_sessions` of them exist at once
    (the least recently used goes first).
    """

    def __init__(
        self,
        registry: Any,
        *,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        max_age: float = DEFAULT_MAX_AGE,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
    ) -> None:
        if idle_timeout <= 0 or max_age <= 0 or max_sessions <= 0:
            raise ValueError("idle_timeout, max_age and max_sessions must be positive")
        self.registry = registry
        # The lease lapses at last_activity + 1.5 × keep_alive_s (extensions §2).
        self.keep_alive_s = max(1, round(idle_timeout / 1.5))
        self.max_age = max_age
        self.max_sessions = max_sessions
        self._ends: dict[uuid.UUID, float] = {}
        """When each login must end at the latest (bounded: pruned to the registry's console entries)."""

    def _entries(self) -> list[Any]:
        return [entry for entry in self.registry if entry.kind == CONSOLE_KIND]

    def __len__(self) -> int:
        return len(self._entries())

    def open(self, principal: Any, user: str, lifetime: float | None = None) -> str:
        entries = self._entries()
        if len(entries) >= self.max_sessions:
            for entry in sorted(entries, key=lambda entry: entry.last_activity)[: len(entries) - self.max_sessions + 1]:
                self.registry.delete(entry)
        if len(self.registry) >= self.registry.max_total:
            raise ConsoleSessionsFull(
                f"the server holds {self.registry.max_total} sub-sessions (max_sub_sessions_total)"
            )
        cookie = secrets.token_urlsafe(32)
        who = identity(principal)
        session_id = uuid.uuid4()
        live = {entry.id for entry in entries}
        for gone in [key for key in self._ends if key not in live]:
            del self._ends[gone]
        self._ends[session_id] = self.registry.clock() + (
            self.max_age if lifetime is None else min(self.max_age, lifetime)
        )
        self.registry.create(
            session_id,
            owner=who,
            creator=who,
            method=_METHOD_TOKEN if getattr(principal, "kind", None) == "token" else _METHOD_PASSWORD,
            principal=principal,
            attachment=None,
            options={"keep_alive_s": self.keep_alive_s, "expiry_s": 0, "description": f"console login of {user}"},
            kind=CONSOLE_KIND,
            secondary_key=_key(cookie),
        )
        return cookie

    def find(self, cookie: str) -> ConsoleSession | None:
        entry = self.registry.find(_key(cookie))
        if entry is None or entry.kind != CONSOLE_KIND or entry.status == BANNED:
            return None
        now = self.registry.clock()
        expires = self.registry.expires_at(entry)
        ends = self._ends.get(entry.id, entry.created + self.max_age)
        if now >= ends or (expires is not None and now >= expires):
            self.registry.delete(entry)
            self._ends.pop(entry.id, None)
            return None
        self.registry.activity(entry)
        user = getattr(entry.principal, "name", None)
        name = user if isinstance(user, str) else entry.owner
        return ConsoleSession(entry.principal, name, entry.created, now, ends)

    def close(self, cookie: str) -> bool:
        entry = self.registry.find(_key(cookie))
        if entry is None or entry.kind != CONSOLE_KIND:
            return False
        self.registry.delete(entry)
        self._ends.pop(entry.id, None)
        return True

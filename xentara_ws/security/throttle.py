"""Failed-login accounting: back-off per (client address, user name) and per address (injectable clock).

One small API for every login path: the WebSocket upgrade (Basic/Bearer), sub-session logins and
any later one (JSON createSession): ask `retry_after` first, report `failed` or `succeeded` after.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable

logger = logging.getLogger(__name__)

_MAX_TRACKED = 10000


class _Window:
    """Failures in a sliding window and the end of a running lock-out, for one key."""

    __slots__ = ("failures", "locked_until")

    def __init__(self) -> None:
        self.failures: deque[float] = deque()
        self.locked_until = 0.0


class LoginThrottle:
    """After `max_failures` failed logins of one user from one address within `window` seconds, that
    (address, user) is refused for `lockout` seconds, even with the right password. A success resets
    only its own (address, user): another account's success from the same address does not. Failures of
    any user from one address also count for the address as a whole (`max_address_failures`, default
    four times `max_failures`): trying many user names is limited too, and no success resets that.
    """

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        max_failures: int = 5,
        window: float = 60.0,
        lockout: float = 60.0,
        max_address_failures: int | None = None,
    ) -> None:
        self.clock = clock
        self.max_failures = max_failures
        self.window = window
        self.lockout = lockout
        self.max_address_failures = max_address_failures if max_address_failures else 4 * max_failures
        self._users: dict[tuple[str, str], _Window] = {}
        self._addresses: dict[str, _Window] = {}

    def retry_after(self, address: str, user: str) -> int:
        """Whole seconds until this user may try again from this address; 0 if now."""
        now = self.clock()
        until = 0.0
        for window in (self._users.get((address, user)), self._addresses.get(address)):
            if window is not None and window.locked_until > now:
                until = max(until, window.locked_until)
        return max(1, math.ceil(until - now)) if until else 0

    def failed(self, address: str, user: str) -> None:
        now = self.clock()
        self._count(self._users, (address, user), self.max_failures, now, f"{user!r} from {address}")
        self._count(self._addresses, address, self.max_address_failures, now, f"any user from {address}")

    def succeeded(self, address: str, user: str) -> None:
        self._users.pop((address, user), None)

    def _count(self, table: dict, key: object, limit: int, now: float, who: str) -> None:  # type: ignore[type-arg]
        window = table.get(key)
        if window is None:
            if len(table) >= _MAX_TRACKED:
                self._forget(table, now)
            window = table[key] = _Window()
        times = window.failures
        times.append(now)
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= limit:
            window.locked_until = now + self.lockout
            times.clear()
            logger.warning("%d failed logins of %s within %ss: refused for %ss", limit, who, self.window, self.lockout)

    def _forget(self, table: dict, now: float) -> None:  # type: ignore[type-arg]
        # Bound memory under a spray of addresses or names: drop keys with nothing recent.
        horizon = now - self.window
        stale = [k for k, w in table.items() if w.locked_until <= now and (not w.failures or w.failures[-1] <= horizon)]
        for key in stale:
            del table[key]
        while len(table) >= _MAX_TRACKED * 9 // 10:  # all recent: the oldest go first, with room to spare
            del table[next(iter(table))]

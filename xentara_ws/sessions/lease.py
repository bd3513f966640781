"""Lease arithmetic of temporary sub-sessions (extensions §2, §9.8): pure functions of the entry's state.

Times are seconds on the registry's clock. With `k = keep_alive_s` and `e = expiry_s`:
`T_idle` is the earlier of `last_activity + 1.5 k` (only when k > 0) and the moment the connection
closed (only once it has); the sub-session is removed at `T_idle + e`, never when `e` is NEVER.
Permanent sub-sessions are never removed (their keep-alive lapse is only a loss).
"""

from __future__ import annotations

NEVER = 4294967296
"""FairCom's "never" for an expiry."""


def idle_at(keep_alive_s: int, last_activity: float, closed_at: float | None) -> float | None:
    """`T_idle`, or None when it cannot come now (k = 0 and the connection open)."""
    candidates = []
    if keep_alive_s > 0:
        candidates.append(last_activity + 1.5 * keep_alive_s)
    if closed_at is not None:
        candidates.append(closed_at)
    return min(candidates) if candidates else None


def removal_at(
    permanent: bool, keep_alive_s: int, expiry_s: int, last_activity: float, closed_at: float | None
) -> float | None:
    """When the sub-session is removed, or None when it cannot expire now."""
    if permanent or expiry_s >= NEVER:
        return None
    idle = idle_at(keep_alive_s, last_activity, closed_at)
    return None if idle is None else idle + expiry_s

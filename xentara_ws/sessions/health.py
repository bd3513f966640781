"""Health of a sub-session (extensions §5, §9.12): sliding 60-second rates and threshold checks."""

from __future__ import annotations

from collections import deque

from ..protocol.health import HealthThresholds as HealthThresholds  # re-exported: the server side of option key 4

WINDOW_S = 60


class SlidingRate:
    """Counts over the last 60 s in one-second buckets: O(1) per event, at most 60 buckets kept."""

    __slots__ = ("_buckets",)

    def __init__(self) -> None:
        self._buckets: deque[list[int]] | None = None
        """Made on first use: most of a large registry's entries are idle."""

    def add(self, now: float, count: int = 1) -> None:
        second = int(now)
        buckets = self._buckets
        if buckets is None:
            buckets = self._buckets = deque()
        if buckets and buckets[-1][0] == second:
            buckets[-1][1] += count
        else:
            buckets.append([second, count])
            while len(buckets) > WINDOW_S:
                buckets.popleft()

    def total(self, now: float) -> int:
        if self._buckets is None:
            return 0
        oldest = int(now) - WINDOW_S
        return sum(count for second, count in self._buckets if second > oldest)


NO_THRESHOLDS = HealthThresholds()


def evaluate(
    thresholds: HealthThresholds, attached: bool, requests: int, backlog: int, subscriptions: int
) -> tuple[str, list[str]]:
    """`("offline", [])` when detached; else healthy or unhealthy with one reason per violation."""
    if not attached:
        return "offline", []
    t = thresholds
    reasons = []
    if t.min_requests_per_minute and requests < t.min_requests_per_minute:
        reasons.append(f"{requests} requests in the last minute, fewer than {t.min_requests_per_minute}")
    if t.max_requests_per_minute and requests > t.max_requests_per_minute:
        reasons.append(f"{requests} requests in the last minute, more than {t.max_requests_per_minute}")
    if t.max_backlog_per_minute and backlog > t.max_backlog_per_minute:
        reasons.append(
            f"{backlog} changes coalesced or dropped in the last minute, more than {t.max_backlog_per_minute}"
        )
    if t.min_subscriptions and subscriptions < t.min_subscriptions:
        reasons.append(f"{subscriptions} bound subscriptions, fewer than {t.min_subscriptions}")
    if t.max_subscriptions and subscriptions > t.max_subscriptions:
        reasons.append(f"{subscriptions} bound subscriptions, more than {t.max_subscriptions}")
    return ("unhealthy" if reasons else "healthy"), reasons

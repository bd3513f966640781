"""The health thresholds of a sub-session (extensions §5, option key 4): shared by the server and the client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class HealthThresholds:
    """Option key 4; each 0 = not checked (FairCom's rule)."""

    min_requests_per_minute: int = 0
    max_requests_per_minute: int = 0
    max_backlog_per_minute: int = 0
    min_subscriptions: int = 0
    max_subscriptions: int = 0

    def to_map(self) -> dict[int, int]:
        return {
            0: self.min_requests_per_minute,
            1: self.max_requests_per_minute,
            2: self.max_backlog_per_minute,
            3: self.min_subscriptions,
            4: self.max_subscriptions,
        }

    @classmethod
    def from_map(cls, value: dict[Any, Any]) -> HealthThresholds:
        return cls(*(int(value.get(key, 0)) for key in range(5)))

"""Client-side types of the sub-session extensions: options, summaries and descriptions (extensions §1, §3-6)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from ..protocol.codec import TimePoint
from ..protocol.health import HealthThresholds
from .types import Timestamp, XentaraError

NEVER = 4294967296
"""An expiry that never comes."""


@dataclass(frozen=True)
class LastWill:
    """Written on the sub-session's behalf `delay` seconds after it is lost (extensions §6)."""

    element: uuid.UUID
    value: Any
    attribute: int | uuid.UUID = 11  # value
    delay: int = 0

    def to_wire(self) -> dict[int, Any]:
        return {0: self.element, 1: self.attribute, 2: self.value, 3: self.delay}


Health = HealthThresholds
"""Thresholds per minute (0 = not checked), the same type the server uses."""


_UNSET: Any = object()


def options_map(
    *,
    permanent: bool | None = None,
    keep_alive: int | None = None,
    expiry: int | None = None,
    description: str | None = None,
    health: Health | None = None,
    last_will: LastWill | None = _UNSET,
    status: str | None = None,
) -> dict[int, Any]:
    """The options map (key 256 of create_sub_session, key 1 of alter); only what is given."""
    options: dict[int, Any] = {}
    if permanent is not None:
        options[0] = permanent
    if keep_alive is not None:
        options[1] = keep_alive
    if expiry is not None:
        options[2] = expiry
    if description is not None:
        options[3] = description
    if health is not None:
        options[4] = health.to_map()
    if last_will is not _UNSET:
        options[5] = None if last_will is None else last_will.to_wire()
    if status is not None:
        options[6] = status
    return options


def _timestamp(raw: Any) -> Timestamp | None:
    return Timestamp.from_ns(raw.ns) if isinstance(raw, TimePoint) else None


@dataclass(frozen=True)
class SubSessionSummary:
    id: uuid.UUID
    owner: str
    status: str
    permanent: bool
    connected: bool
    health: str

    @classmethod
    def from_wire(cls, raw: Any) -> SubSessionSummary:
        return cls(raw[0], raw.get(1, ""), raw.get(3, ""), bool(raw.get(4)), bool(raw.get(8)), raw.get(12, ""))


@dataclass(frozen=True)
class SubSessionDescription:
    id: uuid.UUID
    owner: str
    method: int
    status: str
    permanent: bool
    keep_alive: int
    expiry: int
    description: str
    connected: bool
    created: Timestamp | None
    last_activity: Timestamp | None
    expires_at: Timestamp | None
    health: str
    health_reasons: list[str]
    counters: dict[str, int]
    thresholds: Health
    last_will: LastWill | None
    peer: str | None
    creator: str
    raw: dict[int, Any] = field(repr=False, default_factory=dict)

    @classmethod
    def from_wire(cls, raw: Any) -> SubSessionDescription:
        counters = raw.get(14) or {}
        will = raw.get(16)
        return cls(
            id=raw[0],
            owner=raw.get(1, ""),
            method=raw.get(2, 0),
            status=raw.get(3, ""),
            permanent=bool(raw.get(4)),
            keep_alive=raw.get(5, 0),
            expiry=raw.get(6, 0),
            description=raw.get(7, ""),
            connected=bool(raw.get(8)),
            created=_timestamp(raw.get(9)),
            last_activity=_timestamp(raw.get(10)),
            expires_at=_timestamp(raw.get(11)),
            health=raw.get(12, ""),
            health_reasons=list(raw.get(13) or ()),
            counters={
                "requests_total": counters.get(0, 0),
                "requests_last_minute": counters.get(1, 0),
                "events_sent": counters.get(2, 0),
                "dropped_last_minute": counters.get(3, 0),
                "subscriptions": counters.get(4, 0),
            },
            thresholds=Health.from_map(raw.get(15) or {}),
            last_will=None if will is None else LastWill(will[0], will[2], will[1], will.get(3, 0)),
            peer=raw.get(17),
            creator=raw.get(18, ""),
            raw=dict(raw),
        )


def description_or_error(item: Any) -> SubSessionDescription | XentaraError:
    """One item of describe_sub_sessions: 121(description) or 122(error)."""
    tag = getattr(item, "tag", None)
    if tag == 121:
        return SubSessionDescription.from_wire(item.value)
    return XentaraError.from_map(getattr(item, "value", item))

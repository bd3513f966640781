"""The wire views of a sub-session: the description map (extensions §4) and the list summary (§3)."""

from __future__ import annotations

from typing import Any

from ..protocol.codec import TimePoint
from .entry import SubSessionEntry
from .registry import SubSessionRegistry


def description(registry: SubSessionRegistry, entry: SubSessionEntry) -> dict[int, Any]:
    now = registry.clock()
    expires = registry.expires_at(entry)
    health, reasons = registry.health(entry)
    attachment = entry.attachment
    return {
        0: entry.id,
        1: entry.owner,
        2: entry.method,
        3: entry.status,
        4: entry.permanent,
        5: entry.keep_alive_s,
        6: entry.expiry_s,
        7: entry.description,
        8: attachment is not None,
        9: TimePoint.from_seconds(entry.created),
        10: TimePoint.from_seconds(entry.last_activity),
        11: None if expires is None else TimePoint.from_seconds(expires),
        12: health,
        13: reasons,
        14: {
            0: entry.requests_total,
            1: entry.requests.total(now),
            2: entry.events_sent,
            3: entry.backlog.total(now),
            4: len(entry.subscriptions),
        },
        15: entry.health.to_map(),
        16: None if entry.last_will is None else entry.last_will.to_map(),
        17: (getattr(attachment, "peer_address", "") or None) if attachment is not None else None,
        18: entry.creator,
    }


def summary(registry: SubSessionRegistry, entry: SubSessionEntry) -> dict[int, Any]:
    return {
        0: entry.id,
        1: entry.owner,
        3: entry.status,
        4: entry.permanent,
        8: entry.attachment is not None,
        12: registry.health(entry)[0],
    }

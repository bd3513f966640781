"""Subscription events of one JSON session (extensions §8.5, §7, §9.21): a bounded queue for getEvents.

Each (subscription, element) keeps its last `queue_size` events (oldest dropped first, as §7
retains changes of a detached sub-session); the whole queue is bounded as well. Drops are
counted and reported once, by the next getEvents.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from ..model.element import Element
from ..model.tree import Model
from ..protocol.codec import decode
from .values import attribute_to_json, to_json

MAX_QUEUED_EVENTS = 10_000
"""Events kept per session while nobody collects them; the oldest go first beyond this."""

EventKey = tuple[str, str]
"""(subscriptionId, element UUID) as text."""


def events_from_message(model: Model, message: bytes) -> list[dict[str, Any]]:
    """The JSON events of one event message of the CBOR scheduler (one or more data-change packets)."""
    packets = decode(message)
    events = []
    for packet in packets:
        body = packet[2]
        element = model.find(body[1])
        event = data_change(str(body[0]), element, body[1], body[2])
        dropped = body.get(256)
        if dropped:
            event["dropped"] = dropped.get(0, 0)  # §7: changes lost before this one while detached
        events.append(event)
    return events


def data_change(
    subscription_id: str, element: Element | None, element_uuid: Any, values: dict[Any, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        spec = element.attributes.get(key) if element is not None else None
        if spec is None:
            out[str(to_json(key))] = to_json(value)
        else:
            out[spec.name] = attribute_to_json(spec.data_type, value)
    return {
        "event": "dataChange",
        "subscriptionId": subscription_id,
        "element": element.primary_key if element is not None else str(element_uuid),
        "uuid": str(element_uuid),
        "values": out,
    }


def _labelled(
    key: EventKey, queue: deque[tuple[int, dict[str, Any]]]
) -> Iterator[tuple[int, EventKey, dict[str, Any]]]:
    """The queue's events with their key, for merging by sequence number."""
    for sequence, event in queue:
        yield sequence, key, event


class EventQueue:
    """Pending events of one session, oldest first; bounded per element and in total."""

    def __init__(self, limit: int = MAX_QUEUED_EVENTS, on_put: Callable[[], None] = lambda: None) -> None:
        self.limit = limit
        self.on_put = on_put
        self.queue_sizes: dict[str, int] = {}
        """Per subscription id: how many events of one element are kept (§7 queue_size)."""
        self._queues: dict[EventKey, deque[tuple[int, dict[str, Any]]]] = {}
        self._sequence = itertools.count()
        self._count = 0
        self.dropped = 0
        """Events lost since the last take (reported by getEvents, then reset)."""

    def __len__(self) -> int:
        return self._count

    def put(self, event: dict[str, Any]) -> None:
        subscription_id = event["subscriptionId"]
        key = (subscription_id, event["uuid"])
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = deque()
        if len(queue) >= self.queue_sizes.get(subscription_id, 1):
            queue.popleft()
            self._count -= 1
            self.dropped += 1
        if self._count >= self.limit:
            self._drop_oldest()
        queue.append((next(self._sequence), event))
        self._count += 1
        self.on_put()

    def _drop_oldest(self) -> None:
        key = min((k for k, q in self._queues.items() if q), key=lambda k: self._queues[k][0][0])
        self._queues[key].popleft()
        self._count -= 1
        self.dropped += 1

    def take(self, max_events: int, subscription_id: str | None = None) -> tuple[list[dict[str, Any]], int]:
        """Up to `max_events` events, oldest first (optionally of one subscription), and the drop count."""
        keys = [k for k, q in self._queues.items() if q and (subscription_id is None or k[0] == subscription_id)]
        merged = heapq.merge(*(_labelled(key, self._queues[key]) for key in keys))
        taken: list[dict[str, Any]] = []
        per_key: dict[EventKey, int] = {}
        for _, key, event in itertools.islice(merged, max_events):
            taken.append(event)
            per_key[key] = per_key.get(key, 0) + 1
        for key, count in per_key.items():
            queue = self._queues[key]
            for _ in range(count):
                queue.popleft()
            if not queue:
                del self._queues[key]
        self._count -= len(taken)
        dropped, self.dropped = self.dropped, 0
        return taken, dropped

    def has_events(self, subscription_id: str | None = None) -> bool:
        if subscription_id is None:
            return self._count > 0
        return any(q for k, q in self._queues.items() if k[0] == subscription_id)

    def forget(self, subscription_id: str) -> None:
        """Drop what is queued for a subscription that ended."""
        self.queue_sizes.pop(subscription_id, None)
        for key in [k for k in self._queues if k[0] == subscription_id]:
            self._count -= len(self._queues.pop(key))

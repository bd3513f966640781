"""Subscriptions of one connection and the scheduling of their data-change events (spec 5.6, 6, 10.2-10.4).

Changes only mark (subscription, element) entries as pending; values are read when the event is
built, so a client that is slower than the changes always gets the latest value (latest wins)
and the pending set never holds more than one entry per subscribed element. The encoding of an
element's values is cached on the element and shared by every subscriber.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..model.element import AttributeKey, Element
from ..protocol.packets import encode_event, event_head, event_prefix, message_head
from .access import AccessPolicy
from .budget import ServerBudget
from .wire import encoded_access_denied, encoded_values

MAX_PACKETS_PER_EVENT_MESSAGE = 1000
_MS = 1_000_000


@dataclass(eq=False, slots=True)
class Entry:
    """One element of one subscription: the unit events are scheduled and sent in."""

    subscription: Subscription
    element: Element
    keys: tuple[AttributeKey, ...]
    key_set: frozenset[AttributeKey]
    prefix: bytes
    """The encoded event packet up to the value map, constant for the entry's lifetime."""
    interval: int | None = None
    """The subscription's maximum_update_interval, kept here because every change reads it."""
    last_sent: int = -(2**62)
    due: int = 0


@dataclass(eq=False, slots=True)
class Subscription:
    id: uuid.UUID
    maximum_update_interval: int | None
    """Nanoseconds: at most one event per element in this interval (key 1)."""
    heartbeat_interval: int | None
    """Nanoseconds: re-send current values when nothing was sent for this long (key 2)."""
    entries: list[Entry] = field(default_factory=list)
    owner: Any = None
    """The sub-session it is bound to (extensions §7), None for an ordinary subscription."""


class EventScheduler:
    """Pending data-change events of one connection; pure apart from the clock it is given."""

    def __init__(
        self,
        clock: Callable[[], int],
        access: AccessPolicy,
        principal: Any = None,
        wake: Callable[[], None] = lambda: None,
        budget: ServerBudget | None = None,
    ) -> None:
        self.clock = clock
        self.budget = budget
        self.attribute_count = 0
        """Element/attribute pairs over all subscriptions (kept current by add/remove)."""
        self.access = access
        self.principal = principal
        self.wake = wake
        self.subscriptions: dict[uuid.UUID, Subscription] = {}
        # Insertion-ordered sets (dicts) so removing one entry costs O(1), not a scan of every watcher.
        self._watch: dict[Element, dict[Entry, None]] = {}
        self._pending: dict[Entry, None] = {}
        self._next_heartbeat: int | None = None
        self._ready: list[bytes] = []
        """Already encoded event messages to send first (a bound subscription's catch-up)."""

    # -- subscriptions ------------------------------------------------------------------------

    def add(
        self,
        subscription_id: uuid.UUID,
        items: list[tuple[Element, tuple[AttributeKey, ...]]],
        maximum_update_rate_ms: int | None,
        minimum_update_rate_ms: int | None,
        *,
        owner: Any = None,
        initial: bool = True,
    ) -> Subscription:
        """Create (or replace) a subscription; each element gets an initial event at once.

        `owner` binds it to a sub-session; `initial=False` (a bound subscription moving to this
        connection) sends nothing until the next change.
        """
        self.remove(subscription_id)
        subscription = Subscription(
            subscription_id,
            maximum_update_rate_ms * _MS if maximum_update_rate_ms else None,
            minimum_update_rate_ms * _MS if minimum_update_rate_ms else None,
            owner=owner,
        )
        head = event_head(subscription_id)
        now = self.clock()
        for element, keys in items:
            entry = Entry(
                subscription,
                element,
                keys,
                frozenset(keys),
                event_prefix(head, element.uuid),
                interval=subscription.maximum_update_interval,
                due=now,
            )
            subscription.entries.append(entry)
            watchers = self._watch.get(element)
            if watchers is None:
                watchers = self._watch[element] = {}
                element.subscribe(self._on_change)
            watchers[entry] = None
            if initial:
                self._pending[entry] = None
            else:
                entry.last_sent = now
        self.subscriptions[subscription_id] = subscription
        added = sum(len(entry.keys) for entry in subscription.entries)
        self.attribute_count += added
        if self.budget is not None:
            self.budget.subscription_attributes += added
        if subscription.heartbeat_interval is not None:
            self._next_heartbeat = now if self._next_heartbeat is None else min(self._next_heartbeat, now)
        self.wake()
        return subscription

    def remove(self, subscription_id: uuid.UUID) -> bool:
        return self.take(subscription_id) is not None

    def unsent(self, subscription_id: uuid.UUID) -> list[tuple[Element, tuple[AttributeKey, ...]]]:
        """The (element, keys) of a subscription whose change waits to be sent (update rate, back-pressure)."""
        subscription = self.subscriptions.get(subscription_id)
        if subscription is None:
            return []
        pending = self._pending
        return [(entry.element, entry.keys) for entry in subscription.entries if entry in pending]

    def take(self, subscription_id: uuid.UUID) -> Subscription | None:
        """Remove a subscription and return it (None if there was none)."""
        subscription = self.subscriptions.pop(subscription_id, None)
        if subscription is None:
            return None
        removed = sum(len(entry.keys) for entry in subscription.entries)
        self.attribute_count -= removed
        if self.budget is not None:
            self.budget.subscription_attributes -= removed
        for entry in subscription.entries:
            self._pending.pop(entry, None)
            watchers = self._watch[entry.element]
            watchers.pop(entry, None)
            if not watchers:
                del self._watch[entry.element]
                entry.element.unsubscribe(self._on_change)
        return subscription

    def push_ready(self, messages: list[bytes]) -> None:
        """Queue encoded event messages to go out before anything else pending (then wake)."""
        if messages:
            self._ready.extend(messages)
            self.wake()

    def close(self) -> None:
        """Drop every subscription (the connection ended)."""
        for subscription_id in list(self.subscriptions):
            self.remove(subscription_id)

    # -- change notification --------------------------------------------------------------------

    def _on_change(self, element: Element, changed: frozenset[AttributeKey]) -> None:
        pending = self._pending
        woke = False
        for entry in self._watch.get(element, ()):
            if entry in pending or entry.key_set.isdisjoint(changed):
                if entry.subscription.owner is not None and entry in pending:
                    self._coalesced(entry, changed)
                continue
            interval = entry.interval
            entry.due = 0 if interval is None else entry.last_sent + interval
            pending[entry] = None
            woke = True
        if woke:
            self.wake()

    # -- building events ------------------------------------------------------------------------

    def _coalesced(self, entry: Entry, changed: frozenset[AttributeKey]) -> None:
        """A bound subscription lost a change to back-pressure (not to its maximum update rate)."""
        if not entry.key_set.isdisjoint(changed) and (entry.interval is None or entry.due <= self.clock()):
            entry.subscription.owner.count_backlog()

    @property
    def waiting(self) -> bool:
        """Whether anything is pending or a heartbeat is scheduled (cheaper than next_deadline)."""
        return bool(self._pending) or self._next_heartbeat is not None or bool(self._ready)

    def next_deadline(self) -> int | None:
        """When `collect` next has something to send, on the scheduler's clock (None = nothing)."""
        if self._ready:
            return 0
        deadline = self._next_heartbeat
        for entry in self._pending:
            if deadline is None or entry.due < deadline:
                deadline = entry.due
        return deadline

    def collect(self, now: int | None = None) -> list[bytes]:
        """Encoded event messages for everything due now; never mixed with responses."""
        if now is None:
            now = self.clock()
        pending = self._pending
        if len(pending) == 1 and self._next_heartbeat is None and not self._ready:
            # The common case of a change fanned out to many connections: one element, one packet.
            entry = next(iter(pending))
            if entry.due > now:
                return []
            pending.clear()
            entry.last_sent = now
            owner = entry.subscription.owner
            prefix = entry.prefix if owner is None else owner.event_prefix(entry)
            element = entry.element
            if self.access.can_read(self.principal, element):
                return [encode_event(prefix, encoded_values(element, entry.keys))]
            return [encode_event(prefix, encoded_access_denied(entry.keys))]
        if self._next_heartbeat is not None and self._next_heartbeat <= now:
            self._schedule_heartbeats(now)
        if self._ready:
            ready_messages, self._ready = self._ready, []
            return ready_messages + self.collect(now)
        if not pending:
            return []
        if len(pending) == 1:
            # The common case of a change fanned out to many connections: one element, one packet.
            entry = next(iter(pending))
            if entry.due > now:
                return []
            pending.clear()
            entry.last_sent = now
            if entry.subscription.owner is not None:
                return [encode_event(entry.subscription.owner.event_prefix(entry), self._values(entry))]
            return [encode_event(entry.prefix, self._values(entry))]
        ready = [entry for entry in pending if entry.due <= now]
        messages = []
        for start in range(0, len(ready), MAX_PACKETS_PER_EVENT_MESSAGE):
            chunk = ready[start : start + MAX_PACKETS_PER_EVENT_MESSAGE]
            parts = [message_head(len(chunk))]
            for entry in chunk:
                del self._pending[entry]
                entry.last_sent = now
                owner = entry.subscription.owner
                parts.append(entry.prefix if owner is None else owner.event_prefix(entry))
                parts.append(self._values(entry))
            messages.append(b"".join(parts))
        return messages

    def _values(self, entry: Entry) -> bytes:
        element = entry.element
        if not self.access.can_read(self.principal, element):
            return encoded_access_denied(entry.keys)
        return encoded_values(element, entry.keys)

    def _schedule_heartbeats(self, now: int) -> None:
        next_beat: int | None = None
        for subscription in self.subscriptions.values():
            interval = subscription.heartbeat_interval
            if interval is None:
                continue
            for entry in subscription.entries:
                beat = entry.last_sent + interval
                if beat <= now:
                    if entry not in self._pending:
                        entry.due = now
                        self._pending[entry] = None
                    beat = now + interval
                if next_beat is None or beat < next_beat:
                    next_beat = beat
        self._next_heartbeat = next_beat

"""The sub-session registry: every sub-session of the server, keyed by UUID (extensions §1, §2, §6, §7).

One registry per server (`server.state.sub_sessions`). It owns the entries, their attachment to
a front end (a CBOR connection's Session, or anything with the `Attachment` shape), their leases
and last wills (one timer for the whole registry over a heap: lazy items, re-checked when due),
the retained changes of bound subscriptions while detached, and persistence of permanent entries.
A store that shares leases (`keeps_leases`, the cluster's KV bucket) also keeps the temporary
entries that can outlive their connection (expiry_s > 0), with their lease state; the registry then
reports lease activity to it (`touch`) and lets it decide an expiry (`expire`) instead of removing
the entry itself, so that only one node of a cluster removes it.

Time is the injected `clock` (seconds, wall clock by default, as time stamps are reported);
tests advance a fake clock and call `tick()`. Commands decide *whether* something is allowed;
the registry carries it out. Methods that change a permanent entry return a `Durable`: None,
or an awaitable the caller awaits before it replies (see storage.py).
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from ..protocol.packets import encode_data_change, encode_message
from ..server.wire import encoded_access_denied, encoded_values
from .entry import BANNED, INACTIVE, NORMAL, Attachment, BoundSubscription, SubSessionEntry
from .health import HealthThresholds, evaluate
from .lease import idle_at, removal_at
from .storage import MemoryStore, Record, SubSessionStore
from .will import LastWill

logger = logging.getLogger(__name__)

Durable = Awaitable[None] | None
WillWriter = Callable[[uuid.UUID, LastWill, Any], object]

_LEASE = 0
_WILL = 1
_MAX_PACKETS_PER_MESSAGE = 1000


class SubSessionRegistry:
    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        store: SubSessionStore | None = None,
        max_total: int = 100_000,
        on_will: WillWriter | None = None,
    ) -> None:
        self.clock = clock
        self.store: SubSessionStore = store if store is not None else MemoryStore()
        self.max_total = max_total
        self.on_will: WillWriter = on_will if on_will is not None else (lambda *_: None)
        self.entries: dict[uuid.UUID, SubSessionEntry] = {}
        self._by_key: dict[bytes, SubSessionEntry] = {}
        self._heap: list[tuple[float, int, int, uuid.UUID]] = []
        self._sequence = itertools.count()
        self._wills: dict[uuid.UUID, tuple[int, LastWill, Any]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due: float | None = None
        self._stopping = False

    # -- looking up -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[SubSessionEntry]:
        return iter(list(self.entries.values()))

    def get(self, session_id: uuid.UUID) -> SubSessionEntry | None:
        return self.entries.get(session_id)

    def find(self, secondary_key: bytes) -> SubSessionEntry | None:
        """The entry created with this secondary key (e.g. the hash of a JSON authToken)."""
        return self._by_key.get(secondary_key)

    # -- life cycle -------------------------------------------------------------------------------

    def create(
        self,
        session_id: uuid.UUID,
        *,
        owner: str,
        creator: str,
        method: int,
        principal: Any,
        attachment: Attachment | None,
        options: dict[str, Any] | None = None,
        kind: str = "cbor",
        secondary_key: bytes | None = None,
    ) -> tuple[SubSessionEntry, Durable]:
        """Add a new entry (the caller checked limits, credentials and options)."""
        if session_id in self.entries:
            raise ValueError(f"sub-session {session_id} exists")
        now = self.clock()
        entry = SubSessionEntry(
            session_id, owner, creator, method, created=now, last_activity=now, principal=principal, kind=kind
        )
        entry.secondary_key = secondary_key
        self._apply(entry, options or {})
        self.entries[session_id] = entry
        if secondary_key is not None:
            self._by_key[secondary_key] = entry
        if attachment is not None:
            self._attach(entry, attachment, catch_up=False)
        self._schedule(entry)
        return entry, self._persist(entry)

    def resume(
        self, entry: SubSessionEntry, attachment: Attachment, principal: Any, options: dict[str, Any] | None = None
    ) -> Durable:
        """Attach `entry` to `attachment` (taking it from another one if need be), as a new login.

        It keeps its bound subscriptions; what they retained while detached is queued on the new
        attachment's events, to go out after the reply. A pending last will is cancelled.
        """
        now = self.clock()
        if entry.attachment is not None and entry.attachment is not attachment:
            self._release(entry)
        entry.principal = principal
        if entry.status == INACTIVE:
            entry.status = NORMAL
        self._apply(entry, options or {})
        self._refresh(entry, now)
        entry.closed_at = None
        if entry.attachment is not attachment:
            self._attach(entry, attachment, catch_up=True)
        self._schedule(entry)
        return self._persist(entry)

    def attach(self, entry: SubSessionEntry, attachment: Attachment) -> None:
        """Attach without a new login (a front end whose requests carry the session, e.g. JSON)."""
        if entry.attachment is not None and entry.attachment is not attachment:
            self._release(entry)
        self._refresh(entry, self.clock())
        entry.closed_at = None
        if entry.attachment is not attachment:
            self._attach(entry, attachment, catch_up=True)
        self._touch(entry)
        self._schedule(entry)

    def detach(self, entry: SubSessionEntry, *, lost: bool, lease: bool | None = None) -> None:
        """Take `entry` off its attachment.

        `lost=True` is a connection loss: the lease runs from now (`T_idle`) and the last will is
        scheduled. `lease=True` without a loss starts the lease only (a JSON session whose HTTP
        request ended); `lost=False` alone just detaches (close_sub_session of a permanent one).
        """
        if entry.attachment is None:
            return
        now = self.clock()
        self._release(entry)
        self._retain(entry)
        if lost or lease:
            entry.closed_at = now
            if lost and not entry.lost:
                self._loss(entry, now)
            if self._expired(entry, now):
                self._expire(entry)
                return
        self._touch(entry)
        self._schedule(entry)

    def connection_lost(self, attachment: Attachment) -> None:
        """Its connection ended: every attached entry is detached as a loss."""
        for entry in list(attachment.sub_sessions.values()):
            self.detach(entry, lost=True)
        attachment.sub_sessions.clear()

    def close_session(self, entry: SubSessionEntry) -> Durable:
        """close_sub_session: a temporary entry is removed, a permanent one detached. No will."""
        self._cancel_will(entry)
        # Closed orderly: no loss (and so no will) until it is resumed and lost again.
        entry.lost = True
        entry.lapsed = False
        if not entry.permanent:
            return self._remove(entry)
        self._release(entry)
        self._retain(entry)
        self._schedule(entry)
        return None

    def delete(self, entry: SubSessionEntry) -> Durable:
        """delete_sub_session: removed whatever its kind; its subscriptions end; no will."""
        self._cancel_will(entry)
        return self._remove(entry)

    def activity(self, entry: SubSessionEntry) -> None:
        """A command named the sub-session: it counts as a request and restarts its lease."""
        now = self.clock()
        entry.requests_total += 1
        entry.requests.add(now)
        self._refresh(entry, now)
        self._touch(entry)
        if entry.scheduled is None and entry.keep_alive_s > 0:
            self._schedule(entry)

    def ping(self, entry: SubSessionEntry) -> int | None:
        """Activity; milliseconds until removal, None when it cannot expire now."""
        self.activity(entry)
        due = self.expires_at(entry)
        return None if due is None else max(0, round((due - self.clock()) * 1000))

    def alter(self, entry: SubSessionEntry, options: dict[str, Any]) -> Durable:
        """Merge options (checked by the caller); banning detaches at once without a will."""
        banned_before = entry.status == BANNED
        self._apply(entry, options)
        if entry.status == BANNED and not banned_before:
            self._cancel_will(entry)
            entry.lost = True  # as for an orderly close: no will until resumed and lost again
            entry.lapsed = False
            self._release(entry)
            self._retain(entry)
        self._reschedule(entry)
        return self._persist(entry)

    def bind(self, entry: SubSessionEntry, subscription: BoundSubscription) -> Durable:
        """A subscription now belongs to `entry` (the caller added it to the attachment's events)."""
        subscription.session = entry
        subscription.clock = self.clock
        entry.subscriptions[subscription.id] = subscription
        return self._persist(entry)

    def unbind(self, entry: SubSessionEntry, subscription_id: uuid.UUID) -> Durable:
        subscription = entry.subscriptions.pop(subscription_id, None)
        if subscription is None:
            return None
        self._unwatch(subscription)
        return self._persist(entry)

    def shutdown(self) -> None:
        """Server shutdown begins: timers stop and no will fires from now on (also not for the
        connections the shutdown closes). Call close() once the connections are gone."""
        self._stopping = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_due = None
        self._wills.clear()

    def close(self) -> None:
        """After shutdown(): release the elements watched for detached entries, close storage."""
        for entry in self.entries.values():
            for subscription in entry.subscriptions.values():
                self._unwatch(subscription)
        self.store.close()

    # -- views ----------------------------------------------------------------------------------

    def expires_at(self, entry: SubSessionEntry) -> float | None:
        if entry.held_elsewhere and entry.attachment is None:
            return None
        due = removal_at(entry.permanent, entry.keep_alive_s, entry.expiry_s, entry.last_activity, entry.closed_at)
        if due is not None and self.shared(entry):
            # The store's copy of the lease may lag the latest activity by its write interval.
            due += getattr(self.store, "lease_grace", 0.0)
        return due

    def shared(self, entry: SubSessionEntry) -> bool:
        """Whether the store keeps this entry: permanent ones always; temporary ones that can
        outlive their connection (expiry_s > 0) when the store shares leases (a cluster)."""
        if entry.permanent or entry.stored:
            return True
        return entry.expiry_s > 0 and bool(getattr(self.store, "keeps_leases", False))

    def merge_lease(self, entry: SubSessionEntry, last_activity: float, closed_at: float | None) -> bool:
        """Another node's view of the lease (from a shared store): the later activity counts.

        `closed_at` None says the writer holds the entry attached: while this node does not, the
        entry is held elsewhere and does not expire here, but this node's own closed time stays its
        own (writing another node's "attached" back as its own would keep the entry forever once
        that node let go). Returns True when this node holds it attached but the store says
        detached: this node's state should be written again."""
        entry.last_activity = max(entry.last_activity, last_activity)
        entry.held_elsewhere = closed_at is None
        if entry.attachment is None and closed_at is not None:
            entry.closed_at = closed_at if entry.closed_at is None else max(entry.closed_at, closed_at)
        self._reschedule(entry)
        return entry.attachment is not None and closed_at is not None

    def health(self, entry: SubSessionEntry) -> tuple[str, list[str]]:
        now = self.clock()
        state, reasons = evaluate(
            entry.health,
            entry.attachment is not None,
            entry.requests.total(now),
            entry.backlog.total(now),
            len(entry.subscriptions),
        )
        if entry.attachment is not None and entry.lapsed:
            reasons.insert(0, f"no activity for more than 1.5 x keep_alive_s ({entry.keep_alive_s} s)")
            state = "unhealthy"
        return state, reasons

    # -- persistence ------------------------------------------------------------------------------

    def load(self, resolve: Callable[[uuid.UUID], Any]) -> int:
        """Read the permanent entries from storage (at start-up): all offline until resumed."""
        count = 0
        for record in self.store.load():
            try:
                entry = _from_record(record, resolve)
            except (KeyError, TypeError, ValueError) as error:
                logger.error("a stored sub-session cannot be restored (%s); it is skipped", error)
                continue
            for subscription in entry.subscriptions.values():
                subscription.session = entry
                subscription.clock = self.clock
            entry.stored = True
            self.entries[entry.id] = entry
            if entry.secondary_key is not None:
                self._by_key[entry.secondary_key] = entry
            if not entry.permanent:
                # Its loss (if any) was handled where it happened; here only its removal is due.
                entry.lost = entry.closed_at is not None
                self._schedule(entry)
            count += 1
        return count

    def _persist(self, entry: SubSessionEntry) -> Durable:
        if not self.shared(entry) or entry.id not in self.entries:
            return None
        entry.stored = True
        return self.store.put(entry.record())

    def _touch(self, entry: SubSessionEntry) -> None:
        """Lease activity of a shared temporary entry: the store writes it when it sees fit."""
        if entry.permanent or not self.shared(entry) or entry.id not in self.entries:
            return
        touch = getattr(self.store, "touch", None)
        if touch is not None:
            touch(entry.id)

    def _expire(self, entry: SubSessionEntry) -> None:
        """Its lease ended here: removed, or (a shared store that decides expiries) handed to the store."""
        decide = getattr(self.store, "expire", None)
        if decide is not None and self.shared(entry):
            entry.scheduled = None
            decide(entry.id)
            return
        self._remove(entry)

    def reschedule(self, entry: SubSessionEntry) -> None:
        """The lease state changed outside the registry (a store's decision): plan the next event."""
        self._reschedule(entry)

    # -- timers -----------------------------------------------------------------------------------

    def tick(self, now: float | None = None) -> None:
        """Act on everything due by `now` (the timer calls it; tests call it after moving the clock)."""
        if now is None:
            now = self.clock()
        heap = self._heap
        while heap and heap[0][0] <= now:
            due, token, kind, session_id = heapq.heappop(heap)
            if kind == _WILL:
                pending = self._wills.get(session_id)
                if pending is None or pending[0] != token:
                    continue
                del self._wills[session_id]
                try:
                    self.on_will(session_id, pending[1], pending[2])
                except Exception:
                    logger.exception("last will of sub-session %s failed", session_id)
                continue
            entry = self.entries.get(session_id)
            if entry is None or entry.scheduled != due:
                continue  # removed, or rescheduled (a stale item)
            entry.scheduled = None
            self._evaluate(entry, now)
        if len(heap) > 2 * (len(self.entries) + len(self._wills)) + 1024:
            self._compact()
        if heap:
            self._arm(heap[0][0])

    def _evaluate(self, entry: SubSessionEntry, now: float) -> None:
        # A connection loss was handled when it happened; here only a keep-alive lapse is one.
        lapse = idle_at(entry.keep_alive_s, entry.last_activity, None)
        if lapse is not None and lapse <= now and not entry.lost:
            entry.lapsed = entry.attachment is not None
            self._loss(entry, lapse)
        if self._expired(entry, now):
            self._expire(entry)
            return
        self._schedule(entry)

    def _expired(self, entry: SubSessionEntry, now: float) -> bool:
        due = self.expires_at(entry)
        return due is not None and due <= now

    def _schedule(self, entry: SubSessionEntry) -> None:
        """Make sure the heap holds an item no later than the entry's next lease event."""
        if entry.id not in self.entries:
            return
        candidates = []
        if not entry.lost:
            lapse = idle_at(entry.keep_alive_s, entry.last_activity, None)
            if lapse is not None:
                candidates.append(lapse)
        removal = self.expires_at(entry)
        if removal is not None:
            candidates.append(removal)
        if not candidates:
            return
        due = min(candidates)
        if entry.scheduled is None or due < entry.scheduled:
            entry.scheduled = due
            heapq.heappush(self._heap, (due, next(self._sequence), _LEASE, entry.id))
            self._arm(due)

    def _reschedule(self, entry: SubSessionEntry) -> None:
        entry.scheduled = None  # any older item becomes stale
        self._schedule(entry)

    def _arm(self, due: float) -> None:
        if self._stopping:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no event loop (tests drive tick() themselves)
        if self._timer_due is not None and self._timer_due <= due:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_due = due
        self._timer = loop.call_later(max(0.0, due - self.clock()), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_due = None
        self.tick()

    def _compact(self) -> None:
        items = [(e.scheduled, next(self._sequence), _LEASE, e.id) for e in self.entries.values() if e.scheduled]
        items += [(d, t, k, i) for d, t, k, i in self._heap if k == _WILL and self._wills.get(i, (None,))[0] == t]
        heapq.heapify(items)
        self._heap = items

    # -- losses and wills ---------------------------------------------------------------------------

    def _loss(self, entry: SubSessionEntry, at: float) -> None:
        entry.lost = True
        will = entry.last_will
        if will is None or entry.principal is None or self._stopping:
            return
        token = next(self._sequence)
        self._wills[entry.id] = (token, will, entry.principal)
        due = at + will.delay_s
        heapq.heappush(self._heap, (due, token, _WILL, entry.id))
        self._arm(due)

    def _cancel_will(self, entry: SubSessionEntry) -> None:
        self._wills.pop(entry.id, None)

    def will_pending(self, session_id: uuid.UUID) -> bool:
        return session_id in self._wills

    def _refresh(self, entry: SubSessionEntry, now: float) -> None:
        entry.last_activity = now
        if entry.lost or entry.lapsed:
            entry.lost = False
            entry.lapsed = False
            self._cancel_will(entry)
            self._schedule(entry)  # its next keep-alive lapse counts again

    # -- attachment and bound subscriptions ----------------------------------------------------------

    def _attach(self, entry: SubSessionEntry, attachment: Attachment, *, catch_up: bool) -> None:
        entry.attachment = attachment
        attachment.sub_sessions[entry.id] = entry
        events = attachment.events
        if events is None or not entry.subscriptions:
            return
        messages: list[bytes] = []
        packets: list[tuple[int, bytes]] = []
        for subscription in entry.subscriptions.values():
            self._unwatch(subscription)
            events.add(
                subscription.id,
                subscription.items,
                subscription.maximum_update_rate,
                subscription.minimum_update_rate,
                owner=subscription,
                initial=subscription.fresh,
            )
            subscription.fresh = False
            if catch_up:
                packets.extend(self._catch_up(subscription, events))
        if packets:
            packets.sort(key=lambda item: item[0])
            entry.events_sent += len(packets)
            for start in range(0, len(packets), _MAX_PACKETS_PER_MESSAGE):
                chunk = packets[start : start + _MAX_PACKETS_PER_MESSAGE]
                messages.append(encode_message([p for _, p in chunk]))
            try:
                # After the reply that attached it: the events go out on a later loop iteration.
                asyncio.get_running_loop().call_soon(events.push_ready, messages)
            except RuntimeError:
                events.push_ready(messages)

    def _catch_up(self, subscription: BoundSubscription, events: Any) -> list[tuple[int, bytes]]:
        packets = []
        dropped_by_element = subscription.dropped_by_element
        for element, queue in subscription.retained.items():
            readable = events.access.can_read(events.principal, element)
            dropped = dropped_by_element.get(element, 0)
            for sequence, values in queue:
                if not readable:
                    keys = next((k for e, k in subscription.items if e is element), ())
                    values = encoded_access_denied(keys)
                packets.append((sequence, encode_data_change(subscription.id, element.uuid, values, dropped)))
                dropped = 0
        subscription.retained.clear()
        subscription.dropped = 0
        dropped_by_element.clear()
        return packets

    def _release(self, entry: SubSessionEntry) -> None:
        """Take the entry (and its bound subscriptions) off its attachment."""
        attachment = entry.attachment
        if attachment is None:
            return
        entry.attachment = None
        attachment.sub_sessions.pop(entry.id, None)
        events = attachment.events
        if events is not None:
            for subscription_id, subscription in entry.subscriptions.items():
                # A change that had not gone out yet is not lost: it is retained like one made while
                # detached, so that the next attachment's catch-up sends it.
                for element, keys in events.unsent(subscription_id):
                    self._keep(entry, subscription, element, keys)
                events.take(subscription_id)

    def _retain(self, entry: SubSessionEntry) -> None:
        """While detached, keep the last queue_size changes per element of each bound subscription."""
        for subscription in entry.subscriptions.values():
            if subscription.watching or subscription.fresh:
                continue
            for element, keys in subscription.items:
                listener = functools.partial(self._on_retained_change, entry, subscription, frozenset(keys), keys)
                element.subscribe(listener)
                subscription.watching.append((element, listener))

    def _on_retained_change(
        self,
        entry: SubSessionEntry,
        subscription: BoundSubscription,
        key_set: frozenset[Any],
        keys: tuple[Any, ...],
        element: Any,
        changed: frozenset[Any],
    ) -> None:
        if not key_set.isdisjoint(changed):
            self._keep(entry, subscription, element, keys)

    def _keep(
        self, entry: SubSessionEntry, subscription: BoundSubscription, element: Any, keys: tuple[Any, ...]
    ) -> None:
        """Retain the element's current values for the next catch-up (the oldest go when the queue is full)."""
        queue = subscription.retained.get(element)
        if queue is None:
            queue = subscription.retained[element] = deque()
        if len(queue) >= subscription.queue_size:
            queue.popleft()
            subscription.dropped += 1
            dropped = subscription.dropped_by_element
            dropped[element] = dropped.get(element, 0) + 1
            entry.backlog.add(self.clock())
        queue.append((next(self._sequence), encoded_values(element, keys)))

    def _unwatch(self, subscription: BoundSubscription) -> None:
        for element, listener in subscription.watching:
            element.unsubscribe(listener)
        subscription.watching.clear()

    def _remove(self, entry: SubSessionEntry) -> Durable:
        if self.entries.pop(entry.id, None) is None:
            return None
        if entry.secondary_key is not None:
            self._by_key.pop(entry.secondary_key, None)
        self._release(entry)
        for subscription in entry.subscriptions.values():
            self._unwatch(subscription)
            subscription.retained.clear()
        entry.scheduled = None
        logger.debug("sub-session %s removed", entry.id)
        return self.store.delete(entry.id) if self.shared(entry) else None

    # -- options ------------------------------------------------------------------------------------

    def _apply(self, entry: SubSessionEntry, options: dict[str, Any]) -> None:
        for name, value in options.items():
            if name == "health":
                entry.health = value if isinstance(value, HealthThresholds) else HealthThresholds.from_map(value)
            else:
                setattr(entry, name, value)


def _from_record(record: Record, resolve: Callable[[uuid.UUID], Any]) -> SubSessionEntry:
    will = record.get("last_will")
    entry = SubSessionEntry(
        id=record["id"],
        owner=record["owner"],
        creator=record["creator"],
        method=int(record["method"]),
        created=float(record["created"]),
        last_activity=float(record["last_activity"]),
        permanent=bool(record.get("permanent", True)),
        keep_alive_s=int(record["keep_alive_s"]),
        expiry_s=int(record["expiry_s"]),
        status=str(record["status"]),
        description=str(record["description"]),
        health=HealthThresholds.from_map(record["health"]),
        last_will=None if will is None else LastWill(will[0], will[1], will[2], int(will[3])),
        kind=str(record.get("kind", "cbor")),
    )
    entry.secondary_key = record.get("secondary_key")
    closed_at = record.get("closed_at")
    entry.closed_at = None if closed_at is None else float(closed_at)
    for definition in record.get("subscriptions", ()):
        items = []
        for element_uuid, keys in definition[1]:
            element = resolve(element_uuid)
            if element is None:
                logger.warning("sub-session %s: element %s is gone from the model", entry.id, element_uuid)
                continue
            items.append((element, tuple(keys)))
        if items:
            entry.subscriptions[definition[0]] = BoundSubscription(
                definition[0], items, definition[2], definition[3], int(definition[4]), fresh=True
            )
    return entry

"""Temporary sub-sessions with an expiry in the cluster's bucket: shared, and their expiry decided once.

Two registries (two nodes) on one in-memory bucket with the same fake clock; the bucket's watch is
played by handing each node the other's writes (`apply`), as the watch does.
"""

from __future__ import annotations

import logging
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from support.cluster import MemoryKV, eventually
from support.sessions import FakeClock

from xentara_ws.cluster.sub_sessions import ClusterSubSessionStore, decode_value
from xentara_ws.sessions.registry import SubSessionRegistry
from xentara_ws.sessions.storage import MemoryStore

EXPIRY = 5
REMOVED = "expired: removed from the cluster"


class Attached:
    """A front end an entry can be attached to (the registry's Attachment shape)."""

    def __init__(self) -> None:
        self.peer_address = "127.0.0.1:1"
        self.sub_sessions: dict[uuid.UUID, Any] = {}
        self.events = None
        self.closed = False


def node(kv: MemoryKV, clock: FakeClock, name: str) -> SubSessionRegistry:
    registry = SubSessionRegistry(clock=clock)
    registry.store = ClusterSubSessionStore(kv, registry, name, lambda _: None)
    return registry


def store_of(registry: SubSessionRegistry) -> ClusterSubSessionStore:
    store = registry.store
    assert isinstance(store, ClusterSubSessionStore)
    return store


def watch(kv: MemoryKV, registry: SubSessionRegistry, session_id: uuid.UUID) -> None:
    """What the watch brings `registry`: the bucket's current value of the entry, or its deletion."""
    key = str(session_id)
    current = kv.entries.get(key)
    if current is None:
        change = SimpleNamespace(key=key, operation="DEL", value=None, revision=kv.sequence)
    else:
        change = SimpleNamespace(key=key, operation=None, value=current.value, revision=current.revision)
    store_of(registry).apply(change)


async def create_on(
    registry: SubSessionRegistry, attachment: Attached, kind: str = "cbor", **options: Any
) -> uuid.UUID:
    session_id = uuid.uuid4()
    _, durable = registry.create(
        session_id,
        owner="user:operator",
        creator="user:operator",
        method=2,
        principal=None,
        attachment=attachment,
        options={"expiry_s": EXPIRY, **options},
        kind=kind,
    )
    assert durable is not None  # it went to the bucket: the reply waits for it
    await durable
    return session_id


async def lost_on_a_and_seen_by_b(
    kv: MemoryKV, clock: FakeClock
) -> tuple[SubSessionRegistry, SubSessionRegistry, uuid.UUID]:
    """Two nodes, and a temporary sub-session created on a whose connection was lost: its lease is
    in the bucket, and b has heard of it."""
    a, b = node(kv, clock, "a"), node(kv, clock, "b")
    attachment = Attached()
    session_id = await create_on(a, attachment)
    a.connection_lost(attachment)

    async def closed_in_bucket() -> bool:
        return decode_value(kv.entries[str(session_id)].value)[0]["closed_at"] is not None

    await eventually(closed_in_bucket, timeout=5)
    watch(kv, b, session_id)
    return a, b, session_id


async def test_a_temporary_sub_session_with_an_expiry_is_in_the_bucket_with_its_lease_and_known_to_the_other_node():
    kv, clock = MemoryKV(), FakeClock()
    a, b = node(kv, clock, "a"), node(kv, clock, "b")
    session_id = await create_on(a, Attached(), keep_alive_s=10)
    record, writer, attached, _ = decode_value(kv.entries[str(session_id)].value)
    assert (record["permanent"], record["keep_alive_s"], record["expiry_s"]) == (False, 10, EXPIRY)
    assert (record["last_activity"], record["closed_at"], writer, attached) == (clock.now, None, "a", True)
    watch(kv, b, session_id)
    mirrored = b.get(session_id)
    assert mirrored is not None and not mirrored.permanent and mirrored.expiry_s == EXPIRY


async def test_a_temporary_sub_session_with_vendor_defaults_stays_on_its_node():
    kv, clock = MemoryKV(), FakeClock()
    a = node(kv, clock, "a")
    _, durable = a.create(
        uuid.uuid4(), owner="user:operator", creator="user:operator", method=2, principal=None, attachment=Attached()
    )
    assert durable is None and kv.entries == {}


async def test_without_a_cluster_temporary_sub_sessions_are_not_stored():
    store = MemoryStore()
    registry = SubSessionRegistry(clock=FakeClock(), store=store)
    registry.create(
        uuid.uuid4(),
        owner="user:operator",
        creator="user:operator",
        method=2,
        principal=None,
        attachment=Attached(),
        options={"expiry_s": EXPIRY},
    )
    assert store.load() == []


async def test_the_lost_connection_is_written_and_the_expiry_is_decided_by_exactly_one_node(caplog):
    caplog.set_level(logging.INFO, logger="xentara_ws.cluster.sub_sessions")
    kv, clock = MemoryKV(), FakeClock()
    a, b = node(kv, clock, "a"), node(kv, clock, "b")
    attachment = Attached()
    session_id = await create_on(a, attachment)
    watch(kv, b, session_id)
    a.connection_lost(attachment)  # the lease runs from now

    async def closed_in_bucket() -> bool:
        return decode_value(kv.entries[str(session_id)].value)[0]["closed_at"] == clock.now

    await eventually(closed_in_bucket, timeout=5)
    watch(kv, b, session_id)
    clock.advance(EXPIRY + 0.5)  # due on both nodes' own arithmetic, but within the write interval
    a.tick()
    b.tick()

    async def both_decided() -> bool:
        return str(session_id) in kv.entries and a.get(session_id) is not None and b.get(session_id) is not None

    await eventually(both_decided, timeout=5)  # not removed early: the bucket may lag the activity
    clock.advance(1)
    a.tick()
    b.tick()

    async def gone_everywhere() -> bool:
        return str(session_id) not in kv.entries and a.get(session_id) is None and b.get(session_id) is None

    await eventually(gone_everywhere, timeout=5)
    removals = [r.getMessage() for r in caplog.records if REMOVED in r.getMessage()]
    assert len(removals) == 1, removals


async def test_activity_written_by_another_node_postpones_the_expiry_a_stale_node_finds_due():
    kv, clock = MemoryKV(), FakeClock()
    a, b, session_id = await lost_on_a_and_seen_by_b(kv, clock)
    clock.advance(EXPIRY - 1)
    on_b = b.get(session_id)
    assert on_b is not None
    b.attach(on_b, Attached())  # used on b (a JSON request, say): b writes the new lease state
    b.detach(on_b, lost=False, lease=True)
    used_at = clock.now

    async def activity_in_bucket() -> bool:
        return decode_value(kv.entries[str(session_id)].value)[0]["last_activity"] == used_at

    await eventually(activity_in_bucket, timeout=5)
    clock.advance(3)  # a (which did not hear of it) finds its copy due
    a.tick()
    on_a = a.get(session_id)

    async def rescheduled_on_a() -> bool:
        return on_a is not None and a.expires_at(on_a) == used_at + EXPIRY + store_of(a).lease_grace

    await eventually(rescheduled_on_a, timeout=5)
    assert str(session_id) in kv.entries and a.get(session_id) is on_a


async def test_a_stale_deletion_attempt_loses_and_the_node_follows_the_bucket(caplog):
    caplog.set_level(logging.INFO, logger="xentara_ws.cluster.sub_sessions")
    kv, clock = MemoryKV(), FakeClock()
    a, b, session_id = await lost_on_a_and_seen_by_b(kv, clock)
    clock.advance(EXPIRY + 2)
    a.tick()

    async def removed_by_a() -> bool:
        return str(session_id) not in kv.entries and a.get(session_id) is None

    await eventually(removed_by_a, timeout=5)
    b.tick()  # b never heard of the deletion (its watch is late): its own decision finds nothing to remove

    async def dropped_on_b() -> bool:
        return b.get(session_id) is None

    await eventually(dropped_on_b, timeout=5)
    assert [r.getMessage() for r in caplog.records if REMOVED in r.getMessage()] == [
        f"sub-session {session_id} {REMOVED} by node a"
    ]


@pytest.mark.parametrize("permanent", [True, False])
async def test_a_node_that_leaves_cleanly_starts_the_lease_of_what_it_held(permanent):
    kv, clock = MemoryKV(), FakeClock()
    a = node(kv, clock, "a")
    session_id = await create_on(a, Attached(), permanent=permanent)
    await store_of(a).leave()
    record, _, attached, _ = decode_value(kv.entries[str(session_id)].value)
    assert attached is False
    assert record["closed_at"] == (None if permanent else clock.now)


async def test_a_shared_sub_session_altered_to_no_expiry_stays_in_the_bucket_and_follows_its_changes():
    kv, clock = MemoryKV(), FakeClock()
    a = node(kv, clock, "a")
    session_id = await create_on(a, Attached())
    entry = a.get(session_id)
    assert entry is not None
    durable = a.alter(entry, {"expiry_s": 0, "description": "short now"})
    assert durable is not None
    await durable
    record, _, _, _ = decode_value(kv.entries[str(session_id)].value)
    assert (record["expiry_s"], record["description"]) == (0, "short now")


async def test_a_lost_sub_session_whose_will_is_pending_stays_attached_to_its_node_in_the_bucket():
    from xentara_ws.sessions.will import LastWill

    kv, clock = MemoryKV(), FakeClock()
    a = node(kv, clock, "a")
    attachment = Attached()
    session_id = uuid.uuid4()
    _, durable = a.create(
        session_id,
        owner="user:operator",
        creator="user:operator",
        method=2,
        principal="operator",
        attachment=attachment,
        options={"expiry_s": EXPIRY, "last_will": LastWill(uuid.uuid4(), 11, 1, 60)},
    )
    assert durable is not None
    await durable
    a.connection_lost(attachment)
    assert a.will_pending(session_id)

    async def closed_in_bucket() -> bool:
        return decode_value(kv.entries[str(session_id)].value)[0]["closed_at"] == clock.now

    await eventually(closed_in_bucket, timeout=5)
    _, writer, attached, _ = decode_value(kv.entries[str(session_id)].value)
    assert (writer, attached) == ("a", True)  # should a die before the will fires, the leader claims it


async def test_another_node_holding_a_json_session_keeps_it_here_without_this_node_writing_that_back():
    """A JSON session used on two nodes: b's "attached" (a request running there) stops the expiry on a,
    but what a writes is its own detached state, so the lease runs once b lets go (never forever)."""
    kv, clock = MemoryKV(), FakeClock()
    a, b = node(kv, clock, "a"), node(kv, clock, "b")
    attachment = Attached()
    session_id = await create_on(a, attachment, kind="json")
    on_a = a.get(session_id)
    assert on_a is not None
    a.detach(on_a, lost=False, lease=True)  # its request ended on a
    closed_here = clock.now

    async def closed_in_bucket() -> bool:
        return decode_value(kv.entries[str(session_id)].value)[0]["closed_at"] == closed_here

    await eventually(closed_in_bucket, timeout=5)
    watch(kv, b, session_id)
    on_b = b.get(session_id)
    assert on_b is not None
    clock.advance(1)
    b.attach(on_b, Attached())  # a request runs on b

    async def attached_in_bucket() -> bool:
        return decode_value(kv.entries[str(session_id)].value)[0]["closed_at"] is None

    await eventually(attached_in_bucket, timeout=5)
    watch(kv, a, session_id)
    assert a.expires_at(on_a) is None  # held on b: not due on a
    assert on_a.record()["closed_at"] == closed_here  # a's own state, not b's
    clock.advance(1)
    b.detach(on_b, lost=False, lease=True)
    released = clock.now

    async def released_in_bucket() -> bool:
        return decode_value(kv.entries[str(session_id)].value)[0]["closed_at"] == released

    await eventually(released_in_bucket, timeout=5)
    watch(kv, a, session_id)
    assert a.expires_at(on_a) == released + EXPIRY + store_of(a).lease_grace


async def test_a_node_holding_a_json_session_writes_it_attached_again_when_another_node_wrote_it_detached():
    kv, clock = MemoryKV(), FakeClock()
    a, b = node(kv, clock, "a"), node(kv, clock, "b")
    session_id = await create_on(a, Attached(), kind="json")  # held on a (a JSON session's WebSocket, say)
    watch(kv, b, session_id)
    on_b = b.get(session_id)
    assert on_b is not None
    b.attach(on_b, Attached())
    b.detach(on_b, lost=False, lease=True)  # a request on b ended: b writes it detached

    async def detached_in_bucket() -> bool:
        return decode_value(kv.entries[str(session_id)].value)[0]["closed_at"] is not None

    await eventually(detached_in_bucket, timeout=5)
    watch(kv, a, session_id)

    async def attached_again_in_bucket() -> bool:
        record, writer, _, _ = decode_value(kv.entries[str(session_id)].value)
        return record["closed_at"] is None and writer == "a"

    await eventually(attached_again_in_bucket, timeout=5)
    watch(kv, b, session_id)
    assert b.expires_at(on_b) is None


async def test_a_deletion_that_loses_to_activity_written_meanwhile_follows_the_bucket(caplog):
    """nats-py's delete(last=...) raises the plain BadRequestError (JetStream code 10071): still a lost race."""
    caplog.set_level(logging.INFO, logger="xentara_ws.cluster.sub_sessions")
    kv, clock = MemoryKV(), FakeClock()
    _, b, session_id = await lost_on_a_and_seen_by_b(kv, clock)
    key = str(session_id)
    stale = kv.entries[key]
    kv.store(key, stale.value)  # written meanwhile (activity on another node)
    kv.entries[key], newer = stale, kv.entries[key]
    get = kv.get

    async def get_then_write(name: str) -> Any:  # b reads the old revision, then the newer one lands
        current = await get(name)
        kv.entries[key] = newer
        return current

    kv.get = get_then_write  # type: ignore[method-assign]
    clock.advance(EXPIRY + 2)
    b.tick()

    async def followed() -> bool:
        on_b = b.get(session_id)
        return on_b is not None and store_of(b).revisions.get(session_id) == newer.revision

    await eventually(followed, timeout=5)
    assert key in kv.entries
    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if REMOVED in m or "cannot be decided" in m], messages

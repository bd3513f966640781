"""Leases (extensions §2, §9.8) on the registry with an injected clock, and one through a socket."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st
from support.clocks import FakeClock
from support.sessions import OPERATOR, connect, created, describe, error

from xentara_ws.server.connection_state import ConnectionState
from xentara_ws.sessions import NEVER, LastWill, SubSessionRegistry
from xentara_ws.sessions.lease import idle_at, removal_at


def registry_at(clock: FakeClock, wills: list | None = None) -> SubSessionRegistry:
    return SubSessionRegistry(clock=clock, on_will=(lambda *args: wills.append(args)) if wills is not None else None)


def new(registry: SubSessionRegistry, connection: ConnectionState, **options):
    entry, _ = registry.create(
        uuid.uuid4(),
        owner="user:operator",
        creator="user:operator",
        method=2,
        principal="operator",
        attachment=connection,
        options=options,
    )
    return entry


def test_the_formula():
    assert idle_at(0, 0.0, None) is None
    assert idle_at(10, 0.0, None) == 15.0
    assert idle_at(10, 0.0, 5.0) == 5.0
    assert removal_at(False, 10, 30, 0.0, None) == 45.0
    assert removal_at(False, 0, 60, 0.0, 5.0) == 65.0
    assert removal_at(False, 0, NEVER, 0.0, 5.0) is None
    assert removal_at(True, 10, 30, 0.0, 5.0) is None


def test_defaults_are_removed_when_the_connection_closes():
    clock = FakeClock()
    registry = registry_at(clock)
    connection = ConnectionState()
    entry = new(registry, connection)
    registry.tick(clock.now + 10**6)
    assert registry.get(entry.id) is entry  # an open connection with k = 0 never expires
    registry.connection_lost(connection)
    assert registry.get(entry.id) is None and connection.sub_sessions == {}


def test_keep_alive_10_expiry_30_without_activity_is_removed_at_45():
    clock = FakeClock()
    registry = registry_at(clock)
    entry = new(registry, ConnectionState(), keep_alive_s=10, expiry_s=30)
    start = clock.now
    clock.now = start + 44.9
    registry.tick()
    assert registry.get(entry.id) is entry and entry.attachment is not None  # lapsed, still attached
    assert registry.ping(entry) is not None  # and pingable: that starts over
    clock.now = start + 44.9 + 44.9
    registry.tick()
    assert registry.get(entry.id) is entry
    clock.now = start + 44.9 + 45
    registry.tick()
    assert registry.get(entry.id) is None


def test_expiry_60_after_a_close_at_5_can_be_resumed_until_65():
    clock = FakeClock()
    registry = registry_at(clock)
    connection = ConnectionState()
    entry = new(registry, connection, expiry_s=60)
    start = clock.now
    clock.now = start + 5
    registry.connection_lost(connection)
    clock.now = start + 64.9
    registry.tick()
    assert registry.get(entry.id) is entry and registry.expires_at(entry) == start + 65
    clock.now = start + 65
    registry.tick()
    assert registry.get(entry.id) is None


def test_a_resume_before_removal_starts_over():
    clock = FakeClock()
    registry = registry_at(clock)
    connection = ConnectionState()
    entry = new(registry, connection, expiry_s=60)
    start = clock.now
    registry.connection_lost(connection)
    clock.now = start + 50
    registry.resume(entry, ConnectionState(), "operator")
    clock.now = start + 1000
    registry.tick()
    assert registry.get(entry.id) is entry and entry.connected


def test_activity_restarts_the_keep_alive():
    clock = FakeClock()
    registry = registry_at(clock)
    entry = new(registry, ConnectionState(), keep_alive_s=10, expiry_s=30)
    start = clock.now
    clock.now = start + 40
    registry.activity(entry)
    clock.now = start + 84.9
    registry.tick()
    assert registry.get(entry.id) is entry
    clock.now = start + 85
    registry.tick()
    assert registry.get(entry.id) is None


def test_a_permanent_keep_alive_lapse_is_a_loss_but_never_a_removal():
    clock = FakeClock()
    wills: list = []
    registry = registry_at(clock, wills)
    will = LastWill(uuid.uuid4(), 11, 0, 0)
    entry = new(registry, ConnectionState(), permanent=True, keep_alive_s=10, expiry_s=30, last_will=will)
    start = clock.now
    clock.now = start + 14.9
    registry.tick()
    assert wills == []
    clock.now = start + 15
    registry.tick()
    assert wills == [(entry.id, will, "operator")]
    assert registry.health(entry)[0] == "unhealthy" and "keep_alive_s" in registry.health(entry)[1][0]
    clock.now = start + 10**7
    registry.tick()
    assert registry.get(entry.id) is entry and len(wills) == 1  # one loss, one will


def test_never_expires_with_expiry_never():
    clock = FakeClock()
    registry = registry_at(clock)
    connection = ConnectionState()
    entry = new(registry, connection, expiry_s=NEVER)
    registry.connection_lost(connection)
    clock.advance(10**9)
    registry.tick()
    assert registry.get(entry.id) is entry and registry.expires_at(entry) is None


@given(
    keep_alive=st.integers(0, 100),
    expiry=st.integers(0, 1000),
    closed_after=st.one_of(st.none(), st.floats(0, 500)),
)
def test_removal_happens_exactly_at_the_formula_time(keep_alive, expiry, closed_after):
    clock = FakeClock()
    registry = registry_at(clock)
    connection = ConnectionState()
    start = clock.now
    entry = new(registry, connection, keep_alive_s=keep_alive, expiry_s=expiry)
    idle = [start + 1.5 * keep_alive] if keep_alive else []
    if closed_after is not None:
        closed = start + closed_after
        if idle and idle[0] + expiry <= closed:
            clock.now = idle[0] + expiry
            registry.tick()
            assert registry.get(entry.id) is None
            return
        clock.now = closed
        registry.connection_lost(connection)
        idle.append(closed)
    if not idle:
        clock.now = start + 10**6
        registry.tick()
        assert registry.get(entry.id) is entry
        return
    due = min(idle) + expiry
    if due > clock.now:
        clock.now = max(clock.now, due - 0.01)
        registry.tick()
        assert registry.get(entry.id) is entry
    clock.now = due
    registry.tick()
    assert registry.get(entry.id) is None


async def test_a_leased_sub_session_through_the_socket(server, clock):
    client = await connect(server.port)
    session_id = await created(client, OPERATOR, options={1: 10, 2: 30})
    clock.advance(44)
    server.state.sub_sessions.tick()
    assert (await describe(client, session_id)).value[8] is True
    clock.advance(1)
    server.state.sub_sessions.tick()
    assert (await describe(client, session_id)).value[0] == -32111
    assert error(await client.request(256, {0: session_id}))[0] == -32111
    await client.close()


def test_a_front_end_without_connections_attaches_per_request_and_finds_by_secondary_key():
    """What a JSON session does: found by its token's hash, attached while a request runs."""
    clock = FakeClock()
    wills: list = []
    registry = registry_at(clock, wills)
    entry, _ = registry.create(
        uuid.uuid4(),
        owner="user:operator",
        creator="user:operator",
        method=2,
        principal="operator",
        attachment=None,
        options={"expiry_s": 60, "last_will": LastWill(uuid.uuid4(), 11, 0, 0)},
        kind="json",
        secondary_key=b"token hash",
    )
    assert registry.find(b"token hash") is entry
    request = ConnectionState()
    registry.attach(entry, request)
    assert entry.connected and request.sub_sessions == {entry.id: entry}
    registry.detach(entry, lost=False, lease=True)  # the request is over: the lease runs, no loss
    clock.advance(59.9)
    registry.tick()
    assert registry.find(b"token hash") is entry and wills == []
    clock.advance(0.1)
    registry.tick()
    assert registry.find(b"token hash") is None and registry.get(entry.id) is None and wills == []


def test_after_an_orderly_close_a_keep_alive_lapse_is_no_loss():
    clock = FakeClock()
    wills: list = []
    registry = registry_at(clock, wills)
    entry = new(
        registry, ConnectionState(), permanent=True, keep_alive_s=10, last_will=LastWill(uuid.uuid4(), 11, 0, 0)
    )
    registry.close_session(entry)
    clock.advance(1000)
    registry.tick()
    assert wills == [] and registry.get(entry.id) is entry
    registry.resume(entry, ConnectionState(), "operator")
    clock.advance(15)
    registry.tick()
    assert len(wills) == 1  # attached again, its lapse is a loss again

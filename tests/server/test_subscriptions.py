"""subscribe/unsubscribe and events: update rates with an injected clock, fan-out, slow consumers."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from cbor2 import CBORTag
from support.clocks import FakeClock
from support.models import COUNTER_UUID, FLAG_UUID, GROUP_UUID, REGISTER_UUID, small_model
from support.raw_client import RawClient

from xentara_ws.protocol.codec import TimePoint, decode
from xentara_ws.protocol.identifiers import NIL_UUID, Attribute
from xentara_ws.server.access import OpenAccess
from xentara_ws.server.app import XentaraServer
from xentara_ws.server.limits import Limits
from xentara_ws.server.subscriptions import EventScheduler
from xentara_ws.server.wire import WIRE_CACHE

MS = 1_000_000
SUBSCRIPTION = uuid.UUID("9b8ddaae-c8ea-4a8c-b575-4237bde328be")


def events_of(messages):
    return [packet for message in messages for packet in decode(message)]


def scheduler_for(model, clock):
    return EventScheduler(clock, OpenAccess())


def test_initial_event_carries_current_values_of_every_element():
    model, clock = small_model(), FakeClock(1_000 * MS)
    scheduler = scheduler_for(model, clock)
    register, flag = model.find(REGISTER_UUID), model.find(FLAG_UUID)
    scheduler.add(SUBSCRIPTION, [(register, (11, 9)), (flag, (11,))], None, None)
    events = events_of(scheduler.collect())
    assert events == [
        [8, 0, {0: SUBSCRIPTION, 1: REGISTER_UUID, 2: {11: CBORTag(121, 42.5), 9: CBORTag(121, 0)}}],
        [8, 0, {0: SUBSCRIPTION, 1: FLAG_UUID, 2: {11: CBORTag(121, False)}}],
    ]
    assert scheduler.collect() == []


def test_without_rates_every_change_is_sent_with_the_latest_value():
    model, clock = small_model(), FakeClock(1_000 * MS)
    scheduler = scheduler_for(model, clock)
    register = model.find(REGISTER_UUID)
    scheduler.add(SUBSCRIPTION, [(register, (11,))], None, None)
    scheduler.collect()
    register.update(1.0, TimePoint(clock.now))
    register.update(2.0, TimePoint(clock.now))
    assert events_of(scheduler.collect()) == [[8, 0, {0: SUBSCRIPTION, 1: REGISTER_UUID, 2: {11: CBORTag(121, 2.0)}}]]


def test_changes_to_attributes_not_subscribed_send_nothing():
    model, clock = small_model(), FakeClock(1_000 * MS)
    scheduler = scheduler_for(model, clock)
    register = model.find(REGISTER_UUID)
    scheduler.add(SUBSCRIPTION, [(register, (Attribute.WRITE_TIME.uuid,))], None, None)
    scheduler.collect()
    register.update(3.0, TimePoint(clock.now))
    assert scheduler.collect() == []
    assert scheduler.next_deadline() is None


def test_maximum_update_rate_coalesces_to_the_latest_value_at_the_end_of_the_window():
    model, clock = small_model(), FakeClock(1_000 * MS)
    scheduler = scheduler_for(model, clock)
    register = model.find(REGISTER_UUID)
    scheduler.add(SUBSCRIPTION, [(register, (11,))], 100, None)
    assert len(events_of(scheduler.collect())) == 1
    for step, value in enumerate((1.0, 2.0, 3.0)):
        clock.now += 10 * MS
        register.update(value, TimePoint(clock.now))
        assert scheduler.collect() == [], f"sent inside the window at step {step}"
    assert scheduler.next_deadline() == 1_100 * MS
    clock.now = 1_100 * MS
    assert events_of(scheduler.collect())[0][2][2] == {11: CBORTag(121, 3.0)}
    clock.now += 500 * MS
    register.update(4.0, TimePoint(clock.now))
    assert events_of(scheduler.collect())[0][2][2] == {11: CBORTag(121, 4.0)}, (
        "a change after a quiet window goes at once"
    )


def test_minimum_update_rate_resends_current_values_when_nothing_was_sent():
    model, clock = small_model(), FakeClock(1_000 * MS)
    scheduler = scheduler_for(model, clock)
    register = model.find(REGISTER_UUID)
    scheduler.add(SUBSCRIPTION, [(register, (11,))], None, 100)
    assert len(events_of(scheduler.collect())) == 1
    clock.now += 50 * MS
    assert scheduler.collect() == []
    clock.now += 50 * MS
    assert events_of(scheduler.collect())[0][2][2] == {11: CBORTag(121, 42.5)}
    clock.now += 60 * MS
    register.update(9.0, TimePoint(clock.now))
    assert len(events_of(scheduler.collect())) == 1
    clock.now += 60 * MS
    assert scheduler.collect() == [], "the change reset the heartbeat"
    clock.now += 40 * MS
    assert len(events_of(scheduler.collect())) == 1


def test_the_official_clients_subscription_does_not_flood_with_fast_changes():
    model, clock = small_model(), FakeClock(1_000 * MS)
    scheduler = scheduler_for(model, clock)
    register = model.find(REGISTER_UUID)
    scheduler.add(SUBSCRIPTION, [(register, (11, 9, 7))], None, 100)
    scheduler.collect()
    for i in range(1000):
        register.update(float(i), TimePoint(clock.now))
    events = events_of(scheduler.collect())
    assert len(events) == 1 and events[0][2][2][11] == CBORTag(121, 999.0)


def test_unsubscribe_stops_events_and_detaches_from_the_element():
    model, clock = small_model(), FakeClock(1_000 * MS)
    scheduler = scheduler_for(model, clock)
    register = model.find(REGISTER_UUID)
    scheduler.add(SUBSCRIPTION, [(register, (11,))], None, None)
    assert scheduler.remove(SUBSCRIPTION)
    register.update(5.0, TimePoint(clock.now))
    assert scheduler.collect() == []
    assert register.listeners == []
    assert not scheduler.remove(SUBSCRIPTION)


def test_one_change_reaches_every_subscriber_with_one_shared_encoding():
    model, clock = small_model(), FakeClock(1_000 * MS)
    register = model.find(REGISTER_UUID)
    schedulers = [scheduler_for(model, clock) for _ in range(50)]
    for scheduler in schedulers:
        scheduler.add(uuid.uuid4(), [(register, (11,))], None, None)
        scheduler.collect()
    register.update(7.0, TimePoint(clock.now))
    bodies = [scheduler.collect()[0] for scheduler in schedulers]
    assert all(decode(body)[0][2][2] == {11: CBORTag(121, 7.0)} for body in bodies)
    assert WIRE_CACHE.cached_key_lists(register) == [(11,)]


@pytest.fixture
async def client(server):
    connection = await RawClient.open(server.port)
    yield connection
    await connection.close()


async def test_subscribe_replies_with_the_desired_id_then_sends_the_initial_event(client):
    reply = await client.request(6, {0: [{0: REGISTER_UUID, 1: [11, 9, 7]}], 2: 100, 3: SUBSCRIPTION})
    assert reply[0] == 1 and reply[2] == SUBSCRIPTION
    [event] = (await client.next_events())[:1]
    assert event[0] == 8 and event[1] == 0
    assert event[2][0] == SUBSCRIPTION and event[2][1] == REGISTER_UUID
    assert event[2][2][11] == CBORTag(121, 42.5)


async def test_events_never_share_a_message_with_responses(client):
    await client.request(6, {0: [{0: REGISTER_UUID, 1: [11]}]})
    for i in range(20):
        reply = await client.request(5, {0: REGISTER_UUID, 1: 11, 2: float(i)})
        assert reply[0] == 1
    # RawClient asserts every message is either all events or all responses.
    assert client.events


async def test_a_write_reaches_every_subscriber_of_the_register(server):
    clients = [await RawClient.open(server.port) for _ in range(5)]
    for c in clients:
        await c.request(6, {0: [{0: COUNTER_UUID, 1: [11]}], 1: 10})
        await c.next_events()
    writer = clients[0]
    assert (await writer.request(5, {0: COUNTER_UUID, 1: 11, 2: 99}))[0] == 1
    for c in clients:
        deadline = asyncio.get_running_loop().time() + 5
        while True:
            events = await c.next_events(timeout=deadline - asyncio.get_running_loop().time())
            if any(e[2][2].get(11) == CBORTag(121, 99) for e in events):
                break
    for c in clients:
        await c.close()


async def test_unsubscribe_of_an_unknown_id_is_32110_and_of_a_known_one_succeeds(client):
    reply = await client.request(7, {0: SUBSCRIPTION})
    assert reply[0] == 2 and reply[2][0] == -32110
    await client.request(6, {0: [{0: REGISTER_UUID, 1: [11]}], 3: SUBSCRIPTION})
    assert (await client.request(7, {0: SUBSCRIPTION}))[0] == 1


@pytest.mark.parametrize(
    ("params", "code", "fragment"),
    [
        ({}, -32602, "parameter 0 (subscription_array) is missing"),
        ({0: []}, -32602, "must not be empty"),
        ({0: [{0: REGISTER_UUID}]}, -32602, "item 0: parameter 1 (attribute_ids) is missing"),
        ({0: [{0: REGISTER_UUID, 1: [99]}]}, -32602, "99"),
        ({0: [{0: REGISTER_UUID, 1: [11]}], 1: -5}, -32602, "parameter 1 (maximum_update_rate)"),
        ({0: [{0: REGISTER_UUID, 1: [11]}], 3: NIL_UUID}, -32602, "nil"),
        ({0: [{0: uuid.uuid4(), 1: [11]}]}, -32100, ""),
    ],
)
async def test_subscribe_errors(client, params, code, fragment):
    reply = await client.request(6, params)
    assert reply[0] == 2 and reply[2][0] == code and fragment in reply[2][1]


async def test_a_missing_attribute_in_a_subscription_travels_as_122(client):
    await client.request(6, {0: [{0: GROUP_UUID, 1: [11, 1]}]})
    [event] = await client.next_events()
    assert event[2][2][11].value[0] == -32101 and event[2][2][1] == CBORTag(121, "Group 1")


async def test_subscription_limits_are_enforced_naming_the_limit(model):
    server = XentaraServer(model, limits=Limits(max_subscriptions=2, max_subscription_attributes=3))
    await server.start("127.0.0.1", 0)
    try:
        client = await RawClient.open(server.port)
        too_wide = await client.request(6, {0: [{0: REGISTER_UUID, 1: [11, 9, 7, 6]}]})
        assert too_wide[2][0] == -32602 and "max_subscription_attributes" in too_wide[2][1]
        for _ in range(2):
            assert (await client.request(6, {0: [{0: REGISTER_UUID, 1: [11]}]}))[0] == 1
        too_many = await client.request(6, {0: [{0: REGISTER_UUID, 1: [11]}]})
        assert too_many[2][0] == -32602 and "max_subscriptions" in too_many[2][1]
        await client.close()
    finally:
        await server.close()


async def test_a_desired_id_that_exists_replaces_the_subscription(client):
    await client.request(6, {0: [{0: REGISTER_UUID, 1: [11]}], 3: SUBSCRIPTION})
    await client.next_events()
    await client.request(6, {0: [{0: FLAG_UUID, 1: [11]}], 3: SUBSCRIPTION})
    events = await client.next_events()
    assert [e[2][1] for e in events] == [FLAG_UUID]
    await client.request(5, {0: REGISTER_UUID, 1: 11, 2: 1.5})
    with pytest.raises(asyncio.TimeoutError):
        await client.next_events(timeout=0.3)


async def test_subscriptions_die_with_their_connection(server):
    client = await RawClient.open(server.port)
    await client.request(6, {0: [{0: REGISTER_UUID, 1: [11]}]})
    await client.close()
    register = server.model.find(REGISTER_UUID)
    for _ in range(50):
        if not register.listeners:
            break
        await asyncio.sleep(0.02)
    assert register.listeners == []


async def test_a_thousand_subscriptions_on_one_connection_all_deliver(client):
    replies = await client.batch(*[[0, i, 6, {0: [{0: REGISTER_UUID, 1: [11]}]}] for i in range(1000)])
    assert all(r[0] == 1 for r in replies)
    seen = set()
    while len(seen) < 1000:
        seen.update(e[2][0] for e in await client.next_events())
    await client.request(5, {0: REGISTER_UUID, 1: 11, 2: 3.25})
    seen = set()
    while len(seen) < 1000:
        seen.update(e[2][0] for e in await client.next_events() if e[2][2][11] == CBORTag(121, 3.25))


async def test_a_thousand_connections_each_with_a_subscription_all_deliver(server):
    clients = await asyncio.gather(*[RawClient.open(server.port) for _ in range(1000)])
    await asyncio.gather(*[c.request(6, {0: [{0: REGISTER_UUID, 1: [11]}]}) for c in clients])
    await asyncio.gather(*[c.next_events() for c in clients])
    writer = clients[0]
    await writer.request(5, {0: REGISTER_UUID, 1: 11, 2: 8.5})

    async def wait_for_value(c):
        while True:
            if any(e[2][2][11] == CBORTag(121, 8.5) for e in await c.next_events()):
                return True

    assert all(await asyncio.gather(*[wait_for_value(c) for c in clients]))
    await asyncio.gather(*[c.close() for c in clients])


async def test_a_stalled_client_is_disconnected_with_bounded_memory_and_others_are_unaffected(model, caplog):
    server = XentaraServer(model, limits=Limits(send_timeout=1.0))
    await server.start("127.0.0.1", 0)
    register = server.model.find(REGISTER_UUID)
    try:
        stalled = await RawClient.open(server.port, max_queue=1)
        bystander = await RawClient.open(server.port)
        await stalled.batch(*[[0, i, 6, {0: [{0: REGISTER_UUID, 1: [11, 9, 7, 6]}]}] for i in range(500)])
        await bystander.request(6, {0: [{0: REGISTER_UUID, 1: [11]}], 1: 20})
        stalled_session = next(s for s in server.edge.api.sessions() if s.events.attribute_count == 2000)
        delivered = 0
        peak_buffer = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        value = 0.0
        while not stalled_session.closed and loop.time() < deadline:
            value += 1
            register.update(value, server.model.clock())
            await asyncio.sleep(0.001)
            peak_buffer = max(peak_buffer, server.edge.api.write_buffer_size(stalled_session))
            try:
                delivered += len(await bystander.next_events(timeout=0.001))
            except TimeoutError:
                pass
        assert stalled_session.closed, "the stalled client was not disconnected"
        assert peak_buffer <= 4 * 1024 * 1024, f"server-side buffer grew to {peak_buffer} bytes"
        assert delivered > 10, "the second client kept receiving while the first stalled"
        assert "slow consumer" in caplog.text
        value += 1
        await bystander.request(5, {0: REGISTER_UUID, 1: 11, 2: value})
        assert (await bystander.request(8))[2] == 2
        await bystander.close()
    finally:
        await server.close()

"""Health with sliding 60 s rates (extensions §5, §9.12) and the last will (§6, §9.9)."""

from __future__ import annotations

from support.sessions import (
    ADMIN,
    OPERATOR,
    TEST_REGISTER,
    VIEWER,
    connect,
    create,
    created,
    describe,
    error,
    read_register,
    wait_detached,
)


async def test_health_turns_unhealthy_and_back_with_the_request_rate(server, clock):
    client = await connect(server.port)
    session_id = await created(client, OPERATOR, options={4: {0: 2, 1: 3}})
    d = (await describe(client, session_id)).value
    assert d[12] == "unhealthy" and len(d[13]) == 1 and "fewer than 2" in d[13][0]
    for _ in range(2):
        await client.request(256, {0: session_id})
    d = (await describe(client, session_id)).value
    assert (d[12], list(d[13]), d[14][0], d[14][1]) == ("healthy", [], 2, 2)
    for _ in range(2):
        await client.request(15, {0: session_id})
    d = (await describe(client, session_id)).value
    assert d[12] == "unhealthy" and "more than 3" in d[13][0]
    clock.advance(61)  # the window slid past every request
    d = (await describe(client, session_id)).value
    assert (d[14][0], d[14][1], d[12]) == (4, 0, "unhealthy") and "fewer than 2" in d[13][0]
    await client.close()


async def test_subscription_thresholds_count_bound_subscriptions_only(server):
    client = await connect(server.port)
    session_id = await created(client, OPERATOR, options={4: {3: 1}})
    await client.request(6, {0: [{0: TEST_REGISTER, 1: [11]}]})  # not bound: does not count
    assert (await describe(client, session_id)).value[12] == "unhealthy"
    reply = await client.request(6, {0: [{0: TEST_REGISTER, 1: [11]}], 256: {0: session_id}})
    assert reply[0] == 1
    d = (await describe(client, session_id)).value
    assert (d[12], d[14][4]) == ("healthy", 1)
    await client.close()


async def test_a_detached_sub_session_is_offline_without_reasons(server):
    client = await connect(server.port)
    session_id = await created(client, OPERATOR, options={0: True, 4: {0: 5}})
    await client.request(13, {0: session_id})
    d = (await describe(client, session_id)).value
    assert (d[12], list(d[13]), d[17]) == ("offline", [], None)
    await client.close()


async def _set_register(client, value):
    assert (await client.request(5, {0: TEST_REGISTER, 1: 11, 2: value}))[0] == 1


WILL = {0: TEST_REGISTER, 1: 11, 2: 99, 3: 10}


async def _lose(server, who=OPERATOR, **options):
    """A sub-session with the will, whose connection then drops; returns its id."""
    client = await connect(server.port, who)
    session_id = await created(client, who, options={5: WILL, 2: 3600, **options})
    client.abort()  # lost, not closed
    await client.connection.wait_closed()
    await wait_detached(server, session_id)
    return session_id


async def test_the_last_will_fires_its_delay_after_the_connection_is_lost(server, clock):
    observer = await connect(server.port)
    await _set_register(observer, 1)
    await _lose(server)
    clock.advance(9.9)
    server.state.sub_sessions.tick()
    assert await read_register(observer) == 1
    clock.advance(0.1)
    server.state.sub_sessions.tick()
    assert await read_register(observer) == 99
    await observer.close()


async def test_the_will_fires_even_if_the_sub_session_was_removed_before(server, clock):
    observer = await connect(server.port)
    await _set_register(observer, 1)
    client = await connect(server.port)
    session_id = await created(client, OPERATOR, options={5: WILL})  # defaults: removed at the close
    await client.close()
    await client.connection.wait_closed()
    await observer.request(8)
    assert (await describe(observer, session_id)).value[0] == -32111
    clock.advance(10)
    server.state.sub_sessions.tick()
    assert await read_register(observer) == 99
    await observer.close()


async def test_a_resume_before_the_delay_cancels_the_will(server, clock):
    observer = await connect(server.port)
    await _set_register(observer, 1)
    session_id = await _lose(server)
    clock.advance(5)
    assert await created(observer, OPERATOR, session_id=session_id) == session_id
    clock.advance(10)
    server.state.sub_sessions.tick()
    assert await read_register(observer) == 1
    await observer.close()


async def test_no_will_on_close_delete_or_ban(server, clock):
    client = await connect(server.port)
    await _set_register(client, 1)
    closed = await created(client, OPERATOR, options={5: WILL, 0: True})
    deleted = await created(client, OPERATOR, options={5: WILL})
    banned = await created(client, OPERATOR, options={5: WILL})
    await client.request(13, {0: closed})
    await client.request(260, {0: deleted})
    await client.request(259, {0: banned, 1: {6: "banned"}})
    clock.advance(3600)
    server.state.sub_sessions.tick()
    assert await read_register(client) == 1
    await client.close()


async def test_a_keep_alive_lapse_fires_the_will_and_a_ping_before_the_delay_cancels_it(server, clock):
    client = await connect(server.port)
    await _set_register(client, 1)
    session_id = await created(client, OPERATOR, options={5: WILL, 1: 10, 2: 3600})
    clock.advance(15)
    server.state.sub_sessions.tick()  # lost: the will is due at 25
    clock.advance(5)
    await client.request(256, {0: session_id})
    clock.advance(10)
    server.state.sub_sessions.tick()
    assert await read_register(client) == 1
    clock.advance(15)  # lapses again at 20 + 15 = 35; will at 45
    server.state.sub_sessions.tick()
    clock.advance(10)
    server.state.sub_sessions.tick()
    assert await read_register(client) == 99
    await client.close()


async def test_the_will_is_checked_like_a_write_when_it_is_set(server):
    client = await connect(server.port, ADMIN)
    import uuid

    unknown = {0: uuid.uuid4(), 1: 11, 2: 0}
    assert error(await create(client, OPERATOR, options={5: unknown}))[0] == -32100
    assert error(await create(client, OPERATOR, options={5: {0: TEST_REGISTER, 1: 11, 2: "x"}}))[0] == -32106
    assert error(await create(client, OPERATOR, options={5: {0: TEST_REGISTER, 1: 2, 2: 0}}))[0] == -32103
    assert error(await create(client, VIEWER, options={5: {0: TEST_REGISTER, 1: 11, 2: 0}}))[0] == -32102
    await client.close()


async def test_at_firing_the_will_is_checked_again_with_the_owners_rights(server, clock, caplog):
    observer = await connect(server.port)
    await _set_register(observer, 1)
    await _lose(server)
    await observer.request(10)  # suspended: writes fail
    clock.advance(10)
    server.state.sub_sessions.tick()
    await observer.request(9)
    assert await read_register(observer) == 1
    assert "refused" in caplog.text
    await observer.close()

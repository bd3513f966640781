"""Subscriptions bound to a sub-session (extensions §7, §9.13): retained while detached, caught up on resume."""

from __future__ import annotations

from support.sessions import OPERATOR, TEST_REGISTER, connect, created, describe, error, wait_detached

ITEMS = [{0: TEST_REGISTER, 1: [11]}]


async def _write(client, value):
    assert (await client.request(5, {0: TEST_REGISTER, 1: 11, 2: value}))[0] == 1


def _values(events):
    return [event[2][2][11].value for event in events]


async def test_changes_missed_while_detached_arrive_after_the_resume_with_the_drop_count(server):
    first = await connect(server.port)
    session_id = await created(first, OPERATOR, options={2: 3600})
    reply = await first.request(6, {0: ITEMS, 256: {0: session_id, 1: 2}})
    subscription_id = reply[2]
    [initial] = await first.next_events()
    assert initial[2][0] == subscription_id and 256 not in initial[2]
    first.abort()
    await wait_detached(server, session_id)

    observer = await connect(server.port)
    for value in (1, 2, 3):
        await _write(observer, value)
    assert (await describe(observer, session_id)).value[14][3] == 1  # one change dropped

    second = await connect(server.port)
    assert await created(second, OPERATOR, session_id=session_id) == session_id
    assert second.events == []  # nothing before the reply
    catch_up = await second.next_events()
    assert _values(catch_up) == [2, 3]
    assert catch_up[0][2][256] == {0: 1} and 256 not in catch_up[1][2]
    assert all(event[2][0] == subscription_id and event[2][1] == TEST_REGISTER for event in catch_up)

    await _write(observer, 4)  # then live events, on the new connection
    assert _values(await second.next_events()) == [4]
    assert (await describe(second, session_id)).value[14][2] == 4  # initial, two caught up, one live
    await observer.close()
    await second.close()


async def test_a_resume_from_a_live_connection_moves_the_subscription(server):
    first = await connect(server.port)
    session_id = await created(first, OPERATOR)
    await first.request(6, {0: ITEMS, 256: {0: session_id}})
    await first.next_events()
    second = await connect(server.port)
    await created(second, OPERATOR, session_id=session_id)
    await _write(second, 7)
    assert _values(await second.next_events()) == [7]
    assert first.events == []
    await first.close()
    await second.close()


async def test_unsubscribe_ends_it_only_on_the_connection_it_is_on(server):
    first = await connect(server.port)
    other = await connect(server.port)
    session_id = await created(first, OPERATOR, options={0: True})
    subscription_id = (await first.request(6, {0: ITEMS, 256: {0: session_id}}))[2]
    assert error(await other.request(7, {0: subscription_id}))[0] == -32110
    assert (await first.request(7, {0: subscription_id}))[0] == 1
    assert (await describe(first, session_id)).value[14][4] == 0
    await first.close()
    await other.close()


async def test_bound_subscribe_errors(server):
    client = await connect(server.port)
    session_id = await created(client, OPERATOR)
    import uuid

    for options, code in (
        ({0: uuid.uuid4()}, -32111),
        ({0: session_id, 1: 0}, -32602),
        ({0: session_id, 1: 1001}, -32602),
        ({1: 5}, -32602),
        ("x", -32602),
    ):
        assert error(await client.request(6, {0: ITEMS, 256: options}))[0] == code, options
    await client.close()


async def test_ordinary_subscriptions_are_untouched_by_sub_sessions(server):
    client = await connect(server.port)
    session_id = await created(client, OPERATOR, options={2: 3600})
    await client.request(6, {0: ITEMS})
    await client.next_events()
    await client.request(13, {0: session_id})
    await _write(client, 5)
    assert _values(await client.next_events()) == [5]
    await client.close()


async def test_a_change_held_back_by_the_update_rate_moves_with_the_sub_session_to_a_live_connection(server):
    first = await connect(server.port)
    session_id = await created(first, OPERATOR)
    await first.request(6, {0: ITEMS, 1: 60_000, 256: {0: session_id}})  # at most one event a minute
    await first.next_events()  # the initial one
    await _write(first, 8)  # due only a minute after the initial event: pending on the first connection
    second = await connect(server.port)
    await created(second, OPERATOR, session_id=session_id)
    assert _values(await second.next_events()) == [8]  # not lost with the first connection's schedule
    assert first.events == []
    await first.close()
    await second.close()


async def test_a_change_held_back_when_the_connection_is_lost_is_caught_up_on_the_resume(server):
    first = await connect(server.port)
    session_id = await created(first, OPERATOR, options={2: 3600})
    await first.request(6, {0: ITEMS, 1: 60_000, 256: {0: session_id, 1: 2}})
    await first.next_events()
    await _write(first, 9)  # pending when the connection goes
    first.abort()
    await wait_detached(server, session_id)
    observer = await connect(server.port)
    await _write(observer, 10)  # retained while detached
    second = await connect(server.port)
    await created(second, OPERATOR, session_id=session_id)
    assert _values(await second.next_events()) == [9, 10]
    await observer.close()
    await second.close()

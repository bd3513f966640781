"""ping (256), list (257), describe (258), alter (259), delete (260): results, errors and visibility."""

from __future__ import annotations

import uuid

import pytest
from cbor2 import CBORTag
from support.sessions import ADMIN, OPERATOR, OTHER, TEST_REGISTER, VIEWER, connect, created, describe, error

from xentara_ws.protocol.codec import TimePoint


async def test_ping_without_an_id_says_the_server_is_alive(server):
    client = await connect(server.port)
    first = client.next_id
    assert await client.request(256) == [1, first]
    assert await client.request(256, {}) == [1, first + 1]
    await client.close()


async def test_ping_with_an_id_gives_the_time_left(server, clock):
    client = await connect(server.port)
    plain = await created(client, OPERATOR)
    leased = await created(client, OPERATOR, options={1: 10, 2: 30})
    permanent = await created(client, OPERATOR, options={0: True, 1: 10})
    assert (await client.request(256, {0: plain}))[2] == {0: None}
    clock.advance(4)
    assert (await client.request(256, {0: leased}))[2] == {0: 45_000}  # 1.5 x 10 + 30 from now
    assert (await client.request(256, {0: permanent}))[2] == {0: None}
    await client.close()


@pytest.mark.parametrize("params", [{0: "x"}, {1: uuid.uuid4()}, {0: None}])
async def test_ping_parameter_errors_are_32602(server, params):
    client = await connect(server.port)
    assert error(await client.request(256, params))[0] == -32602
    await client.close()


async def test_ping_of_an_unknown_or_elsewhere_attached_sub_session_is_32111(server):
    first = await connect(server.port)
    second = await connect(server.port)
    session_id = await created(first, OPERATOR)
    assert error(await first.request(256, {0: uuid.uuid4()}))[0] == -32111
    assert error(await second.request(256, {0: session_id}))[0] == -32111
    await first.close()
    await second.close()


async def test_list_shows_summaries_of_what_a_connection_may_see(server):
    admin = await connect(server.port)
    operator = await connect(server.port, OPERATOR)
    other = await connect(server.port, OTHER)
    mine = await created(operator, OPERATOR, options={0: True})
    theirs = await created(other, OTHER)
    [summary] = (await operator.request(257))[2]
    assert summary == {0: mine, 1: "user:operator", 3: "normal", 4: True, 8: True, 12: "healthy"}
    everything = {s[0] for s in (await admin.request(257))[2]}
    assert {mine, theirs} <= everything
    assert [s[0] for s in (await admin.request(257, {1: "user:other"}))[2]] == [theirs]
    for client in (admin, operator, other):
        await client.close()


async def test_the_owner_sees_a_sub_session_another_connection_created(server):
    admin = await connect(server.port)
    operator = await connect(server.port, OPERATOR)
    created_by_admin = await created(admin, OPERATOR)
    assert (await describe(operator, created_by_admin)).tag == 121
    assert (await describe(operator, created_by_admin)).value[18] == "user:xentara"
    await admin.close()
    await operator.close()


async def test_hidden_ones_are_listed_only_on_request(server):
    client = await connect(server.port, OPERATOR)
    hidden = await created(client, OPERATOR, options={6: "hidden"})
    shown = await created(client, OPERATOR)
    assert [s[0] for s in (await client.request(257))[2]] == [shown]
    assert {s[0] for s in (await client.request(257, {0: True}))[2]} == {hidden, shown}
    assert [s[0] for s in (await client.request(257, {2: "hidden"}))[2]] == [hidden]
    await client.close()


@pytest.mark.parametrize("params", [{0: 1}, {1: 5}, {2: "sleeping"}, {3: True}])
async def test_list_parameter_errors_are_32602(server, params):
    client = await connect(server.port)
    assert error(await client.request(257, params))[0] == -32602
    await client.close()


async def test_describe_answers_per_id_in_order(server, clock):
    admin = await connect(server.port)
    operator = await connect(server.port, OPERATOR)
    other = await connect(server.port, OTHER)
    mine = await created(operator, OPERATOR, options={1: 10, 2: 30, 3: "desk 3", 4: {0: 1}})
    theirs = await created(other, OTHER)
    unknown = uuid.uuid4()
    reply = await operator.request(258, {0: [mine, theirs, unknown]})
    first, second, third = reply[2]
    assert second == CBORTag(122, {0: -32102, 1: f"sub-session {theirs} is not visible to this connection"})
    assert third.tag == 122 and third.value[0] == -32111
    d = first.value
    assert first.tag == 121 and set(d) == set(range(19))
    assert (d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8]) == (
        mine,
        "user:operator",
        2,
        "normal",
        False,
        10,
        30,
        "desk 3",
        True,
    )
    assert d[9] == TimePoint.from_seconds(clock.now) and d[10] == d[9]
    assert d[11] == TimePoint.from_seconds(clock.now + 45)
    assert d[15] == {0: 1, 1: 0, 2: 0, 3: 0, 4: 0} and d[16] is None and d[18] == "user:operator"
    assert d[17].startswith("127.0.0.1:")
    assert d[14] == {0: 0, 1: 0, 2: 0, 3: 0, 4: 0}
    assert (await admin.request(258, {0: [theirs]}))[2][0].tag == 121
    for client in (admin, operator, other):
        await client.close()


@pytest.mark.parametrize("params", [None, {}, {0: []}, {0: ["x"]}, {0: "x"}])
async def test_describe_needs_a_non_empty_list_of_ids(server, params):
    client = await connect(server.port)
    assert error(await client.request(258, params))[0] == -32602
    await client.close()


async def test_alter_merges_options_and_returns_the_new_description(server):
    client = await connect(server.port, OPERATOR)
    will = {0: TEST_REGISTER, 1: 11, 2: 0, 3: 5}
    session_id = await created(client, OPERATOR, options={3: "a", 4: {0: 5, 4: 9}, 5: will})
    reply = await client.request(259, {0: session_id, 1: {1: 20, 4: {3: 1}, 6: "inactive"}})
    d = reply[2]
    assert (d[3], d[5], d[7]) == ("inactive", 20, "a")
    assert d[15] == {0: 0, 1: 0, 2: 0, 3: 1, 4: 0}  # the health map is replaced whole
    assert d[16] == will
    d = (await client.request(259, {0: session_id, 1: {5: None}}))[2]
    assert d[16] is None
    await client.close()


async def test_alter_errors(server):
    operator = await connect(server.port, OPERATOR)
    other = await connect(server.port, OTHER)
    session_id = await created(operator, OPERATOR)
    assert error(await operator.request(259, {0: uuid.uuid4(), 1: {}}))[0] == -32111
    assert error(await other.request(259, {0: session_id, 1: {3: "x"}}))[0] == -32102
    code, message = error(await operator.request(259, {0: session_id, 1: {0: True}}))
    assert code == -32602 and "permanent" in message
    code, message = error(await operator.request(259, {0: session_id, 1: {6: "banned"}}))
    assert code == -32102 and "sessions.admin" in message
    assert error(await operator.request(259, {0: session_id, 1: {1: 70000}}))[0] == -32602
    assert error(await operator.request(259, {0: session_id}))[0] == -32602
    will = {0: TEST_REGISTER, 1: 11, 2: "not a number"}
    assert error(await operator.request(259, {0: session_id, 1: {5: will}}))[0] == -32106
    await operator.close()
    await other.close()


async def test_delete_removes_it_and_its_subscriptions(server):
    operator = await connect(server.port, OPERATOR)
    other = await connect(server.port, OTHER)
    session_id = await created(operator, OPERATOR, options={0: True})
    subscription = await operator.request(6, {0: [{0: TEST_REGISTER, 1: [11]}], 256: {0: session_id}})
    assert subscription[0] == 1
    assert error(await other.request(260, {0: session_id}))[0] == -32102
    assert error(await operator.request(260, {0: uuid.uuid4()}))[0] == -32111
    assert await operator.request(260, {0: session_id}) == [1, operator.next_id - 1]
    assert (await describe(operator, session_id)).value[0] == -32111
    assert error(await operator.request(5, {0: TEST_REGISTER, 1: 11, 2: 1, 3: session_id}))[0] == -32111
    assert error(await operator.request(7, {0: subscription[2]}))[0] == -32110
    await operator.close()
    await other.close()


async def test_an_administrator_may_delete_any_and_ban_a_live_one_which_detaches_at_once(server):
    admin = await connect(server.port, ADMIN)
    operator = await connect(server.port, OPERATOR)
    session_id = await created(operator, OPERATOR)
    reply = await admin.request(259, {0: session_id, 1: {6: "banned"}})
    assert reply[2][3] == "banned" and reply[2][8] is False
    assert error(await operator.request(5, {0: TEST_REGISTER, 1: 11, 2: 1, 3: session_id}))[0] == -32111
    assert error(await operator.request(256, {0: session_id}))[0] == -32111
    assert (await operator.request(8))[0] == 1  # the connection stays
    assert error(await operator.request(259, {0: session_id, 1: {6: "normal"}}))[0] == -32102
    assert (await admin.request(259, {0: session_id, 1: {6: "normal"}}))[2][3] == "normal"
    assert (await admin.request(260, {0: session_id}))[0] == 1
    await admin.close()
    await operator.close()


async def test_a_viewer_without_sessions_admin_sees_only_its_own(server):
    admin = await connect(server.port, ADMIN)
    viewer = await connect(server.port, VIEWER)
    await created(admin, OPERATOR)
    assert (await viewer.request(257))[2] == []
    await admin.close()
    await viewer.close()


async def test_the_new_opcodes_need_client_hello(server):
    from support.raw_client import RawClient
    from support.security import basic_headers as basic

    client = await RawClient.open(server.port, hello=False, additional_headers=basic(*ADMIN))
    for opcode in (256, 257, 258, 259, 260):
        assert error(await client.request(opcode))[0] == -32000
    await client.close()

"""create_sub_session with key 256: create, replace, resume and refuse (extensions §1.1, §9.4-9.7)."""

from __future__ import annotations

import uuid

import pytest
from support.sessions import ADMIN, OPERATOR, OTHER, TEST_REGISTER, connect, create, created, describe, error, login

NEVER = 4294967296


async def test_a_vendor_sub_session_ends_with_its_connection(server):
    admin = await connect(server.port)
    operator = await connect(server.port, OPERATOR)
    session_id = await created(operator, OPERATOR)
    assert (await describe(admin, session_id)).value[8] is True
    await operator.close()
    await operator.connection.wait_closed()
    for _ in range(50):  # the server notices the close on its own schedule
        item = await describe(admin, session_id)
        if item.tag == 122:
            break
    assert item.tag == 122 and item.value[0] == -32111
    await admin.close()


async def test_rule_1_the_same_connection_replaces_it_with_new_options(server):
    client = await connect(server.port)
    session_id = await created(client, OPERATOR, options={3: "first", 1: 10})
    assert await created(client, OPERATOR, session_id=session_id, options={3: "second"}) == session_id
    description = (await describe(client, session_id)).value
    assert description[7] == "second" and description[5] == 0  # a new create: defaults, not a merge
    await client.close()


async def test_rule_2_the_same_owner_resumes_it_from_another_connection(server):
    first = await connect(server.port)
    second = await connect(server.port)
    session_id = await created(first, OPERATOR, options={3: "kept", 2: 60})
    assert await created(second, OPERATOR, session_id=session_id) == session_id
    # It moved: the first connection can no longer use it, the second can.
    assert error(await first.request(5, {0: TEST_REGISTER, 1: 11, 2: 1, 3: session_id}))[0] == -32111
    assert (await second.request(5, {0: TEST_REGISTER, 1: 11, 2: 1, 3: session_id}))[0] == 1
    description = (await describe(second, session_id)).value
    assert description[7] == "kept" and description[6] == 60  # options only change when given
    await first.close()
    await second.close()


async def test_rule_2_a_detached_sub_session_is_resumed_with_merged_options(server, clock):
    first = await connect(server.port)
    session_id = await created(first, OPERATOR, options={2: 60, 3: "desk", 6: "inactive"})
    await first.close()
    await first.connection.wait_closed()
    clock.advance(30)
    second = await connect(server.port)
    assert await created(second, OPERATOR, session_id=session_id, options={1: 5}) == session_id
    description = (await describe(second, session_id)).value
    assert (description[3], description[5], description[6], description[7]) == ("normal", 5, 60, "desk")
    await second.close()


async def test_rule_3_another_owner_is_refused_and_nothing_changes(server):
    first = await connect(server.port)
    second = await connect(server.port)
    session_id = await created(first, OPERATOR, options={3: "mine"})
    code, message = error(await create(second, OTHER, session_id=session_id, options={3: "yours"}))
    assert code == -32102 and "another principal" in message
    assert (await first.request(5, {0: TEST_REGISTER, 1: 11, 2: 2, 3: session_id}))[0] == 1
    assert (await describe(first, session_id)).value[7] == "mine"
    await first.close()
    await second.close()


async def test_rule_4_a_banned_sub_session_cannot_be_resumed(server):
    admin = await connect(server.port)
    session_id = await created(admin, OPERATOR, options={0: True})
    assert (await admin.request(259, {0: session_id, 1: {6: "banned"}}))[0] == 1
    code, message = error(await create(admin, OPERATOR, session_id=session_id))
    assert code == -32102 and "banned" in message
    await admin.close()


async def test_a_resume_is_a_login_wrong_credentials_are_refused(server):
    first = await connect(server.port)
    second = await connect(server.port)
    session_id = await created(first, OPERATOR, options={0: True})
    reply = await second.request(12, {0: login((OPERATOR[0], "wrong")), 1: session_id})
    assert error(reply)[0] == -32102
    assert (await describe(first, session_id)).value[8] is True
    await first.close()
    await second.close()


async def test_permanent_cannot_change_on_resume(server):
    client = await connect(server.port)
    session_id = await created(client, OPERATOR, options={0: True})
    other = await connect(server.port)
    code, message = error(await create(other, OPERATOR, session_id=session_id, options={0: False}))
    assert code == -32602 and "permanent" in message
    await client.close()
    await other.close()


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({0: 1}, "permanent"),
        ({1: -1}, "keep_alive_s"),
        ({1: 65536}, "keep_alive_s"),
        ({1: 1.5}, "keep_alive_s"),
        ({2: NEVER + 1}, "expiry_s"),
        ({3: "x" * 257}, "description"),
        ({3: "é" * 129}, "description"),
        ({4: {0: -1}}, "min_requests_per_minute"),
        ({5: {0: TEST_REGISTER, 1: 11, 2: 0, 3: 86401}}, "delay_s"),
        ({5: {0: "not a uuid", 1: 11, 2: 0}}, "element"),
        ({6: "banned"}, "status"),
        ({6: "sleeping"}, "status"),
        ({7: 1}, "unknown option"),
        ("not a map", "options"),
    ],
)
async def test_options_out_of_range_are_32602_naming_the_option(server, options, named):
    client = await connect(server.port)
    code, message = error(await create(client, OPERATOR, options=options))
    assert code == -32602 and named in message
    await client.close()


async def test_the_largest_values_are_accepted(server):
    client = await connect(server.port)
    options = {1: 65535, 2: NEVER, 3: "é" * 128, 5: {0: TEST_REGISTER, 1: 11, 2: 0, 3: 86400}}
    session_id = await created(client, OPERATOR, options=options)
    description = (await describe(client, session_id)).value
    assert (description[5], description[6], description[16][3]) == (65535, NEVER, 86400)
    await client.close()


async def test_the_total_limit_is_32602_naming_it(sessions_config, tmp_path, clock):
    from support.sessions import start_server

    server = await start_server(sessions_config, tmp_path / "state", clock, "--max-sub-sessions-total", "2")
    try:
        client = await connect(server.port)
        await created(client, OPERATOR)
        await created(client, OPERATOR)
        code, message = error(await create(client, OPERATOR))
        assert code == -32602 and "max_sub_sessions_total = 2" in message
        await client.close()
    finally:
        await server.close()


async def test_close_removes_a_temporary_and_detaches_a_permanent_one(server):
    client = await connect(server.port)
    temporary = await created(client, OPERATOR, options={2: NEVER})
    permanent = await created(client, OPERATOR, options={0: True})
    assert (await client.request(13, {0: temporary}))[0] == 1
    assert (await client.request(13, {0: permanent}))[0] == 1
    assert (await describe(client, temporary)).value[0] == -32111
    description = (await describe(client, permanent)).value
    assert description[8] is False and description[12] == "offline"
    assert error(await client.request(13, {0: permanent}))[0] == -32111  # not attached any more
    await client.close()


async def test_an_unknown_desired_id_creates_it(server):
    client = await connect(server.port)
    wanted = uuid.uuid4()
    assert await created(client, ADMIN, session_id=wanted) == wanted
    assert (await describe(client, wanted)).value[1] == "user:xentara"
    await client.close()

"""The sub-session registry across nodes: resume anywhere, ban and delete everywhere."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cluster import NatsServer, Node, eventually
from support.sessions import (
    ADMIN,
    OPERATOR,
    TEST_REGISTER,
    connect,
    create,
    created,
    describe,
    error,
    read_register,
    write_config,
)

PERMANENT = {0: True}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "config")


@pytest.fixture
def nodes(tmp_path: Path, nats: NatsServer, config: Path) -> Iterator[list[Node]]:
    started = [Node(name, nats.url, tmp_path, "--config", str(config), model=None) for name in ("a", "b")]
    yield started
    for node in started:
        node.stop()


async def write_with(client, session_id: uuid.UUID, value: int):  # type: ignore[no-untyped-def]
    return await client.request(5, {0: TEST_REGISTER, 1: 11, 2: value, 3: session_id})


async def test_a_permanent_sub_session_created_on_one_node_resumes_on_another_after_the_first_is_killed(nodes):
    a, b = nodes
    on_a = await connect(a.port)
    session_id = await created(on_a, OPERATOR, options=PERMANENT)
    subscription_id = uuid.uuid4()
    bound = {0: [{0: TEST_REGISTER, 1: [11]}], 3: subscription_id, 256: {0: session_id, 1: 5}}
    assert (await on_a.request(6, bound))[0] == 1
    on_b = await connect(b.port)
    try:
        await eventually(lambda: _bound(on_b, session_id, 1), timeout=5)
        created_on_a = (await describe(on_b, session_id)).value[9]
        a.kill()
        assert await created(on_b, OPERATOR, session_id=session_id) == session_id
        item = await describe(on_b, session_id)
        assert item.value[8] is True and item.value[9] == created_on_a  # resumed, not created anew
        # Its bound subscription moved along: the first event after the resume carries current values.
        events = await on_b.next_events()
        assert any(subscription_id in packet[2].values() for packet in events if isinstance(packet[2], dict))
        assert (await write_with(on_b, session_id, 2))[0] == 1
    finally:
        await on_b.close()


async def _bound(client, session_id: uuid.UUID, count: int) -> bool:  # type: ignore[no-untyped-def]
    item = await describe(client, session_id)
    return bool(item.tag == 121 and item.value[14][4] == count)


async def test_a_resume_on_another_node_takes_the_sub_session_off_the_first_nodes_connection(nodes):
    a, b = nodes
    on_a, on_b = await connect(a.port), await connect(b.port)
    try:
        session_id = await created(on_a, OPERATOR, options=PERMANENT)
        await eventually(lambda: _known(on_b, session_id), timeout=5)
        assert await created(on_b, OPERATOR, session_id=session_id) == session_id

        async def gone_from_a() -> bool:
            reply = await write_with(on_a, session_id, 3)
            return reply[0] == 2 and reply[2][0] == -32111

        await eventually(gone_from_a, timeout=5)
        assert (await write_with(on_b, session_id, 4))[0] == 1
    finally:
        await on_a.close()
        await on_b.close()


async def _known(client, session_id: uuid.UUID) -> bool:  # type: ignore[no-untyped-def]
    return bool((await describe(client, session_id)).tag == 121)


async def test_a_ban_on_one_node_refuses_the_sub_session_on_another(nodes):
    a, b = nodes
    on_a, admin_b = await connect(a.port), await connect(b.port, ADMIN)
    try:
        session_id = await created(on_a, OPERATOR, options=PERMANENT)
        await eventually(lambda: _known(admin_b, session_id), timeout=5)
        assert (await admin_b.request(259, {0: session_id, 1: {6: "banned"}}))[0] == 1

        async def refused_on_a() -> bool:
            reply = await write_with(on_a, session_id, 5)
            return reply[0] == 2 and reply[2][0] == -32111

        await eventually(refused_on_a, timeout=5)  # it takes milliseconds (the README says so)
        code, message = error(await create(on_a, OPERATOR, session_id=session_id))
        assert code == -32102 and "banned" in message
    finally:
        await on_a.close()
        await admin_b.close()


async def test_a_delete_on_one_node_removes_the_sub_session_everywhere(nodes):
    a, b = nodes
    on_a, admin_b = await connect(a.port), await connect(b.port, ADMIN)
    try:
        session_id = await created(on_a, OPERATOR, options=PERMANENT)
        await eventually(lambda: _known(admin_b, session_id), timeout=5)
        assert (await admin_b.request(260, {0: session_id}))[0] == 1

        async def unknown_on_a() -> bool:
            item = await describe(on_a, session_id)
            return bool(item.tag == 122 and item.value[0] == -32111)

        await eventually(unknown_on_a, timeout=5)
    finally:
        await on_a.close()
        await admin_b.close()


async def test_no_two_nodes_can_claim_one_id_the_later_create_fails_and_takes_the_first_ones_entry():
    from support.cluster import MemoryKV

    from xentara_ws.cluster.sub_sessions import ClusterSubSessionStore, encode_value
    from xentara_ws.protocol.errors import ProtocolError
    from xentara_ws.sessions.registry import SubSessionRegistry

    kv = MemoryKV()
    theirs = SubSessionRegistry()
    session_id = uuid.uuid4()
    entry, _ = theirs.create(
        session_id, owner="user:other", creator="anonymous", method=2, principal=None, attachment=None
    )
    entry.permanent = True
    await kv.create(str(session_id), encode_value(entry.record(), "a", False))  # node a was first
    registry = SubSessionRegistry()
    registry.store = ClusterSubSessionStore(kv, registry, "b", lambda _: None)
    _, durable = registry.create(
        session_id,
        owner="user:operator",
        creator="anonymous",
        method=2,
        principal=None,
        attachment=None,
        options={"permanent": True},
    )
    assert durable is not None
    with pytest.raises(ProtocolError) as refused:
        await durable
    assert refused.value.code == -32102 and "another node" in refused.value.message
    mirrored = registry.get(session_id)
    assert mirrored is not None and mirrored.owner == "user:other"


async def test_after_nats_restarts_the_nodes_follow_each_others_sub_sessions_again(nats, nodes):
    a, b = nodes
    on_a, admin_b = await connect(a.port), await connect(b.port, ADMIN)
    try:
        nats.kill()
        nats.start(nats.port)

        created_ids: list[uuid.UUID] = []

        async def create_on_a() -> bool:
            reply = await create(on_a, OPERATOR, options=PERMANENT)
            if reply[0] == 1:
                created_ids.append(reply[2])
            return reply[0] == 1

        await eventually(create_on_a, timeout=20, interval=0.5)  # once a has reconnected
        session_id = created_ids[0]
        await eventually(lambda: _known(admin_b, session_id), timeout=10)
    finally:
        await on_a.close()
        await admin_b.close()


async def test_the_last_will_of_a_sub_session_whose_node_was_killed_fires_on_another_node(nodes):
    a, b = nodes
    on_a, on_b = await connect(a.port), await connect(b.port)
    try:
        before = await read_register(on_b)
        will = {0: TEST_REGISTER, 1: 11, 2: before + 77, 3: 0}
        session_id = await created(on_a, OPERATOR, options={**PERMANENT, 5: will})
        await eventually(lambda: _known(on_b, session_id), timeout=5)
        a.kill()

        async def will_written() -> bool:
            return bool(await read_register(on_b) == before + 77)

        await eventually(will_written, timeout=30, interval=0.25)
        assert f"node a is gone: the last will of sub-session {session_id}" in b.log_text()
    finally:
        await on_b.close()


async def test_two_changes_of_one_sub_session_in_quick_succession_are_both_written_in_order():
    import asyncio

    from support.cluster import MemoryKV

    from xentara_ws.cluster.sub_sessions import ClusterSubSessionStore, decode_value
    from xentara_ws.sessions.registry import SubSessionRegistry

    class SlowKV(MemoryKV):
        async def update(self, key: str, value: bytes, last: int) -> int:
            await asyncio.sleep(0.01)  # a round trip to NATS: the next change is asked for meanwhile
            return await super().update(key, value, last)

    kv = SlowKV()
    registry = SubSessionRegistry()
    registry.store = ClusterSubSessionStore(kv, registry, "b", lambda _: None)
    session_id = uuid.uuid4()
    entry, durable = registry.create(
        session_id,
        owner="user:op",
        creator="anonymous",
        method=2,
        principal=None,
        attachment=None,
        options={"permanent": True},
    )
    assert durable is not None
    await durable
    first, second = registry.alter(entry, {"description": "one"}), registry.alter(entry, {"description": "two"})
    assert first is not None and second is not None
    await asyncio.gather(first, second)
    record, _, _, _ = decode_value((await kv.get(str(session_id))).value)
    assert record["description"] == "two"

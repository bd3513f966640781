"""JSON sessions and temporary sub-sessions with an expiry across two real nodes on a real nats-server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.cluster import NatsServer, Node, eventually
from support.jsonapi import call
from support.sessions import ADMIN, OPERATOR, TEST_REGISTER, connect, created, describe, write_config

NOT_FOUND = 12031
REMOVED = "expired: removed from the cluster by node"


@pytest.fixture
def nats(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "jetstream").start()
    yield server
    server.stop()


@pytest.fixture
def nodes(tmp_path: Path, nats: NatsServer) -> Iterator[list[Node]]:
    config = write_config(tmp_path / "config")
    started = [Node(name, nats.url, tmp_path, "--config", str(config), model=None) for name in ("a", "b")]
    yield started
    for node in started:
        node.stop()


async def create_session_reply(port: int, **params: Any) -> dict[str, Any]:
    user, password = OPERATOR
    reply = await call(
        port, {"api": "admin", "action": "createSession", "params": {"username": user, "password": password, **params}}
    )
    assert reply["errorCode"] == 0, reply
    return reply


async def create_session(port: int, **params: Any) -> str:
    token: str = (await create_session_reply(port, **params))["authToken"]
    return token


async def read(port: int, token: str) -> dict[str, Any]:
    return await call(port, {"action": "read", "authToken": token, "params": {"element": str(TEST_REGISTER)}})


async def test_a_json_session_created_on_one_node_reads_on_the_other_and_a_delete_there_ends_it_on_the_first(nodes):
    a, b = nodes
    token = await create_session(a.port)
    assert (await read(a.port, token))["errorCode"] == 0

    async def works_on_b() -> bool:
        return bool((await read(b.port, token))["errorCode"] == 0)

    await eventually(works_on_b, timeout=5)
    deleted = await call(b.port, {"api": "admin", "action": "deleteSession", "authToken": token})
    assert deleted["errorCode"] == 0 and "warnings" not in deleted.get("debugInfo", {})

    async def refused_on_a() -> bool:
        return bool((await read(a.port, token))["errorCode"] == NOT_FOUND)

    assert await eventually(refused_on_a, timeout=1.0, interval=0.02) < 1.0


async def test_a_temporary_cbor_sub_session_with_an_expiry_resumes_on_another_node_after_the_first_is_killed(nodes):
    a, b = nodes
    on_a = await connect(a.port)
    session_id = await created(on_a, OPERATOR, options={1: 30, 2: 60})
    on_b = await connect(b.port)
    try:

        async def known_on_b() -> bool:
            return bool((await describe(on_b, session_id)).tag == 121)

        await eventually(known_on_b, timeout=5)
        created_on_a = (await describe(on_b, session_id)).value[9]
        a.kill()
        assert await created(on_b, OPERATOR, session_id=session_id) == session_id
        item = await describe(on_b, session_id)
        assert item.value[8] is True and item.value[9] == created_on_a  # resumed, not created anew
        reply = await on_b.request(5, {0: TEST_REGISTER, 1: 11, 2: 9, 3: session_id})
        assert reply[0] == 1, reply
    finally:
        await on_b.close()


async def test_a_temporary_cbor_sub_session_with_vendor_defaults_stays_on_its_node(nodes):
    a, b = nodes
    on_a, on_b = await connect(a.port), await connect(b.port)
    try:
        session_id = await created(on_a, OPERATOR)
        durable_id = await created(on_a, OPERATOR, options={2: 60})

        async def shared_one_known_on_b() -> bool:
            return bool((await describe(on_b, durable_id)).tag == 121)

        await eventually(shared_one_known_on_b, timeout=5)
        assert (await describe(on_b, session_id)).tag == 122  # it dies with its connection: b never hears of it
    finally:
        await on_a.close()
        await on_b.close()


async def test_an_expiring_json_session_used_on_both_nodes_is_removed_by_exactly_one(nodes):
    a, b = nodes
    created_reply = await create_session_reply(a.port, sessionExpiryInterval=2)
    token = created_reply["authToken"]

    async def works_on_b() -> bool:
        return bool((await read(b.port, token))["errorCode"] == 0)

    await eventually(works_on_b, timeout=5)

    async def decided() -> bool:  # (not by using the token: that would be activity, restarting the lease)
        return REMOVED in a.log_text() + b.log_text()

    await eventually(decided, timeout=15, interval=0.25)
    session_id = uuid.UUID(created_reply["result"]["sessionId"])
    for node in (a, b):
        admin = await connect(node.port, ADMIN)
        try:

            async def unknown(admin: Any = admin) -> bool:  # describing it is no activity
                return bool((await describe(admin, session_id)).tag == 122)

            await eventually(unknown, timeout=5)
        finally:
            await admin.close()
    for node in (a, b):
        assert (await read(node.port, token))["errorCode"] == NOT_FOUND
    removals = [line for node in (a, b) for line in node.log_text().splitlines() if REMOVED in line]
    assert len(removals) == 1, removals


async def test_the_lease_of_a_temporary_sub_session_whose_node_was_killed_runs_out_on_another_node(nodes):
    a, b = nodes
    on_a = await connect(a.port)
    session_id = await created(on_a, OPERATOR, options={2: 2})  # k = 0: only a connection end starts its lease
    admin_b = await connect(b.port, ADMIN)
    try:

        async def known_on_b() -> bool:
            return bool((await describe(admin_b, session_id)).tag == 121)

        await eventually(known_on_b, timeout=5)
        a.kill()

        async def removed_on_b() -> bool:
            return bool((await describe(admin_b, session_id)).tag == 122)

        await eventually(removed_on_b, timeout=30, interval=0.25)
        log = b.log_text()
        assert f"node a is gone: the lease of sub-session {session_id} runs from now" in log
        assert f"sub-session {session_id} {REMOVED} b" in log
    finally:
        await admin_b.close()

"""Issue 14 items 2-4: logins verified off the event loop, back-off per (address, user), busy pool."""

from __future__ import annotations

import asyncio
import threading

import pytest
from cbor2 import CBORTag
from support.fixtures import SAMPLE_CONFIG, sample_password
from support.hardening import OPERATOR, OPERATOR_PASSWORD, costly_config
from support.raw_client import RawClient
from support.security import basic_authorization as basic
from support.servers import start_served
from websockets.exceptions import InvalidStatus

from xentara_ws.protocol.codec import encode
from xentara_ws.security.login import LoginBusy, VerificationPool

PASSWORD: str = sample_password()


async def start(tmp_path, *extra: str):
    folder = costly_config(tmp_path, SAMPLE_CONFIG, PASSWORD)
    return await start_served("--config", str(folder), "--no-tls", *extra)


@pytest.fixture
async def server(tmp_path):
    instance = await start(tmp_path)
    yield instance
    await instance.close()


async def connect(server, authorization: str, hello: bool = True) -> RawClient:
    return await RawClient.open(server.port, hello=hello, additional_headers={"Authorization": authorization})


async def refused_status(server, authorization: str) -> tuple[int, str | None]:
    with pytest.raises(InvalidStatus) as refused:
        await connect(server, authorization, hello=False)
    response = refused.value.response
    return response.status_code, response.headers.get("Retry-After")


def login(user: str, password: str, message_id: int) -> list:
    return [0, message_id, 12, {0: CBORTag(123, {0: user, 1: password})}]


async def test_a_login_storm_on_one_connection_does_not_hold_up_another_clients_read(server):
    stormer = await connect(server, basic("xentara", PASSWORD))
    reader = await connect(server, basic("xentara", PASSWORD))
    register = (await reader.request(3, {0: "Semantic Sampler.Test Register"}))[2]
    storm = [login(f"ghost{i}", "guess", 100 + i) for i in range(40)]
    await stormer.connection.send(encode(storm))
    storm_reply = asyncio.ensure_future(stormer.receive_response(timeout=120))
    await asyncio.sleep(0)  # the storm message is on its way before the read
    read = await reader.request(4, {0: register, 1: [0]})
    assert read[0] == 1
    assert not storm_reply.done(), "the read had to wait for the whole login storm"
    replies = await storm_reply
    assert [r[1] for r in replies] == [100 + i for i in range(40)]
    assert all(r[0] == 2 and r[2][0] == -32102 for r in replies)
    assert any("retry in" in r[2][1] for r in replies), "the back-off says when to retry"
    await stormer.close()
    await reader.close()


async def test_sub_session_logins_are_backed_off_too(server):
    client = await connect(server, basic(OPERATOR, OPERATOR_PASSWORD))
    replies = await client.batch(*(login("xentara", "guess", 10 + i) for i in range(5)))
    assert all(r[2][0] == -32102 for r in replies)
    locked = (await client.batch(login("xentara", PASSWORD, 20)))[0]
    assert locked[0] == 2 and locked[2][0] == -32102 and "retry in" in locked[2][1]
    # The back-off is for xentara from this address; the operator may still sign in.
    assert (await client.batch(login(OPERATOR, OPERATOR_PASSWORD, 21)))[0][0] == 1
    await client.close()


async def test_another_users_success_does_not_reset_the_upgrade_back_off(server):
    for _ in range(4):
        assert (await refused_status(server, basic("xentara", "guess")))[0] == 401
    operator = await connect(server, basic(OPERATOR, OPERATOR_PASSWORD))  # a success of another account
    await operator.close()
    assert (await refused_status(server, basic("xentara", "guess")))[0] == 401
    status, retry_after = await refused_status(server, basic("xentara", PASSWORD))
    assert status == 429 and retry_after is not None and int(retry_after) > 0
    # The lock-out is per (address, user): another user at the same address is not locked out.
    operator = await connect(server, basic(OPERATOR, OPERATOR_PASSWORD))
    await operator.close()


async def test_upgrade_and_sub_session_logins_share_one_back_off(server):
    for _ in range(3):
        assert (await refused_status(server, basic("xentara", "guess")))[0] == 401
    client = await connect(server, basic(OPERATOR, OPERATOR_PASSWORD))
    replies = await client.batch(login("xentara", "guess", 1), login("xentara", "guess", 2))
    assert [r[2][0] for r in replies] == [-32102, -32102]
    status, _ = await refused_status(server, basic("xentara", PASSWORD))
    assert status == 429
    await client.close()


async def test_a_full_login_pool_refuses_with_503_and_retry_after(tmp_path):
    instance = await start(tmp_path, "--max-pending-logins", "1", "--login-workers", "1")
    try:
        attempts = [refused_status(instance, basic(f"ghost{i}", "guess")) for i in range(6)]
        results = await asyncio.gather(*attempts)
        statuses = [status for status, _ in results]
        assert 503 in statuses and 401 in statuses
        assert all(retry == "1" for status, retry in results if status == 503)
    finally:
        await instance.close()


async def test_the_pool_refuses_beyond_its_caps_instead_of_queueing_without_bound():
    pool = VerificationPool(workers=1, max_pending=2, max_pending_per_address=1)
    release = threading.Event()
    first = asyncio.ensure_future(pool.run("10.0.0.1", release.wait, 10))
    await asyncio.sleep(0)
    with pytest.raises(LoginBusy) as same_address:
        await pool.run("10.0.0.1", lambda: True)
    assert same_address.value.status == 503 and same_address.value.retry_after == 1
    second = asyncio.ensure_future(pool.run("10.0.0.2", lambda: "done"))
    await asyncio.sleep(0)
    with pytest.raises(LoginBusy, match="limit 2"):
        await pool.run("10.0.0.3", lambda: True)
    release.set()
    assert await first is True and await second == "done"
    assert pool.pending == 0
    pool.close()


async def test_the_gate_admits_an_http_request_through_the_pool(tmp_path):
    from xentara_ws.edge import HttpRequest, UpgradeRefused
    from xentara_ws.security import AccessControl, Authenticator, load_configuration
    from xentara_ws.security.login import LoginService
    from xentara_ws.server.security_setup import SecurityGate

    config = load_configuration(costly_config(tmp_path, SAMPLE_CONFIG, PASSWORD, rounds=5000))
    gate = SecurityGate(LoginService(Authenticator(config)), AccessControl(config))

    def request(authorization: str) -> HttpRequest:
        return HttpRequest(
            method="GET",
            target="/api/ws",
            path="/api/ws",
            query="",
            headers=(("authorization", authorization),),
            body=b"",
            peer="10.1.1.1:5000",
            peer_host="10.1.1.1",
            secure=False,
        )

    assert (await gate.admit(request(basic("xentara", PASSWORD)))).name == "xentara"
    with pytest.raises(UpgradeRefused) as refused:
        await gate.admit(request(basic("xentara", "guess")))
    assert refused.value.status == 401
    gate.logins.close()

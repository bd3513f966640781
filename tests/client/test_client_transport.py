"""Connection-level behaviour: credentials on the upgrade, TLS verification options, reconnects."""

from __future__ import annotations

import asyncio
import base64
import logging
import uuid

import pytest
from support.models import REGISTER_UUID, small_model
from support.security import PasswordLogins
from support.servers import free_port, running, url

from xentara_ws.client import ConnectionFailed, XentaraClient, certificate_fingerprint, connect
from xentara_ws.edge import HttpRequest, UpgradeRefused
from xentara_ws.server.app import XentaraServer


class RecordingGate:
    """Admits everyone, remembering the Authorization header; refuses 'Basic' for user 'mallory'."""

    def __init__(self) -> None:
        self.headers: list[str | None] = []

    def admit(self, request: HttpRequest) -> object:
        authorization = request.header("authorization")
        self.headers.append(authorization)
        if authorization == "Basic " + base64.b64encode(b"mallory:x").decode():
            raise UpgradeRefused(401, "Unauthorized", [("WWW-Authenticate", 'Basic realm="Xentara"')])
        if authorization == "Bearer forbidden":
            raise UpgradeRefused(403, "Forbidden")
        return authorization


@pytest.fixture
async def gated():
    gate = RecordingGate()
    async with running(small_model(), gatekeeper=gate) as instance:
        yield instance, gate


async def test_basic_credentials_are_sent_on_the_upgrade(gated):
    server, gate = gated
    async with connect(url(server), user="demo", password="p:w") as client:
        await client.get_stage()
    assert gate.headers == ["Basic " + base64.b64encode(b"demo:p:w").decode()]


async def test_bearer_token_is_sent_on_the_upgrade(gated):
    server, gate = gated
    async with connect(url(server), token="abc.def.ghi"):
        pass
    assert gate.headers == ["Bearer abc.def.ghi"]


async def test_no_credentials_no_authorization_header(gated):
    server, gate = gated
    async with connect(url(server)):
        pass
    assert gate.headers == [None]


async def test_refused_upgrade_raises_with_status(gated):
    server, _ = gated
    with pytest.raises(ConnectionFailed) as unauthorized:
        await connect(url(server), user="mallory", password="x")
    assert unauthorized.value.kind == "unauthorized" and unauthorized.value.status == 401
    with pytest.raises(ConnectionFailed) as forbidden:
        await connect(url(server), token="forbidden")
    assert forbidden.value.kind == "forbidden"


async def test_connection_refused_is_reported_as_such():
    with pytest.raises(ConnectionFailed) as refused:
        await connect(f"ws://127.0.0.1:{free_port()}/api/ws")
    assert refused.value.kind == "refused"


async def test_tls_with_pinned_fingerprint_is_accepted(tls_server, tls_material):
    pin = certificate_fingerprint(tls_material.der)
    colon_form = ":".join(pin[i : i + 2] for i in range(0, 64, 2)).upper()
    for fingerprint in (pin, colon_form):
        async with connect(url(tls_server, "wss"), fingerprint=fingerprint) as client:
            assert (await client.read(REGISTER_UUID)).value == 42.5


async def test_tls_with_wrong_fingerprint_is_refused(tls_server):
    with pytest.raises(ConnectionFailed) as refused:
        await connect(url(tls_server, "wss"), fingerprint="00" * 32)
    assert refused.value.kind == "tls"


async def test_tls_verification_against_ca_file_and_default_refusal(tls_server, tls_material):
    async with connect(url(tls_server, "wss"), ca_file=str(tls_material.cert_file)) as client:
        assert await client.lookup("Group 1.Flag")
    with pytest.raises(ConnectionFailed) as untrusted:
        await connect(url(tls_server, "wss"))
    assert untrusted.value.kind == "tls"


async def test_insecure_tls_connects_and_logs_a_warning(tls_server, caplog):
    with caplog.at_level(logging.WARNING, logger="xentara_ws.client.tls"):
        async with connect(url(tls_server, "wss"), insecure=True) as client:
            assert await client.get_stage() is not None
    assert "verification is OFF" in caplog.text


async def wait_for(predicate, timeout: float = 10.0) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


async def test_reconnect_restores_subscription_and_sub_session_with_same_ids():
    port = free_port()
    logins = PasswordLogins()
    first = XentaraServer(small_model(), sub_session_authenticator=logins)
    await first.start("127.0.0.1", port)
    client = XentaraClient(f"ws://127.0.0.1:{port}/api/ws", initial_backoff=0.05, max_backoff=0.2, request_timeout=5)
    await client.connect()
    second = None
    try:
        session = await client.create_sub_session(user="operator", password="secret")
        subscription = await client.subscribe([REGISTER_UUID])
        assert (await subscription.next(timeout=5)).values.value == 42.5

        await first.close()
        await wait_for(lambda: not client.connected)
        second = XentaraServer(small_model(), sub_session_authenticator=logins)
        await second.start("127.0.0.1", port)
        await wait_for(lambda: client.connected)
        assert client.reconnects == 1

        # The restored subscription sends its initial event again, then follows changes.
        restored = await subscription.next(timeout=5)
        assert restored.subscription_id == subscription.id and restored.values.value == 42.5
        async with connect(f"ws://127.0.0.1:{port}/api/ws") as other:
            await other.write(REGISTER_UUID, 99.0)
        assert (await subscription.next(timeout=5)).values.value == 99.0
        # The sub-session exists again under the same id, logged in with the stored credentials.
        assert (await client.check_access(session)).write is True
        assert [kind for kind, _ in logins.logins] == ["password", "password"]
    finally:
        await client.close()
        if second is not None:
            await second.close()


async def test_requests_fail_cleanly_when_reconnect_is_off(server):
    client = XentaraClient(url(server), reconnect=False)
    await client.connect()
    await server.close()
    await wait_for(lambda: not client.connected)
    with pytest.raises(ConnectionFailed):
        await client.lookup("Group 1")
    await client.close()


async def test_reconnect_gives_up_after_max_attempts_and_ends_iteration():
    port = free_port()
    first = XentaraServer(small_model())
    await first.start("127.0.0.1", port)
    client = XentaraClient(
        f"ws://127.0.0.1:{port}/api/ws", initial_backoff=0.01, max_backoff=0.02, max_reconnect_attempts=3
    )
    await client.connect()
    subscription = await client.subscribe([REGISTER_UUID], subscription_id=uuid.uuid4())
    await subscription.next(timeout=5)
    await first.close()
    with pytest.raises(ConnectionFailed):
        await asyncio.wait_for(subscription.next(), 10)
    await client.close()

"""The vendor's sample configuration served as-is over TLS, as a user would run it."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid

import pytest
from cbor2 import CBORTag
from support.fixtures import SAMPLE_CONFIG, needs_vendor_fixtures, sample_password
from support.raw_client import RawClient
from support.security import basic_headers as basic
from support.security import insecure_context
from support.servers import start_served
from websockets.exceptions import InvalidHandshake, InvalidStatus

from xentara_ws.protocol.identifiers import NIL_UUID
from xentara_ws.security import set_password

pytestmark = needs_vendor_fixtures
USER = "xentara"  # client-credentials.json's user; its password is read when a test runs (sample_password())
TEST_REGISTER = uuid.UUID("1f76606f-ebf4-4678-b345-86c15873a0d6")
SINE_WAVE = uuid.UUID("f0ccedac-b2ad-408e-b5e5-9928286398aa")
PULSE = uuid.UUID("db74bcdf-e5fc-4995-8712-f0817316ef80")


async def start(config_dir, tmp_path, *extra):
    return await start_served("--config", str(config_dir), "--state-dir", str(tmp_path / "state"), *extra)


@pytest.fixture
async def sample_server(tmp_path):
    # As it is, and checked against the vendor's own schemas on the way in.
    server = await start(SAMPLE_CONFIG, tmp_path, "--schema-dir", str(SAMPLE_CONFIG.parent / "xentara-schemas"))
    yield server
    await server.close()


async def open_as(server, user=USER, password=None, **kwargs):
    password = sample_password() if password is None else password
    return await RawClient.open(
        server.port, scheme="wss", ssl=insecure_context(), additional_headers=basic(user, password), **kwargs
    )


async def test_user_xentara_with_the_fixture_password_is_accepted_over_tls(sample_server):
    client = await open_as(sample_server)
    assert (await client.request(8))[2] == 2
    await client.close()


@pytest.mark.parametrize(("user", "password"), [(USER, "wrong"), ("nobody", None), ("", "")])
async def test_everyone_else_is_refused_with_401_and_a_basic_challenge(sample_server, user, password):
    with pytest.raises(InvalidStatus) as refused:
        await open_as(sample_server, user, password, hello=False)
    response = refused.value.response
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Basic realm="Xentara"')


async def test_no_credentials_at_all_is_401(sample_server):
    with pytest.raises(InvalidStatus) as refused:
        await RawClient.open(sample_server.port, scheme="wss", ssl=insecure_context(), hello=False)
    assert refused.value.response.status_code == 401


async def test_plain_ws_is_not_served_when_tls_is_on(sample_server):
    with pytest.raises((OSError, TimeoutError, InvalidHandshake)):
        await RawClient.open(sample_server.port, hello=False, open_timeout=3)


async def test_the_sample_tree_browses_and_looks_up(sample_server):
    client = await open_as(sample_server)
    reply = await client.request(1, {0: NIL_UUID, 1: 1})
    assert {e[0] for e in reply[2]} >= {"Semantic Sampler", "Sampler", "Sampler Track", "Inspector"}
    assert (await client.request(3, {0: "Semantic Sampler.Test Register"}))[2] == TEST_REGISTER
    types = await client.request(4, {0: SINE_WAVE, 1: [3, 4]})
    assert types[2] == {3: CBORTag(121, "data point"), 4: CBORTag(121, "data point")}
    await client.close()


async def test_the_register_accepts_writes_and_refuses_mismatches(sample_server):
    client = await open_as(sample_server)
    assert (await client.request(5, {0: TEST_REGISTER, 1: 11, 2: 17}))[0] == 1
    assert (await client.request(4, {0: TEST_REGISTER, 1: [11]}))[2][11] == CBORTag(121, 17)
    assert (await client.request(5, {0: TEST_REGISTER, 1: 11, 2: "x"}))[2][0] == -32106
    await client.close()


async def test_a_vendor_style_subscription_receives_live_sine_values_continuously(sample_server):
    client = await open_as(sample_server)
    reply = await client.request(6, {2: 100, 3: uuid.uuid4(), 0: [{0: SINE_WAVE, 1: [11, 9, 7]}]})
    assert reply[0] == 1
    values = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while len(set(values)) < 4 and loop.time() < deadline:
        for event in await client.next_events(timeout=deadline - loop.time()):
            values.append(event[2][2][11].value)
            assert event[2][2][9] == CBORTag(121, 0)
    assert len(set(values)) >= 4, "the sine wave (500 ms timer) kept changing"
    assert all(50 <= v <= 100 for v in values)
    await client.close()


async def test_sub_session_of_the_administrator_can_read_and_write(sample_server):
    client = await open_as(sample_server)
    reply = await client.request(12, {0: CBORTag(123, {0: USER, 1: sample_password()})})
    session = reply[2]
    assert reply[0] == 1 and isinstance(session, uuid.UUID)
    assert (await client.request(15, {0: session}))[2] == {0: True, 1: True}
    assert (await client.request(5, {0: TEST_REGISTER, 1: 11, 2: 3, 3: session}))[0] == 1
    assert (await client.request(13, {0: session}))[0] == 1
    assert (await client.request(13, {0: session}))[2][0] == -32111
    await client.close()


async def test_a_failed_sub_session_login_is_32102(sample_server):
    client = await open_as(sample_server)
    reply = await client.request(12, {0: CBORTag(123, {0: USER, 1: "wrong"})})
    assert reply[0] == 2 and reply[2][0] == -32102
    await client.close()


@pytest.fixture
async def guarded_server(tmp_path):
    """The sample plus a user `guest` that has only the built-in Everyone role."""
    folder = tmp_path / "config"
    shutil.copytree(SAMPLE_CONFIG, folder)
    users = json.loads((folder / "users.json").read_text())
    users["users"].append({"userName": "guest", "UUID": str(uuid.uuid4()), "roles": []})
    (folder / "users.json").write_text(json.dumps(users))
    set_password(folder, "guest", "guest-pass")
    server = await start(folder, tmp_path)
    yield server
    await server.close()


async def test_a_user_without_read_gets_32102_per_attribute_and_on_write_and_subscribe(guarded_server):
    guest = await open_as(guarded_server, "guest", "guest-pass")
    reply = await guest.request(4, {0: SINE_WAVE, 1: [11, 9]})
    assert reply[2][11] == CBORTag(122, {0: -32102, 1: "access denied"})
    assert (await guest.request(5, {0: TEST_REGISTER, 1: 11, 2: 1}))[2][0] == -32102
    assert (await guest.request(6, {0: [{0: PULSE, 1: [11]}]}))[2][0] == -32102
    assert (await guest.request(10))[2][0] == -32102
    await guest.close()


async def test_check_access_and_the_both_rule_with_a_weaker_sub_session(guarded_server):
    admin = await open_as(guarded_server)
    session = (await admin.request(12, {0: CBORTag(123, {0: "guest", 1: "guest-pass"})}))[2]
    assert (await admin.request(15, {0: session}))[2] == {0: False, 1: False}
    assert (await admin.request(5, {0: TEST_REGISTER, 1: 11, 2: 5, 3: session}))[2][0] == -32102
    assert (await admin.request(5, {0: TEST_REGISTER, 1: 11, 2: 5}))[0] == 1
    await admin.close()


async def test_a_role_without_websocket_connect_is_refused_with_403(tmp_path):
    folder = tmp_path / "config"
    shutil.copytree(SAMPLE_CONFIG, folder)
    security = json.loads((folder / "security.json").read_text())
    security["ACL"]["entries"][0] = {"role": "Everyone", "deny": ["websocket.connect"]}
    (folder / "security.json").write_text(json.dumps(security))
    server = await start(folder, tmp_path)
    try:
        with pytest.raises(InvalidStatus) as refused:
            await open_as(server, hello=False)
        assert refused.value.response.status_code == 403
    finally:
        await server.close()


async def test_the_self_signed_certificate_stays_the_same_across_restarts(tmp_path):
    first = await start(SAMPLE_CONFIG, tmp_path)
    await first.close()
    cert = (tmp_path / "state").iterdir()
    before = {p.name: p.read_bytes() for p in cert}
    second = await start(SAMPLE_CONFIG, tmp_path)
    await second.close()
    after = {p.name: p.read_bytes() for p in (tmp_path / "state").iterdir()}
    assert before == after and before


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["info"], "model file path"),
        (["browse"], "Semantic Sampler"),
        (["lookup", "Semantic Sampler.Test Register"], str(TEST_REGISTER)),
        (["read", "Semantic Sampler.Sine Wave", "value", "quality"], "quality"),
        (["write", "Semantic Sampler.Test Register", "value", "42"], "wrote 42"),
        (["subscribe", "Semantic Sampler.Sine Wave", "--count", "2"], "Semantic Sampler.Sine Wave"),
        (["login", "--login-user", USER, "--login-password", "SAMPLE PASSWORD"], "write access: yes"),
    ],
)
async def test_every_cli_command_works_against_the_sample_configuration(sample_server, argv, expected, capsys):
    from xentara_ws.cli import main

    url = f"wss://127.0.0.1:{sample_server.port}/api/ws"
    # The sample's password is read here, not at collection (the parameters name it by a placeholder).
    argv = [sample_password() if arg == "SAMPLE PASSWORD" else arg for arg in argv]
    credentials = ["--user", USER, "--password", sample_password()]
    code = await asyncio.to_thread(main, [*argv, "--url", url, *credentials, "--insecure"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert expected in out


# -- every command against the sample configuration, with the error codes it can produce -----------


async def test_commands_and_their_errors_against_the_sample_configuration(sample_server):
    client = await open_as(sample_server, hello=False)
    assert (await client.request(8))[2][0] == -32000
    assert (await client.request(14, {0: 1, 1: 1}))[2] == {0: 1}
    assert (await client.request(14, {0: 1, 1: 1}))[2][0] == -32001
    assert (await client.request(42))[2][0] == -32601
    assert (await client.send_raw(b"\xff"))[0][2][0] == -32700
    assert (await client.batch([1, 5, 8]))[0][2][0] == -32600

    info = (await client.request(0, {0: [0, 1, 2]}))[2]
    assert info[2].endswith("xentara-sample-config/model.json")
    browsed = (await client.request(1, {0: NIL_UUID, 1: 2, 2: [1, 2]}))[2]
    assert {"Semantic Sampler", "Semantic Sampler.Pulse", "Semantic Sampler.Test Register"} <= {e[0] for e in browsed}
    meta = (await client.request(2, {0: PULSE, 1: [0, 1, 2, 3]}))[2]
    assert meta[0] == "Semantic Sampler.Pulse" and meta[1] == 2 and meta[3] is False
    value = next(a for a in meta[2] if a[1] == 11)
    assert value[2] == 0 and value[3] == 0, "the pulse data point is a read-only Boolean"
    assert (await client.request(3, {0: "Semantic Sampler.Pulse"}))[2] == PULSE
    pulse = (await client.request(4, {0: PULSE, 1: [11, 9, 7, 10]}))[2]
    assert type(pulse[11].value) is bool and pulse[9] == CBORTag(121, 0) and pulse[10].value[0] == -32101

    assert (await client.request(5, {0: TEST_REGISTER, 1: 11, 2: -5}))[0] == 1
    assert (await client.request(5, {0: TEST_REGISTER, 1: 11, 2: 2**63}))[2][0] == -32105
    assert (await client.request(5, {0: TEST_REGISTER, 1: 11, 2: 1.5}))[2][0] == -32106
    assert (await client.request(5, {0: PULSE, 1: 11, 2: True}))[2][0] == -32103
    assert (await client.request(5, {0: TEST_REGISTER, 1: 10, 2: True}))[2][0] == -32101
    assert (await client.request(5, {0: uuid.uuid4(), 1: 11, 2: 1}))[2][0] == -32100
    assert (await client.request(5, {0: TEST_REGISTER, 1: 11}))[2][0] == -32602

    assert (await client.request(8))[2] == 2
    for opcode in (10, 9, 11):  # the sample grants no stage control to anyone
        assert (await client.request(opcode))[2][0] == -32102
    assert (await client.request(7, {0: uuid.uuid4()}))[2][0] == -32110
    session = (await client.request(12, {0: CBORTag(123, {0: USER, 1: sample_password()}), 1: uuid.UUID(int=7)}))[2]
    assert session == uuid.UUID(int=7)
    assert (await client.request(15, {0: NIL_UUID}))[2][0] == -32602
    assert (await client.request(13, {0: uuid.uuid4()}))[2][0] == -32111
    assert (await client.request(13, {0: session}))[0] == 1
    await client.close()


async def test_a_client_certificate_sub_session_is_matched_against_client_certs_json(tmp_path):
    import time as _time

    from support.security import der, make_cert, name, pem

    now = _time.time()
    root, root_key = make_cert(
        name(C="DE", O="Example", CN="Example Root"), ca=True, not_before=now - 86400, not_after=now + 86400 * 365
    )
    client_cert, _ = make_cert(
        name(C="DE", O="Example", OU="Plant 1", CN="hmi-7"),
        root.subject,
        root_key,
        not_before=now - 86400,
        not_after=now + 86400,
    )
    rogue, rogue_key = make_cert(name(C="DE", O="Example", CN="Example Root"), ca=True, not_before=now - 86400)
    forged, _ = make_cert(
        name(C="DE", O="Example", OU="Plant 1", CN="hmi-7"), rogue.subject, rogue_key, not_before=now - 86400
    )
    folder = tmp_path / "config"
    shutil.copytree(SAMPLE_CONFIG, folder)
    (folder / "certs").mkdir()
    (folder / "certs" / "root.pem").write_bytes(pem(root))
    (folder / "client-certs.json").write_text(
        json.dumps(
            {
                "rootCertificates": [{"issuer": "C=DE,O=Example,CN=Example Root", "certificatePath": "root.pem"}],
                "rules": [
                    {
                        "issuer": "C=DE,O=Example,CN=Example Root",
                        "subjectPrefix": "C=DE, O=Example, OU=Plant 1",
                        "roles": ["Administrator"],
                    }
                ],
            }
        )
    )
    server = await start(folder, tmp_path)
    try:
        client = await open_as(server)
        reply = await client.request(12, {0: CBORTag(122, {0: der(client_cert)})})
        assert reply[0] == 1, reply
        assert (await client.request(15, {0: reply[2]}))[2] == {0: True, 1: True}
        refused = await client.request(12, {0: CBORTag(122, {0: der(forged)})})
        assert refused[0] == 2 and refused[2][0] == -32102
        garbage = await client.request(12, {0: CBORTag(122, {0: b"not a certificate"})})
        assert garbage[0] == 2 and garbage[2][0] == -32102
        await client.close()
    finally:
        await server.close()

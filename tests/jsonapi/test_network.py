"""The JSON API over real connections: POST /api (http.client) and the /api WebSocket (websockets' client)."""

from __future__ import annotations

import asyncio
import json

import pytest
from support.clocks import FakeClock
from support.jsonapi import call, exchange
from support.raw_client import RawClient
from support.security import basic_authorization as basic
from support.servers import copy_demo, start_served
from websockets.asyncio.client import connect

from xentara_ws.jsonapi.envelope import DELETE_WARNING_MESSAGE, SESSION_NOT_FOUND_MESSAGE

TEMPERATURE = "Plant.Tank.Temperature"
SETPOINT = "Plant.Line.Setpoint"


def demo_folder(tmp_path):
    """The demo configuration, with sessions.admin granted to Administrator (user demo)."""
    folder = copy_demo(tmp_path)
    security = json.loads((folder / "security.json").read_text())
    for entry in security["ACL"]["entries"]:
        if entry["role"] == "Administrator":
            entry["allow"].append("sessions.admin")
    (folder / "security.json").write_text(json.dumps(security))
    return folder


async def start(tmp_path, *extra: str):
    return await start_served("--config", str(demo_folder(tmp_path)), "--state-dir", str(tmp_path / "state"), *extra)


@pytest.fixture
async def server(tmp_path):
    instance = await start(tmp_path, "--no-tls", "--max-message-size", "4096")
    yield instance
    await instance.close()


async def login(port: int, user: str = "demo", password: str = "demo", **params) -> str:
    reply = await call(
        port, {"api": "admin", "action": "createSession", "params": {"username": user, "password": password, **params}}
    )
    assert reply["errorCode"] == 0, reply
    return reply["authToken"]


# -- HTTP transport ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
async def test_other_methods_get_405_with_allow_post(server, method: str) -> None:
    (reply,) = await exchange(server.port, (method, b"{}", {}))
    assert reply.status == 405
    assert reply.headers["allow"] == "POST"


async def test_a_body_over_the_message_size_limit_gets_413(server) -> None:
    body = json.dumps({"action": "getStage", "params": {}, "pad": "x" * 5000}).encode()
    (reply,) = await exchange(server.port, ("POST", body, {}))
    assert reply.status == 413


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{nope", -32700),
        (b"[1,2]", -32700),
        (b'"text"', -32700),
        (b'{"action": "teleport"}', -32601),
        (b'{"action": "read", "params": 5}', -32602),
        (b'{"params": {}}', -32602),
    ],
)
async def test_envelope_errors_are_200_with_the_code_in_the_body(server, body: bytes, code: int) -> None:
    reply = await call(server.port, body)
    assert reply["errorCode"] == code and reply["errorMessage"]


async def test_keep_alive_serves_several_requests_on_one_connection(server) -> None:
    token = await login(server.port)
    request = json.dumps({"action": "getStage", "authToken": token}).encode()
    replies = await exchange(server.port, *[("POST", request, {})] * 5)
    assert [r.json()["result"] for r in replies] == [{"stage": "operational"}] * 5


async def test_missing_and_unknown_tokens_are_12031(server) -> None:
    for request in (
        {"action": "read", "params": {"element": TEMPERATURE}},
        {"action": "read", "authToken": "forged", "params": {"element": TEMPERATURE}},
    ):
        reply = await call(server.port, request)
        assert (reply["errorCode"], reply["errorMessage"]) == (12031, SESSION_NOT_FOUND_MESSAGE)


async def test_basic_authorization_like_curl_u(server) -> None:
    reply = await call(
        server.port,
        {"action": "read", "params": {"element": TEMPERATURE, "attributes": ["value"]}},
        Authorization=basic("demo", "demo"),
    )
    assert reply["errorCode"] == 0 and "value" in reply["result"]["values"]
    wrong = await call(server.port, {"action": "getStage"}, Authorization=basic("demo", "nope"))
    assert wrong["errorCode"] == -32102


async def test_wrong_parameter_types_name_the_parameter(server) -> None:
    token = await login(server.port)
    for params, name in (({"element": 5}, "element"), ({"element": TEMPERATURE, "attributes": "value"}, "attributes")):
        reply = await call(server.port, {"action": "read", "authToken": token, "params": params})
        assert reply["errorCode"] == -32602 and name in reply["errorMessage"], reply


# -- every action over HTTP ------------------------------------------------------------------------------


async def test_every_xentara_action_over_http(server) -> None:
    port = server.port
    token = await login(port)

    async def act(action: str, **params):
        reply = await call(port, {"action": action, "authToken": token, "params": params, "requestId": action})
        assert reply["requestId"] == action
        return reply

    assert (await act("serverInformation"))["result"]["version"].startswith("xentara-ws")
    browsed = await act("browse", element="Plant", depth=1)
    assert {e["primaryKey"] for e in browsed["result"]["elements"]} >= {"Plant.Tank", "Plant.Line"}
    meta = await act("metaData", element=TEMPERATURE)
    assert meta["result"]["category"] == "data point"
    uuid_text = (await act("lookup", primaryKey=TEMPERATURE))["result"]["uuid"]
    read = await act("read", element=uuid_text, attributes=["value", "quality"])
    assert read["result"]["element"] == TEMPERATURE and read["result"]["values"]["quality"] in (
        "good",
        "acceptable",
        "unreliable",
        "bad",
    )
    assert (await act("write", element=SETPOINT, value=12.5))["errorCode"] == 0
    assert (await act("read", element=SETPOINT, attributes=["value"]))["result"]["values"]["value"] == 12.5
    assert (await act("write", element=TEMPERATURE, value=1.0))["errorCode"] == -32103
    subscription = await act("subscribe", elements=[{"element": SETPOINT, "attributes": ["value"]}], queueSize=5)
    subscription_id = subscription["result"]["subscriptionId"]
    first = await act("getEvents", waitMilliseconds=1000)
    assert [e["values"] for e in first["result"]["events"]] == [{"value": 12.5}]
    poll = asyncio.ensure_future(act("getEvents", waitMilliseconds=10000))
    await asyncio.sleep(0.05)
    await call(port, {"action": "write", "authToken": token, "params": {"element": SETPOINT, "value": 7}})
    events = (await asyncio.wait_for(poll, 10))["result"]
    assert [e["values"]["value"] for e in events["events"]] == [7.0]
    assert events["dropped"] == 0
    assert (await act("unsubscribe", subscriptionId=subscription_id))["errorCode"] == 0
    assert (await act("getStage"))["result"] == {"stage": "operational"}
    assert (await act("suspend"))["errorCode"] == 0
    assert (await act("getStage"))["result"] == {"stage": "suspended"}
    assert (await act("resume"))["errorCode"] == 0
    assert (await act("shutdown"))["errorCode"] == -32102  # not enabled (--allow-shutdown)
    assert (await act("checkAccess"))["result"] == {"read": True, "write": True}


async def test_ping_session_three_outcomes(server) -> None:
    port = server.port
    alive = await call(port, {"api": "admin", "action": "pingSession"})
    assert (alive["errorCode"], alive["result"]) == (0, {})
    token = await login(port)
    valid = await call(port, {"api": "admin", "action": "pingSession", "authToken": token})
    assert (valid["errorCode"], valid["result"]) == (0, {})
    await call(port, {"api": "admin", "action": "deleteSession", "authToken": token})
    gone = await call(port, {"api": "admin", "action": "pingSession", "authToken": token})
    assert (gone["errorCode"], gone["errorMessage"]) == (12031, SESSION_NOT_FOUND_MESSAGE)


async def test_delete_session_of_an_unknown_token_warns(server) -> None:
    reply = await call(server.port, {"api": "admin", "action": "deleteSession", "authToken": "gone", "debug": "max"})
    assert reply["errorCode"] == 0
    assert reply["debugInfo"]["warnings"] == [{"code": 12031, "message": DELETE_WARNING_MESSAGE}]
    assert reply["debugInfo"]["request"]["authToken"] == "***"


async def test_admin_actions_and_token_secrecy(server) -> None:
    port = server.port
    operator = await login(port, "operator", "operator", description="op")
    admin = await login(port, description="admin")
    altered = await call(
        port, {"api": "admin", "action": "alterSession", "authToken": operator, "params": {"keepAliveSeconds": 20}}
    )
    assert altered["result"]["keepAliveSeconds"] == 20
    for token in (operator, admin):
        for action in ("listSessions", "describeSessions"):
            reply = await call(port, {"api": "admin", "action": action, "authToken": token, "debug": "max"})
            assert reply["errorCode"] == 0
            shown = json.dumps([reply["result"], reply["debugInfo"]])
            assert operator not in shown and admin not in shown
    listed = await call(port, {"api": "admin", "action": "listSessions", "authToken": admin})
    assert {s["description"] for s in listed["result"]["sessions"]} == {"op", "admin"}  # sessions.admin sees all
    own = await call(port, {"api": "admin", "action": "listSessions", "authToken": operator})
    assert [s["description"] for s in own["result"]["sessions"]] == ["op"]


async def test_contradicting_permanence_is_refused(server) -> None:
    reply = await call(
        server.port,
        {
            "api": "admin",
            "action": "createSession",
            "params": {"username": "demo", "password": "demo", "permanentSession": True, "temporarySession": True},
        },
    )
    assert reply["errorCode"] == -32602 and "contradict" in reply["errorMessage"]


# -- the CBOR side sees JSON sessions -----------------------------------------------------------------------


async def test_a_json_session_is_listed_and_banned_over_cbor(server) -> None:
    token = await login(server.port, "operator", "operator", description="json hmi")
    client = await RawClient.open(server.port, additional_headers={"Authorization": basic("demo", "demo")})
    try:
        listed = await client.request(257)
        mine = [s for s in listed[2] if s[1] == "user:operator"]
        assert len(mine) == 1
        described = await client.request(258, {0: [mine[0][0]]})
        assert described[2][0].value[7] == "json hmi"
        assert token not in repr(described)
        banned = await client.request(259, {0: mine[0][0], 1: {6: "banned"}})
        assert banned[0] == 1, banned
    finally:
        await client.close()
    refused = await call(server.port, {"action": "getStage", "authToken": token})
    assert refused["errorCode"] == -32102 and "banned" in refused["errorMessage"]


# -- the /api WebSocket --------------------------------------------------------------------------------------


async def test_json_over_websocket_with_pushed_events(server) -> None:
    async with connect(f"ws://127.0.0.1:{server.port}/api") as ws:
        await ws.send(
            json.dumps(
                {
                    "api": "admin",
                    "action": "createSession",
                    "requestId": 1,
                    "params": {"username": "demo", "password": "demo"},
                }
            )
        )
        created = json.loads(await ws.recv())
        token = created["authToken"]
        await ws.send(
            json.dumps(
                {
                    "action": "subscribe",
                    "authToken": token,
                    "requestId": 2,
                    "params": {"elements": [{"element": SETPOINT, "attributes": ["value"]}]},
                }
            )
        )
        reply = json.loads(await ws.recv())
        assert reply["requestId"] == 2 and reply["errorCode"] == 0
        initial = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert initial["event"] == "dataChange" and initial["element"] == SETPOINT
        await call(server.port, {"action": "write", "authToken": token, "params": {"element": SETPOINT, "value": 3}})
        pushed = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert pushed["values"] == {"value": 3.0}
        described = await call(server.port, {"api": "admin", "action": "describeSessions", "authToken": token})
        assert described["result"]["sessions"][0]["connected"] is True
        await ws.send(b'{"action": "getStage"}')
        error = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert error["errorCode"] == -32700 and "text frame" in error["errorMessage"]
        await ws.send("not json")
        assert json.loads(await ws.recv())["errorCode"] == -32700


async def test_tls_like_make_run(tmp_path) -> None:
    instance = await start(tmp_path)
    try:
        token = await call(
            instance.port,
            {"api": "admin", "action": "createSession", "params": {"username": "demo", "password": "demo"}},
            tls=True,
        )
        assert token["errorCode"] == 0
        read = await call(
            instance.port,
            {"action": "read", "authToken": token["authToken"], "params": {"element": TEMPERATURE}},
            tls=True,
        )
        assert read["result"]["element"] == TEMPERATURE
    finally:
        await instance.close()


async def test_an_expired_token_is_12031(server) -> None:
    clock = FakeClock()
    server.state.wall_clock = clock  # the registry's clock: leases without waiting
    token = await login(server.port, idleConnectionTimeoutSeconds=10)
    clock.advance(9)
    assert (await call(server.port, {"api": "admin", "action": "pingSession", "authToken": token}))["errorCode"] == 0
    clock.advance(11)
    for action in ("pingSession", "listSessions"):
        reply = await call(server.port, {"api": "admin", "action": action, "authToken": token})
        assert (reply["errorCode"], reply["errorMessage"]) == (12031, SESSION_NOT_FOUND_MESSAGE)

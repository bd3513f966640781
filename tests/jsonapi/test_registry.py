"""A JSON session is a registry sub-session (§8.2, §9.15): seen, banned, deleted over CBOR; leases, wills, restarts."""

from __future__ import annotations

import asyncio
import uuid

from cbor2 import CBORTag
from support.clocks import FakeClock
from support.jsonapi import demo_api, open_api, post, session

from xentara_ws.jsonapi.values import format_time
from xentara_ws.model.tree import Model
from xentara_ws.protocol.codec import TimePoint
from xentara_ws.server.connection_state import ConnectionState
from xentara_ws.server.dispatcher import Dispatcher
from xentara_ws.sessions import SqliteStore


def cbor(api, principal=None):
    """A CBOR connection on the same server, and a function sending it one request."""
    dispatcher = Dispatcher(api.state, api.handlers)
    connection = ConnectionState.ready(principal=principal, peer="127.0.0.1", protocol_version=1)

    async def request(opcode: int, params=None):
        packet = [0, 1, opcode] if params is None else [0, 1, opcode, params]
        reply = dispatcher.handle_packet(connection, packet)
        if asyncio.iscoroutine(reply) or isinstance(reply, asyncio.Future):
            reply = await reply
        return reply

    return request


async def session_id(api, token: str) -> uuid.UUID:
    reply = await post(api, {"api": "admin", "action": "describeSessions", "authToken": token})
    return uuid.UUID(reply["result"]["sessions"][0]["sessionId"])


async def test_a_json_session_is_listed_and_described_over_cbor(model: Model) -> None:
    api = open_api(model)
    token = await session(api, description="from curl")
    request = cbor(api)
    listed = await request(257)
    assert listed[0] == 1 and len(listed[2]) == 1
    summary = listed[2][0]
    assert summary[1] == "anonymous" and summary[8] is False  # offline between HTTP requests
    described = await request(258, {0: [summary[0]]})
    assert described[2][0].value[7] == "from curl"
    assert described[2][0].value[6] == 3600  # the JSON default expiry
    assert token not in repr(described)


async def test_banned_from_cbor_the_token_is_refused(model: Model) -> None:
    api = open_api(model)
    token = await session(api)
    sid = await session_id(api, token)
    reply = await cbor(api)(259, {0: sid, 1: {6: "banned"}})
    assert reply[0] == 1, reply
    refused = await post(api, {"action": "getStage", "authToken": token})
    assert refused["errorCode"] == -32102 and "banned" in refused["errorMessage"]
    listed = await post(api, {"api": "admin", "action": "listSessions", "authToken": (await session(api))})
    assert "banned" in [s["sessionStatus"] for s in listed["result"]["sessions"]]


async def test_deleted_from_cbor_the_token_is_unknown(model: Model) -> None:
    api = open_api(model)
    token = await session(api)
    reply = await cbor(api)(260, {0: await session_id(api, token)})
    assert reply[0] == 1, reply
    assert (await post(api, {"action": "getStage", "authToken": token}))["errorCode"] == 12031


async def test_a_cbor_resume_of_a_json_session_is_refused() -> None:
    api = demo_api()
    token = await session(api)
    sid = await session_id(api, token)
    reply = await cbor(api)(12, {0: CBORTag(123, {0: "demo", 1: "demo"}), 1: sid})
    assert reply[0] == 2 and reply[2][0] == -32102
    assert (await post(api, {"action": "getStage", "authToken": token}))["errorCode"] == 0


async def test_describe_shows_the_json_lease_and_counters(model: Model) -> None:
    api = open_api(model)
    token = await session(api, keepAliveSeconds=10, idleConnectionTimeoutSeconds=60, maxHealthySendRatePerMinute=1)
    await post(api, {"action": "getStage", "authToken": token})
    reply = await post(api, {"api": "admin", "action": "describeSessions", "authToken": token})
    described = reply["result"]["sessions"][0]
    assert (described["keepAliveSeconds"], described["sessionExpiryInterval"]) == (10, 60)
    assert described["counters"]["requestsTotal"] == 3  # getStage, describeSessions (and createSession)
    assert described["sessionHealth"] == "unhealthy"  # 3 requests in a minute, more than 1
    assert described["healthReasons"]
    # Held by this very request, so only the keep-alive counts: 1.5 x 10 s, then the 60 s expiry.
    assert described["expiresAt"] == format_time(TimePoint.from_seconds(FakeClock().now + 15 + 60))


async def test_the_lease_runs_from_the_end_of_the_last_request(model: Model) -> None:
    clock = FakeClock()
    api = open_api(model, clock)
    token = await session(api, idleConnectionTimeoutSeconds=30)
    clock.advance(29)
    assert (await post(api, {"action": "getStage", "authToken": token}))["errorCode"] == 0
    clock.advance(29)
    assert (await post(api, {"action": "getStage", "authToken": token}))["errorCode"] == 0
    clock.advance(31)
    assert (await post(api, {"action": "getStage", "authToken": token}))["errorCode"] == 12031


async def test_the_last_will_is_written_after_a_keep_alive_lapse() -> None:
    clock = FakeClock()
    api = demo_api(clock)
    setpoint = api.state.model.lookup("Plant.Line.Setpoint")
    before = setpoint.value
    await session(api, keepAliveSeconds=2, willElement="Plant.Line.Setpoint", willValue=3, willDelaySeconds=5)
    clock.advance(7.5)  # the lapse is at 1.5 x 2 s = 3 s, the will 5 s later
    api.state.sub_sessions.tick()
    assert setpoint.value == before
    clock.advance(1)
    api.state.sub_sessions.tick()
    assert setpoint.value == 3.0


async def test_a_request_before_the_lapse_keeps_the_will_from_firing() -> None:
    clock = FakeClock()
    api = demo_api(clock)
    setpoint = api.state.model.lookup("Plant.Line.Setpoint")
    before = setpoint.value
    token = await session(api, keepAliveSeconds=2, willElement="Plant.Line.Setpoint", willValue=3, willDelaySeconds=5)
    for _ in range(5):
        clock.advance(2.5)
        api.state.sub_sessions.tick()
        await post(api, {"api": "admin", "action": "pingSession", "authToken": token})
    assert setpoint.value == before


async def test_the_end_of_an_http_request_is_no_loss() -> None:
    clock = FakeClock()
    api = demo_api(clock)
    setpoint = api.state.model.lookup("Plant.Line.Setpoint")
    before = setpoint.value
    await session(api, willElement="Plant.Line.Setpoint", willValue=3, willDelaySeconds=0)
    clock.advance(3000)
    api.state.sub_sessions.tick()
    assert setpoint.value == before


async def test_a_will_that_is_not_a_permitted_write_is_refused_at_creation() -> None:
    api = demo_api()
    reply = await post(
        api,
        {
            "api": "admin",
            "action": "createSession",
            "params": {
                "username": "operator",
                "password": "operator",
                "willElement": "Plant.Line.Setpoint",
                "willValue": 0.0,
            },
        },
    )
    assert reply["errorCode"] == -32102


async def test_a_permanent_session_survives_a_restart(tmp_path) -> None:
    clock = FakeClock()
    first = demo_api(clock)
    first.state.sub_sessions.store = SqliteStore(tmp_path)
    token = await session(first, permanentSession=True, description="api key")
    first.state.sub_sessions.close()
    second = demo_api(clock)
    second.state.sub_sessions.store = SqliteStore(tmp_path)
    assert second.state.sub_sessions.load(second.state.model.find) == 1
    clock.advance(10**6)  # permanent: never expires
    reply = await post(second, {"action": "checkAccess", "authToken": token})
    assert reply["result"] == {"read": True, "write": True}  # demo's rights, restored from users.json
    described = await post(second, {"api": "admin", "action": "describeSessions", "authToken": token})
    assert described["result"]["sessions"][0]["description"] == "api key"
    assert described["result"]["sessions"][0]["permanentSession"] is True


async def test_subscriptions_are_bound_to_the_session(model: Model) -> None:
    api = open_api(model)
    token = await session(api)
    reply = await post(
        api,
        {
            "action": "subscribe",
            "authToken": token,
            "params": {"elements": [{"element": "Group 1.Counter", "attributes": ["value"]}], "queueSize": 3},
        },
    )
    described = await cbor(api)(258, {0: [await session_id(api, token)]})
    assert described[2][0].value[14][4] == 1  # CBOR sees the bound subscription
    model.lookup("Group 1.Counter").publish(1)  # between requests: retained by the registry
    events = await post(api, {"action": "getEvents", "authToken": token})
    assert [e["values"]["value"] for e in events["result"]["events"]] == [7, 1]
    assert {e["subscriptionId"] for e in events["result"]["events"]} == {reply["result"]["subscriptionId"]}


async def test_a_permanent_sessions_subscription_survives_a_restart(tmp_path) -> None:
    clock = FakeClock()
    first = demo_api(clock)
    first.state.sub_sessions.store = SqliteStore(tmp_path)
    token = await session(first, permanentSession=True)
    subscribed = await post(
        first,
        {
            "action": "subscribe",
            "authToken": token,
            "params": {"elements": [{"element": "Plant.Line.Setpoint", "attributes": ["value"]}]},
        },
    )
    first.state.sub_sessions.close()
    second = demo_api(clock)
    second.state.sub_sessions.store = SqliteStore(tmp_path)
    second.state.sub_sessions.load(second.state.model.find)
    events = await post(second, {"action": "getEvents", "authToken": token})
    assert [e["subscriptionId"] for e in events["result"]["events"]] == [subscribed["result"]["subscriptionId"]]
    assert events["result"]["events"][0]["element"] == "Plant.Line.Setpoint"

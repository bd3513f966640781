"""POST /api without sockets: methods, sizes, authentication, and every action (§8, §9.15-21)."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import shutil

import pytest
from support.clocks import FakeClock
from support.jsonapi import (
    basic,
    demo_api,
    http_request,
    open_api,
    post,
    respond,
    served_api,
    session,
)
from support.models import COUNTER_UUID, REGISTER_UUID

from xentara_ws.demo import DEMO_DIR
from xentara_ws.jsonapi.envelope import DELETE_WARNING_MESSAGE, SESSION_NOT_FOUND_MESSAGE
from xentara_ws.jsonapi.http import JsonHttpHandler
from xentara_ws.model.tree import Model

TEMPERATURE = "Plant.Tank.Temperature"
SETPOINT = "Plant.Line.Setpoint"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def api(model: Model, clock: FakeClock):
    return open_api(model, clock)


@pytest.fixture
def demo(clock: FakeClock):
    return demo_api(clock)


# -- transport ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "HEAD", "OPTIONS"])
async def test_other_methods_get_405_with_allow_post(api, method: str) -> None:
    response = await respond(JsonHttpHandler(api, 1024), http_request(b"", method=method))
    assert response.status == 405
    assert ("allow", "POST") in response.headers


async def test_a_body_over_the_message_size_limit_gets_413(api) -> None:
    body = json.dumps({"action": "getStage", "params": {}, "pad": "x" * 200})
    response = await respond(JsonHttpHandler(api, 100), http_request(body))
    assert response.status == 413
    assert b"max-message-size" in response.body


@pytest.mark.parametrize("body", [b"nonsense", b"[]", b'{"action": "noSuchAction"}', b'{"params": {}}'])
async def test_every_request_that_can_be_answered_gets_200_with_the_error_in_the_body(api, body: bytes) -> None:
    response = await respond(JsonHttpHandler(api, 1024), http_request(body))
    assert response.status == 200
    assert response.headers[0] == ("content-type", "application/json; charset=utf-8")
    reply = json.loads(response.body)
    assert reply["errorCode"] in (-32700, -32601, -32602)
    assert reply["errorMessage"]


async def test_unknown_actions_are_32601(api) -> None:
    reply = await post(api, {"action": "frobnicate", "requestId": 1})
    assert reply["errorCode"] == -32601 and "frobnicate" in reply["errorMessage"]
    reply = await post(api, {"api": "admin", "action": "read"})
    assert reply["errorCode"] == -32601  # read is not an admin action


# -- authentication ----------------------------------------------------------------------------


async def test_an_action_without_token_or_header_is_12031(demo) -> None:
    reply = await post(demo, {"action": "read", "params": {"element": TEMPERATURE}})
    assert reply["errorCode"] == 12031
    assert reply["errorMessage"] == SESSION_NOT_FOUND_MESSAGE


async def test_an_unknown_token_is_12031(demo) -> None:
    reply = await post(demo, {"action": "getStage", "authToken": "made-up"})
    assert (reply["errorCode"], reply["errorMessage"]) == (12031, SESSION_NOT_FOUND_MESSAGE)
    assert reply["authToken"] == "made-up"


async def test_basic_authorization_authenticates_one_request(demo) -> None:
    reply = await post(demo, {"action": "read", "params": {"element": TEMPERATURE}}, headers=(basic("demo", "demo"),))
    assert reply["errorCode"] == 0, reply
    assert reply["result"]["element"] == TEMPERATURE
    listed = await post(demo, {"api": "admin", "action": "listSessions"}, headers=(basic("demo", "demo"),))
    assert listed["result"]["sessions"] == []  # no session was created


@pytest.mark.parametrize(
    "header",
    [basic("demo", "wrong"), basic("nobody", "demo"), ("authorization", "Basic !!!"), ("authorization", "Digest x")],
)
async def test_a_wrong_authorization_header_is_200_with_32102(demo, header) -> None:
    response = await respond(JsonHttpHandler(demo, 1 << 20), http_request({"action": "getStage"}, headers=(header,)))
    assert response.status == 200
    assert json.loads(response.body)["errorCode"] == -32102


async def test_the_auth_token_wins_over_the_header(demo) -> None:
    token = await session(demo, "operator", "operator")
    reply = await post(demo, {"action": "checkAccess", "authToken": token}, headers=(basic("demo", "demo"),))
    assert reply["result"] == {"read": True, "write": False}  # the operator's rights, not demo's
    reply = await post(demo, {"action": "getStage", "authToken": "stale"}, headers=(basic("demo", "demo"),))
    assert reply["errorCode"] == 12031


async def test_the_header_does_not_give_a_session_for_subscriptions(demo) -> None:
    reply = await post(
        demo,
        {"action": "subscribe", "params": {"elements": [{"element": TEMPERATURE}]}},
        headers=(basic("demo", "demo"),),
    )
    assert reply["errorCode"] == 12031


# -- admin actions -------------------------------------------------------------------------------


async def test_create_session_returns_a_fresh_256_bit_token_and_faircom_fields(demo) -> None:
    reply = await post(
        demo,
        {
            "api": "admin",
            "action": "createSession",
            "requestId": "r1",
            "params": {"username": "demo", "password": "demo", "description": "HMI 3", "keepAliveSeconds": 30},
        },
    )
    assert reply["errorCode"] == 0, reply
    token = reply["authToken"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    assert len(base64.urlsafe_b64decode(token + "=")) == 32
    result = reply["result"]
    assert result["authToken"] == token
    assert result["username"] == "demo"
    assert result["description"] == "HMI 3"
    assert result["permanentSession"] is False
    assert result["keepAliveSeconds"] == 30
    assert result["idleConnectionTimeoutSeconds"] == 3600
    assert result["sessionStatus"] == "normal"
    assert result["sessionStartTimestamp"].endswith("Z")
    assert result["serverVersion"].startswith("xentara-ws")
    assert set(result) >= {"sessionId", "sessionLastAccessedTimestamp"}
    other = await session(demo)
    assert other != token


async def test_create_session_with_bad_credentials_is_32102(demo) -> None:
    reply = await post(
        demo, {"api": "admin", "action": "createSession", "params": {"username": "demo", "password": "x"}}
    )
    assert reply["errorCode"] == -32102
    assert "authToken" not in reply


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"permanentSession": True, "temporarySession": True}, "contradict"),
        ({"permanentSession": False, "temporarySession": False}, "contradict"),
        ({"permanentSession": "true"}, "'permanentSession'"),
        ({"keepAliveSeconds": -1}, "'keepAliveSeconds'"),
        ({"keepAliveSeconds": 1.5}, "'keepAliveSeconds'"),
        ({"keepAliveSeconds": 70000}, "'keepAliveSeconds'"),
        ({"sessionExpiryInterval": 0}, "'sessionExpiryInterval'"),
        ({"sessionStatus": "banned"}, "'sessionStatus'"),
        ({"sessionStatus": "sleepy"}, "'sessionStatus'"),
        ({"description": "é" * 200}, "'description'"),
        ({"colour": "blue"}, "'colour'"),
        ({"willDelaySeconds": 5}, "'willElement'"),
    ],
)
async def test_create_session_parameter_errors_name_the_parameter(demo, params, names: str) -> None:
    reply = await post(
        demo,
        {"api": "admin", "action": "createSession", "params": {"username": "demo", "password": "demo", **params}},
    )
    assert reply["errorCode"] == -32602, reply
    assert names in reply["errorMessage"]
    assert len(list(demo.sessions)) == 0  # nothing was created


async def test_ping_session_without_token_says_the_server_is_alive(demo) -> None:
    reply = await post(demo, {"api": "admin", "action": "pingSession"})
    assert reply == {"result": {}, "errorCode": 0, "errorMessage": ""}


async def test_ping_session_with_a_valid_token_extends_it(demo, clock: FakeClock) -> None:
    token = await session(demo, idleConnectionTimeoutSeconds=100)
    clock.advance(90)
    reply = await post(demo, {"api": "admin", "action": "pingSession", "authToken": token})
    assert (reply["errorCode"], reply["result"]) == (0, {})
    clock.advance(90)  # 180 s after creation, 90 s after the ping
    reply = await post(demo, {"action": "getStage", "authToken": token})
    assert reply["errorCode"] == 0


async def test_ping_session_with_an_unknown_or_expired_token_is_12031(demo, clock: FakeClock) -> None:
    token = await session(demo, idleConnectionTimeoutSeconds=100)
    clock.advance(101)
    for candidate in (token, "never-issued"):
        reply = await post(demo, {"api": "admin", "action": "pingSession", "authToken": candidate, "requestId": 4})
        assert reply == {
            "requestId": 4,
            "authToken": candidate,
            "result": {},
            "errorCode": 12031,
            "errorMessage": SESSION_NOT_FOUND_MESSAGE,
        }


async def test_idle_timeout_zero_never_expires(demo, clock: FakeClock) -> None:
    token = await session(demo, idleConnectionTimeoutSeconds=0)
    clock.advance(10**7)
    assert (await post(demo, {"action": "getStage", "authToken": token}))["errorCode"] == 0


async def test_idle_timeout_wins_over_session_expiry_interval(demo, clock: FakeClock) -> None:
    token = await session(demo, idleConnectionTimeoutSeconds=10, sessionExpiryInterval=1000)
    clock.advance(11)
    assert (await post(demo, {"action": "getStage", "authToken": token}))["errorCode"] == 12031


async def test_delete_session_ends_it(demo) -> None:
    token = await session(demo)
    reply = await post(demo, {"api": "admin", "action": "deleteSession", "authToken": token, "debug": "max"})
    assert (reply["errorCode"], reply["result"], reply["debugInfo"]["warnings"]) == (0, {}, [])
    assert (await post(demo, {"action": "getStage", "authToken": token}))["errorCode"] == 12031


@pytest.mark.parametrize("token", [None, "never-issued"])
async def test_delete_session_with_a_missing_or_unknown_token_succeeds_with_a_warning(demo, token) -> None:
    request = {"api": "admin", "action": "deleteSession", "debug": "max"}
    if token:
        request["authToken"] = token
    reply = await post(demo, request)
    assert reply["errorCode"] == 0
    assert reply["debugInfo"]["warnings"] == [{"code": 12031, "message": DELETE_WARNING_MESSAGE}]
    assert reply["debugInfo"]["request"].get("authToken") in (None, "***")


async def test_alter_session_changes_settings_and_returns_the_description(demo) -> None:
    token = await session(demo)
    reply = await post(
        demo,
        {
            "api": "admin",
            "action": "alterSession",
            "authToken": token,
            "params": {
                "description": "probe",
                "idleConnectionTimeoutSeconds": 120,
                "sessionStatus": "hidden",
                "maxHealthySendRatePerMinute": 100,
            },
        },
    )
    assert reply["errorCode"] == 0, reply
    result = reply["result"]
    assert (result["description"], result["sessionExpiryInterval"], result["sessionStatus"]) == ("probe", 120, "hidden")
    assert result["healthThresholds"]["maxHealthySendRatePerMinute"] == 100
    assert result["healthThresholds"]["minHealthySendRatePerMinute"] == 0
    assert token not in json.dumps(reply["result"])
    refused = await post(
        demo, {"api": "admin", "action": "alterSession", "authToken": token, "params": {"permanentSession": True}}
    )
    assert refused["errorCode"] == -32602 and "permanentSession" in refused["errorMessage"]


async def test_only_administrators_may_ban(demo) -> None:
    token = await session(demo, "operator", "operator")
    reply = await post(
        demo, {"api": "admin", "action": "alterSession", "authToken": token, "params": {"sessionStatus": "banned"}}
    )
    assert reply["errorCode"] == -32102


async def test_list_and_describe_show_visible_sessions_and_never_a_token(demo) -> None:
    mine = await session(demo, "operator", "operator", description="op")
    admin = await session(demo, "demo", "demo", description="admin")
    hidden = await session(demo, "operator", "operator", sessionStatus="hidden")
    listed = await post(demo, {"api": "admin", "action": "listSessions", "authToken": mine, "debug": "max"})
    text = json.dumps([listed["result"], listed["debugInfo"]])  # the top level echoes the caller's own token
    assert mine not in text and admin not in text and hidden not in text
    sessions = listed["result"]["sessions"]
    assert [s["description"] for s in sessions] == ["op"]  # not demo's, not the hidden one
    assert set(sessions[0]) == {
        "sessionId",
        "username",
        "description",
        "sessionStatus",
        "permanentSession",
        "connected",
        "sessionHealth",
    }
    with_hidden = await post(
        demo, {"api": "admin", "action": "listSessions", "authToken": mine, "params": {"includeHidden": True}}
    )
    assert len(with_hidden["result"]["sessions"]) == 2
    described = await post(demo, {"api": "admin", "action": "describeSessions", "authToken": mine})
    assert all(mine not in json.dumps(s) for s in described["result"]["sessions"])
    first = described["result"]["sessions"][-1]  # the hidden one; the caller's own is busy answering
    assert first["owner"] == "user:operator" and first["creator"] == "user:operator"
    assert first["method"] == "password"
    assert set(first["counters"]) == {
        "requestsTotal",
        "requestsLastMinute",
        "eventsSent",
        "droppedLastMinute",
        "subscriptions",
    }
    assert first["sessionHealth"] == "offline"


async def test_describe_sessions_by_id_reports_unknown_and_invisible_ones(demo) -> None:
    mine = await session(demo, "operator", "operator")
    other = await post(
        demo, {"api": "admin", "action": "createSession", "params": {"username": "demo", "password": "demo"}}
    )
    other_id = other["result"]["sessionId"]
    unknown = "00000000-0000-4000-8000-000000000001"
    reply = await post(
        demo,
        {
            "api": "admin",
            "action": "describeSessions",
            "authToken": mine,
            "params": {"sessionIds": [other_id, unknown]},
        },
    )
    assert [s["error"]["code"] for s in reply["result"]["sessions"]] == [-32102, -32111]
    empty = await post(
        demo, {"api": "admin", "action": "describeSessions", "authToken": mine, "params": {"sessionIds": []}}
    )
    assert empty["errorCode"] == -32602


async def test_list_sessions_filters_by_user_name(demo) -> None:
    await session(demo, "operator", "operator")
    admin = await session(demo, "demo", "demo")  # no sessions.admin in the demo: sees its own only
    reply = await post(
        demo, {"api": "admin", "action": "listSessions", "authToken": admin, "params": {"usernameFilter": ["nobody"]}}
    )
    assert reply["result"]["sessions"] == []
    reply = await post(
        demo, {"api": "admin", "action": "listSessions", "authToken": admin, "params": {"usernameFilter": "demo"}}
    )
    assert reply["errorCode"] == -32602 and "usernameFilter" in reply["errorMessage"]


# -- Xentara actions -------------------------------------------------------------------------------


async def test_server_information_and_stage(api) -> None:
    token = await session(api)
    info = await post(api, {"action": "serverInformation", "authToken": token})
    assert info["result"]["version"].startswith("xentara-ws")
    assert info["result"]["modelPath"] == "/models/small.json"
    assert "accountName" in info["result"]
    stage = await post(api, {"action": "getStage", "authToken": token})
    assert stage["result"] == {"stage": "operational"}


async def test_browse_by_primary_key_with_depth_and_category(api) -> None:
    token = await session(api)
    reply = await post(api, {"action": "browse", "authToken": token, "params": {"depth": 1}})
    assert reply["result"]["elements"] == [
        {
            "name": "Group 1",
            "primaryKey": "Group 1",
            "uuid": "11111111-1111-4111-8111-111111111111",
            "category": "element group",
        }
    ]
    reply = await post(
        api, {"action": "browse", "authToken": token, "params": {"element": "Group 1", "category": ["data point"]}}
    )
    assert [e["name"] for e in reply["result"]["elements"]][:3] == ["Data Point 1", "Flag", "Counter"]
    bad = await post(api, {"action": "browse", "authToken": token, "params": {"category": ["teapot"]}})
    assert bad["errorCode"] == -32602 and "category" in bad["errorMessage"]
    zero = await post(api, {"action": "browse", "authToken": token, "params": {"depth": 0}})
    assert zero["errorCode"] == -32602 and "depth" in zero["errorMessage"]


async def test_meta_data_and_lookup(api) -> None:
    token = await session(api)
    meta = await post(api, {"action": "metaData", "authToken": token, "params": {"element": str(REGISTER_UUID)}})
    result = meta["result"]
    assert (result["primaryKey"], result["category"], result["hasChildren"]) == (
        "Group 1.Data Point 1",
        "data point",
        False,
    )
    value = next(a for a in result["attributes"] if a["name"] == "value")
    assert value == {"name": "value", "id": 11, "dataType": "float_64", "access": "read_write"}
    found = await post(api, {"action": "lookup", "authToken": token, "params": {"primaryKey": "Group 1.Counter"}})
    assert found["result"] == {"uuid": str(COUNTER_UUID)}
    missing = await post(api, {"action": "lookup", "authToken": token, "params": {"primaryKey": "Nope"}})
    assert missing["errorCode"] == -32100


async def test_read_by_name_id_and_uuid_with_per_attribute_errors(api) -> None:
    token = await session(api)
    reply = await post(
        api,
        {
            "action": "read",
            "authToken": token,
            "params": {"element": "Group 1.Data Point 1", "attributes": ["value", 9, "bogus", "deviceState"]},
        },
    )
    assert reply["errorCode"] == 0, reply
    result = reply["result"]
    assert result["element"] == "Group 1.Data Point 1" and result["uuid"] == str(REGISTER_UUID)
    values = result["values"]
    assert values["value"] == 42.5
    assert values["quality"] == "good"  # asked by id 9, answered by name
    assert values["bogus"]["error"]["code"] == -32101
    assert values["deviceState"]["error"]["code"] == -32101
    everything = await post(api, {"action": "read", "authToken": token, "params": {"element": str(REGISTER_UUID)}})
    assert everything["result"]["values"]["changeTime"] == "2024-01-01T11:11:11.111587983Z"
    assert everything["result"]["values"]["category"] == "data point"
    unknown = await post(api, {"action": "read", "authToken": token, "params": {"element": "Group 1.Nothing"}})
    assert unknown["errorCode"] == -32100
    write_only = await post(
        api, {"action": "read", "authToken": token, "params": {"element": "Group 1.Output", "attributes": ["value"]}}
    )
    assert write_only["result"]["values"]["value"]["error"]["code"] == -32104


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"element": "Group 1.Counter", "value": 5.0}, 0),
        ({"element": "Group 1.Counter", "value": 5.5}, -32106),
        ({"element": "Group 1.Counter", "value": 300}, -32105),
        ({"element": "Group 1.Counter", "value": "7"}, -32106),
        ({"element": "Group 1.Flag", "value": True}, 0),
        ({"element": "Group 1.Flag", "value": 1}, -32106),
        ({"element": "Group 1.Data Point 1", "attribute": "quality", "value": 1.0}, -32103),
        ({"element": "Group 1.Data Point 1", "attribute": "nope", "value": 1.0}, -32101),
        ({"element": "Group 1.Data Point 1", "value": "NaN"}, -32107),
        ({"element": "Nope", "value": 1}, -32100),
        ({"element": "Group 1.Data Point 1"}, -32602),
        ({"element": 7, "value": 1}, -32602),
    ],
)
async def test_write_keeps_xentara_error_codes(api, params, code: int) -> None:
    token = await session(api)
    reply = await post(api, {"action": "write", "authToken": token, "params": params})
    assert reply["errorCode"] == code, reply


async def test_a_write_is_seen_by_a_read(api) -> None:
    token = await session(api)
    await post(api, {"action": "write", "authToken": token, "params": {"element": "Group 1.Counter", "value": 9.0}})
    reply = await post(
        api, {"action": "read", "authToken": token, "params": {"element": "Group 1.Counter", "attributes": ["value"]}}
    )
    assert reply["result"]["values"] == {"value": 9}


async def test_writes_are_refused_without_the_right(demo) -> None:
    token = await session(demo, "operator", "operator")
    reply = await post(demo, {"action": "write", "authToken": token, "params": {"element": SETPOINT, "value": 1.0}})
    assert reply["errorCode"] == -32102


async def test_check_access_reports_the_session_itself(demo) -> None:
    token = await session(demo)
    reply = await post(demo, {"action": "checkAccess", "authToken": token})
    assert reply["result"] == {"read": True, "write": True}


async def test_suspend_and_resume_change_the_stage(api) -> None:
    token = await session(api)
    assert (await post(api, {"action": "suspend", "authToken": token}))["result"] == {}
    assert (await post(api, {"action": "getStage", "authToken": token}))["result"] == {"stage": "suspended"}
    again = await post(api, {"action": "suspend", "authToken": token})
    assert again["errorCode"] == -32112
    assert (await post(api, {"action": "resume", "authToken": token}))["errorCode"] == 0
    shutdown = await post(api, {"action": "shutdown", "authToken": token})
    assert shutdown["errorCode"] == -32102  # not enabled on this server


async def test_unknown_parameters_and_wrong_types_name_the_parameter(api) -> None:
    token = await session(api)
    reply = await post(api, {"action": "read", "authToken": token, "params": {"elemnt": "Group 1.Counter"}})
    assert reply["errorCode"] == -32602 and "'elemnt'" in reply["errorMessage"]
    reply = await post(api, {"action": "getEvents", "authToken": token, "params": {"waitMilliseconds": 40000}})
    assert reply["errorCode"] == -32602 and "waitMilliseconds" in reply["errorMessage"]
    reply = await post(api, {"action": "unsubscribe", "authToken": token, "params": {"subscriptionId": 5}})
    assert reply["errorCode"] == -32602 and "subscriptionId" in reply["errorMessage"]


# -- subscriptions and getEvents ---------------------------------------------------------------------


async def subscribe(api, token: str, **params) -> str:
    reply = await post(
        api,
        {
            "action": "subscribe",
            "authToken": token,
            "params": {"elements": [{"element": "Group 1.Counter", "attributes": ["value"]}], **params},
        },
    )
    assert reply["errorCode"] == 0, reply
    return reply["result"]["subscriptionId"]


async def get_events(api, token: str, **params) -> dict:
    reply = await post(api, {"action": "getEvents", "authToken": token, "params": params})
    assert reply["errorCode"] == 0, reply
    return reply["result"]


async def test_subscribe_then_get_events_sees_the_initial_value_and_changes(api, model: Model) -> None:
    token = await session(api)
    subscription = await subscribe(api, token, queueSize=10)
    await asyncio.sleep(0)  # the event pump runs on the next loop iteration
    first = await get_events(api, token)
    assert first == {
        "events": [
            {
                "event": "dataChange",
                "subscriptionId": subscription,
                "element": "Group 1.Counter",
                "uuid": str(COUNTER_UUID),
                "values": {"value": 7},
            }
        ],
        "dropped": 0,
    }
    counter = model.lookup("Group 1.Counter")
    for value in (1, 2, 3):
        counter.publish(value)
        await asyncio.sleep(0)
    later = await get_events(api, token, maxEvents=2)
    assert [e["values"]["value"] for e in later["events"]] == [1, 2]
    rest = await get_events(api, token)
    assert [e["values"]["value"] for e in rest["events"]] == [3]


async def test_queue_size_keeps_the_latest_changes_and_counts_drops(api, model: Model) -> None:
    token = await session(api)
    await subscribe(api, token, queueSize=2)
    await asyncio.sleep(0)
    counter = model.lookup("Group 1.Counter")
    for value in (1, 2, 3, 4):
        counter.publish(value)
        await asyncio.sleep(0)
    result = await get_events(api, token)
    assert [e["values"]["value"] for e in result["events"]] == [3, 4]
    assert result["dropped"] == 3  # the initial event and the changes to 1 and 2
    assert (await get_events(api, token))["dropped"] == 0


async def test_get_events_long_polls_until_an_event_arrives(api, model: Model) -> None:
    token = await session(api)
    await subscribe(api, token)
    await asyncio.sleep(0)
    await get_events(api, token)
    poll = asyncio.ensure_future(get_events(api, token, waitMilliseconds=30000))
    await asyncio.sleep(0.01)
    assert not poll.done()
    model.lookup("Group 1.Counter").publish(42)
    result = await asyncio.wait_for(poll, 5)
    assert [e["values"]["value"] for e in result["events"]] == [42]


async def test_get_events_answers_empty_when_the_wait_is_over(api) -> None:
    token = await session(api)
    await subscribe(api, token)
    await asyncio.sleep(0)
    await get_events(api, token)
    assert await get_events(api, token, waitMilliseconds=20) == {"events": [], "dropped": 0}


async def test_get_events_of_one_subscription_leaves_the_others_queued(api, model: Model) -> None:
    token = await session(api)
    first = await subscribe(api, token)
    second = await subscribe(api, token)
    await asyncio.sleep(0)
    only = await get_events(api, token, subscriptionId=second)
    assert [e["subscriptionId"] for e in only["events"]] == [second]
    rest = await get_events(api, token)
    assert [e["subscriptionId"] for e in rest["events"]] == [first]
    unknown = await post(
        api,
        {
            "action": "getEvents",
            "authToken": token,
            "params": {"subscriptionId": "00000000-0000-4000-8000-000000000001"},
        },
    )
    assert unknown["errorCode"] == -32110


async def test_unsubscribe_ends_events(api, model: Model) -> None:
    token = await session(api)
    subscription = await subscribe(api, token)
    reply = await post(api, {"action": "unsubscribe", "authToken": token, "params": {"subscriptionId": subscription}})
    assert reply["errorCode"] == 0
    model.lookup("Group 1.Counter").publish(99)
    await asyncio.sleep(0)
    assert (await get_events(api, token))["events"] == []
    again = await post(api, {"action": "unsubscribe", "authToken": token, "params": {"subscriptionId": subscription}})
    assert again["errorCode"] == -32110


async def test_an_expired_session_loses_its_subscriptions(api, model: Model, clock: FakeClock) -> None:
    token = await session(api, idleConnectionTimeoutSeconds=5)
    await subscribe(api, token)
    counter = model.lookup("Group 1.Counter")
    assert counter.listeners
    clock.advance(6)
    api.sweep()
    assert not counter.listeners


async def test_a_login_needs_the_connect_entitlement(tmp_path) -> None:
    folder = tmp_path / "config"
    shutil.copytree(DEMO_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    security = json.loads((folder / "security.json").read_text())
    for entry in security["ACL"]["entries"]:
        if entry["role"] == "Everyone":
            entry["allow"].remove("websocket.connect")
        if entry["role"] == "Administrator":
            entry["allow"].append("websocket.connect")
    (folder / "security.json").write_text(json.dumps(security))
    api = served_api(folder)
    refused = await post(
        api, {"api": "admin", "action": "createSession", "params": {"username": "operator", "password": "operator"}}
    )
    assert refused["errorCode"] == -32102 and "websocket.connect" in refused["errorMessage"]
    header = await post(api, {"action": "getStage"}, headers=(basic("operator", "operator"),))
    assert header["errorCode"] == -32102
    assert (await post(api, {"action": "getStage"}, headers=(basic("demo", "demo"),)))["errorCode"] == 0

"""The /api WebSocket session without sockets: replies, pushed events, binary frames (§8, §8.5, §9.15)."""

from __future__ import annotations

import asyncio
import inspect
import json

import pytest
from support.clocks import FakeClock
from support.jsonapi import RecordingChannel, demo_api, http_request, open_api, post, session

from xentara_ws.jsonapi.websocket import JsonWebSocketApp, JsonWebSocketSession
from xentara_ws.model.tree import Model


@pytest.fixture
def api(model: Model):
    return open_api(model, FakeClock())


def connect(api) -> tuple[JsonWebSocketSession, RecordingChannel]:
    channel = RecordingChannel()
    ws = JsonWebSocketApp(api)(http_request(b"", method="GET"), channel)
    assert isinstance(ws, JsonWebSocketSession)
    return ws, channel


async def send(ws: JsonWebSocketSession, request: object) -> None:
    result = ws.on_message(json.dumps(request))
    if inspect.isawaitable(result):
        assert await result is None  # the reply went out through the channel, in order with events


async def test_one_reply_per_text_frame_matched_by_request_id(api) -> None:
    ws, channel = connect(api)
    await send(ws, {"api": "admin", "action": "pingSession", "requestId": "a"})
    await send(ws, {"action": "getStage", "requestId": "b"})
    replies = channel.messages()
    assert [r["requestId"] for r in replies] == ["a", "b"]
    assert replies[0]["errorCode"] == 0 and replies[1]["errorCode"] == 12031


async def test_a_binary_frame_gets_a_clear_error(api) -> None:
    ws, _ = connect(api)
    reply = json.loads(ws.on_message(b'{"action": "getStage"}'))  # type: ignore[arg-type]
    assert reply["errorCode"] == -32700
    assert "text frame" in reply["errorMessage"]


async def test_events_are_pushed_after_the_subscribe_reply(api, model: Model) -> None:
    ws, channel = connect(api)
    await send(ws, {"api": "admin", "action": "createSession", "requestId": 1})
    token = channel.messages()[0]["authToken"]
    await send(
        ws,
        {
            "action": "subscribe",
            "authToken": token,
            "requestId": 2,
            "params": {"elements": [{"element": "Group 1.Counter", "attributes": ["value"]}]},
        },
    )
    await asyncio.sleep(0)
    model.lookup("Group 1.Counter").publish(8)
    await asyncio.sleep(0)
    messages = channel.messages()
    assert messages[1]["requestId"] == 2
    subscription = messages[1]["result"]["subscriptionId"]
    assert messages[2:] == [
        {
            "event": "dataChange",
            "subscriptionId": subscription,
            "element": "Group 1.Counter",
            "uuid": "33333333-3333-4333-8333-333333333333",
            "values": {"value": value},
        }
        for value in (7, 8)
    ]


async def test_the_latest_websocket_that_used_the_token_gets_the_events(api, model: Model) -> None:
    token = await session(api)
    await post(
        api,
        {
            "action": "subscribe",
            "authToken": token,
            "params": {"elements": [{"element": "Group 1.Counter", "attributes": ["value"]}], "queueSize": 5},
        },
    )
    await asyncio.sleep(0)
    first, first_channel = connect(api)
    await send(first, {"action": "getStage", "authToken": token})
    # What was queued while nobody listened follows the reply.
    assert [m.get("event") for m in first_channel.messages()] == [None, "dataChange"]
    second, second_channel = connect(api)
    await send(second, {"action": "getStage", "authToken": token})
    model.lookup("Group 1.Counter").publish(1)
    await asyncio.sleep(0)
    assert second_channel.messages()[-1]["values"] == {"value": 1}
    assert len(first_channel.messages()) == 2
    described = await post(api, {"api": "admin", "action": "describeSessions", "authToken": token})
    assert described["result"]["sessions"][0]["connected"] is True
    assert described["result"]["sessions"][0]["peer"] == "127.0.0.1:40000"  # host:port of the WebSocket
    second.on_close()
    model.lookup("Group 1.Counter").publish(2)
    await asyncio.sleep(0)
    events = await post(api, {"action": "getEvents", "authToken": token})
    assert [e["values"]["value"] for e in events["result"]["events"]] == [2]


async def test_session_expiry_interval_zero_lasts_until_the_websocket_closes(api) -> None:
    ws, channel = connect(api)
    await send(ws, {"api": "admin", "action": "createSession", "params": {"sessionExpiryInterval": 0}})
    token = channel.messages()[0]["authToken"]
    assert (await post(api, {"action": "getStage", "authToken": token}))["errorCode"] == 0
    ws.on_close()
    assert (await post(api, {"action": "getStage", "authToken": token}))["errorCode"] == 12031


async def test_a_websocket_that_closes_loses_the_session_and_its_will_fires() -> None:
    api = demo_api(FakeClock())
    setpoint = api.state.model.lookup("Plant.Line.Setpoint")
    ws, channel = connect(api)
    await send(
        ws,
        {
            "api": "admin",
            "action": "createSession",
            "params": {"username": "demo", "password": "demo", "willElement": "Plant.Line.Setpoint", "willValue": 4},
        },
    )
    assert channel.messages()[0]["errorCode"] == 0
    assert setpoint.value != 4.0
    ws.on_close()
    api.state.sub_sessions.tick()  # the registry's timer, without waiting for it
    assert setpoint.value == 4.0

"""Whatever arrives, the JSON API answers with a well-formed jsonAction reply and keeps working."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.clocks import FakeClock
from support.jsonapi import open_api, post

from xentara_ws.jsonapi.envelope import encode_reply
from xentara_ws.model.tree import Model

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
)
actions = st.sampled_from(
    [
        "read",
        "write",
        "browse",
        "metaData",
        "lookup",
        "subscribe",
        "unsubscribe",
        "getEvents",
        "checkAccess",
        "serverInformation",
        "getStage",
        "createSession",
        "pingSession",
        "deleteSession",
        "alterSession",
        "listSessions",
        "describeSessions",
        "nonsense",
    ]
)
requests = st.fixed_dictionaries(
    {"action": actions},
    optional={
        "params": st.dictionaries(
            st.sampled_from(
                [
                    "element",
                    "attributes",
                    "attribute",
                    "value",
                    "elements",
                    "depth",
                    "category",
                    "subscriptionId",
                    "waitMilliseconds",
                    "maxEvents",
                    "sessionIds",
                    "description",
                ]
            ),
            values,
            max_size=4,
        ),
        "api": st.sampled_from(["admin", "xentara", "other"]),
        "requestId": values,
        "debug": values,
    },
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
async def test_arbitrary_bodies_get_a_reply(model: Model, body: bytes) -> None:
    reply = await post(open_api(model, FakeClock()), body)
    assert type(reply["errorCode"]) is int and type(reply["errorMessage"]) is str
    assert type(reply["result"]) is dict


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=requests)
async def test_arbitrary_requests_with_a_session_get_a_json_reply(model: Model, request: dict) -> None:
    api = open_api(model, FakeClock())
    created = await post(api, {"api": "admin", "action": "createSession"})
    request = {**request, "authToken": created["authToken"]}
    if request.get("params", {}).get("waitMilliseconds") is not None:
        request["params"]["waitMilliseconds"] = 0  # no long polls in a property test
    reply = await post(api, request)
    assert reply["errorCode"] != -32603, reply  # no internal errors: every refusal has its own code
    json.loads(encode_reply(reply))

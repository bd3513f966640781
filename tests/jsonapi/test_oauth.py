"""createSession with an OAuth 2.0 token, and `Authorization: Bearer` on one request (§8.1, §8.2)."""

from __future__ import annotations

import time

import pytest
from joserfc.jwk import ECKey
from support.jsonapi import post, served_api
from support.security import access_token, trust_issuer
from support.servers import copy_demo

from xentara_ws.jsonapi.service import JsonApi

ISS = "https://idp.example.com/"
AUD = "xentara-ws-test"


def jwt(key: ECKey, **claims: object) -> str:
    return access_token(key, iss=ISS, aud=AUD, claims=claims)


@pytest.fixture
def key() -> ECKey:
    return ECKey.generate_key("P-256", private=True)


@pytest.fixture
def api(tmp_path, key: ECKey) -> JsonApi:
    folder = copy_demo(tmp_path)
    trust_issuer(folder, key, iss=ISS, aud=AUD, roles=["Operator"])
    return served_api(folder)


async def test_create_session_with_a_token(api: JsonApi, key: ECKey) -> None:
    reply = await post(api, {"api": "admin", "action": "createSession", "params": {"token": jwt(key)}})
    assert reply["errorCode"] == 0, reply
    token = reply["authToken"]
    described = await post(api, {"api": "admin", "action": "describeSessions", "authToken": token})
    session = described["result"]["sessions"][0]
    assert session["method"] == "token"
    assert session["owner"] == session["creator"] == f"token:{ISS}#alice"  # the issuer is part of it
    access = await post(api, {"action": "checkAccess", "authToken": token})
    assert access["result"] == {"read": True, "write": False}  # the issuer's Operator role


@pytest.mark.parametrize("claims", [{"iss": "https://evil.example.com/"}, {"exp": int(time.time()) - 3600}])
async def test_a_bad_token_is_refused(api: JsonApi, key: ECKey, claims: dict[str, object]) -> None:
    reply = await post(api, {"api": "admin", "action": "createSession", "params": {"token": jwt(key, **claims)}})
    assert reply["errorCode"] == -32102
    assert "authToken" not in reply


async def test_bearer_authenticates_one_request(api: JsonApi, key: ECKey) -> None:
    headers = (("authorization", "Bearer " + jwt(key)),)
    reply = await post(api, {"action": "lookup", "params": {"primaryKey": "Plant.Tank"}}, headers=headers)
    assert reply["errorCode"] == 0 and "uuid" in reply["result"]
    forged = (("authorization", "Bearer " + jwt(ECKey.generate_key("P-256", private=True))),)
    assert (await post(api, {"action": "getStage"}, headers=forged))["errorCode"] == -32102

"""The jsonAction envelope: parsing, echoes, debugInfo masking and every envelope error (§8.1, §9.16)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xentara_ws.jsonapi.envelope import (
    SESSION_NOT_FOUND,
    ActionError,
    ReplyWarning,
    build_reply,
    encode_reply,
    masked,
    parse_request,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


def error_of(data: object) -> ActionError:
    _, error = parse_request(data)
    assert error is not None
    return error


@pytest.mark.parametrize(
    ("body", "code", "names"),
    [
        (b"{not json", -32700, "JSON"),
        (b"\xff\xfe", -32700, "UTF-8"),
        (b"[1, 2]", -32700, "object"),
        (b'"text"', -32700, "object"),
        (b'{"action": "read", "action": "write"}', -32700, "twice"),
        (b'{"action": "read", "params": {"value": NaN}}', -32700, "NaN"),
        (b"{}", -32602, "'action'"),
        (b'{"action": 5}', -32602, "'action'"),
        (b'{"action": "read", "params": [1]}', -32602, "'params'"),
        (b'{"action": "read", "params": "x"}', -32602, "'params'"),
        (b'{"action": "read", "api": "db"}', -32601, "'db'"),
        (b'{"action": "read", "api": 7}', -32602, "'api'"),
        (b'{"action": "read", "apiVersion": "2.0"}', -32602, "'apiVersion'"),
        (b'{"action": "read", "apiVersion": 1}', -32602, "'apiVersion'"),
        (b'{"action": "read", "authToken": 12}', -32602, "'authToken'"),
        (b'{"action": "read", "debug": "everything"}', -32602, "'debug'"),
        (b'{"action": "read", "responseOptions": []}', -32602, "'responseOptions'"),
    ],
)
def test_envelope_errors_have_precise_codes_naming_the_member(body: bytes, code: int, names: str) -> None:
    error = error_of(body)
    assert error.code == code
    assert names in error.message


def test_a_request_is_read_from_bytes_text_or_an_object_alike() -> None:
    document = {"action": "ReadAll", "api": "Xentara", "params": {"element": "x"}, "apiVersion": "1.0"}
    for data in (json.dumps(document).encode(), json.dumps(document), document):
        request, error = parse_request(data)
        assert error is None
        assert (request.action, request.api, request.params) == ("readall", "xentara", {"element": "x"})


def test_params_default_to_an_empty_object() -> None:
    request, error = parse_request({"action": "getStage"})
    assert error is None and request.params == {}


@given(json_values)
def test_any_request_id_is_echoed_unchanged(request_id: object) -> None:
    request, error = parse_request(json.dumps({"action": "ping", "requestId": request_id}))
    assert error is None
    reply = build_reply(request, {})
    assert json.loads(encode_reply(reply))["requestId"] == request_id


def test_the_request_id_is_echoed_even_when_the_envelope_is_wrong() -> None:
    request, error = parse_request({"requestId": {"seq": 17}, "params": 3})
    assert error is not None
    reply = build_reply(request, error=error)
    assert reply["requestId"] == {"seq": 17}
    assert reply["errorCode"] == -32602 and reply["result"] == {}


def test_a_request_without_request_id_gets_none_back() -> None:
    request, _ = parse_request({"action": "getStage"})
    assert "requestId" not in build_reply(request, {})


def test_success_reply_shape() -> None:
    request, _ = parse_request({"action": "getStage", "authToken": "abc"})
    assert build_reply(request, {"stage": "operational"}) == {
        "authToken": "abc",
        "result": {"stage": "operational"},
        "errorCode": 0,
        "errorMessage": "",
    }


def test_debug_max_echoes_the_request_with_secrets_masked_and_the_warnings() -> None:
    document = {
        "api": "admin",
        "action": "createSession",
        "authToken": "secret-token",
        "debug": "max",
        "params": {"username": "demo", "password": "demo", "nested": [{"token": "jwt"}]},
    }
    request, error = parse_request(document)
    assert error is None
    reply = build_reply(request, {}, warnings=[ReplyWarning(SESSION_NOT_FOUND, "gone")])
    echoed = reply["debugInfo"]["request"]
    assert echoed["authToken"] == "***"
    assert echoed["params"]["password"] == "***"
    assert echoed["params"]["nested"][0]["token"] == "***"
    assert echoed["params"]["username"] == "demo"
    assert reply["debugInfo"]["warnings"] == [{"code": 12031, "message": "gone"}]
    assert "secret-token" not in json.dumps(reply["debugInfo"])


@pytest.mark.parametrize("level", ["none", "min", "maxOnError", "NONE", None])
def test_debug_levels_other_than_max_give_no_debug_info(level: str | None) -> None:
    request, error = parse_request({"action": "getStage", "debug": level})
    assert error is None
    assert "debugInfo" not in build_reply(request, {})


def test_debug_is_case_insensitive() -> None:
    request, _ = parse_request({"action": "getStage", "debug": "MAX"})
    assert "debugInfo" in build_reply(request, {})


def test_an_empty_auth_token_counts_as_none() -> None:
    request, _ = parse_request({"action": "pingSession", "authToken": ""})
    assert request.auth_token is None


def test_masking_leaves_other_values_alone() -> None:
    assert masked({"a": [1, {"b": "c"}], "Password": "x"}) == {"a": [1, {"b": "c"}], "Password": "***"}

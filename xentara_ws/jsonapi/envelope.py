"""The jsonAction envelope (extensions §8.1, §9.16): parsing a request and building its reply."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

from ..protocol.errors import ErrorCode, ProtocolError

SESSION_NOT_FOUND: Final = 12031
"""FairCom's code for an authToken that is missing, unknown or expired."""
SESSION_NOT_FOUND_MESSAGE: Final = (
    "'authToken' does not match any existing session. "
    "Use a valid 'authToken' or use 'createSession' to create a valid 'authToken'."
)
DELETE_WARNING_MESSAGE: Final = "'authToken' does not match any existing session. Use a valid 'authToken'."
"""FairCom's deleteSession warning text (faircom-session-reference §2.4)."""

API_VERSION: Final = "1.0"
APIS: Final = ("admin", "xentara")
MASK: Final = "***"
_SECRET_MEMBERS: Final = frozenset(("password", "authtoken", "token", "accesstoken"))
_DEBUG_VALUES: Final = {"none": False, "max": True, "min": False, "maxonerror": False}
"""§9.16: "min" and "maxOnError" are treated as "none"."""


class ActionError(Exception):
    """A failed action: becomes errorCode/errorMessage of the reply (Xentara codes or 12031)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @classmethod
    def from_protocol(cls, error: ProtocolError) -> ActionError:
        return cls(int(error.code), error.message)


def invalid(message: str) -> ActionError:
    return ActionError(int(ErrorCode.INVALID_PARAMETER), message)


def session_not_found() -> ActionError:
    return ActionError(SESSION_NOT_FOUND, SESSION_NOT_FOUND_MESSAGE)


@dataclass(frozen=True, slots=True)
class ReplyWarning:
    code: int
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


@dataclass(slots=True)
class JsonRequest:
    """One request, as far as it could be understood (an envelope error may leave parts unset)."""

    raw: Any = None
    """The decoded JSON document (echoed, masked, in debugInfo.request)."""
    action: str = ""
    """Lower-cased: actions are case-insensitive."""
    api: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    has_request_id: bool = False
    request_id: Any = None
    auth_token: str | None = None
    """None when absent or "" (FairCom's default)."""
    debug: bool = False


def _loads(text: str) -> Any:
    def refuse_constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    def unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise ValueError(f"member {key!r} appears twice")
            result[key] = value
        return result

    return json.loads(text, parse_constant=refuse_constant, object_pairs_hook=unique_members)


def decode_document(data: bytes | str | Any) -> Any:
    """The JSON document of a request body or text frame; already decoded objects pass through."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as error:
            raise ActionError(int(ErrorCode.PARSE_ERROR), f"the request is not UTF-8: {error.reason}") from None
    if isinstance(data, str):
        try:
            return _loads(data)
        except RecursionError:
            raise ActionError(int(ErrorCode.PARSE_ERROR), "the request is nested too deeply") from None
        except ValueError as error:
            raise ActionError(int(ErrorCode.PARSE_ERROR), f"the request is not valid JSON: {error}") from None
    return data


def parse_request(data: bytes | str | Any) -> tuple[JsonRequest, ActionError | None]:
    """Parse a request; the error (if any) comes with whatever could be read, for the reply's echo."""
    request = JsonRequest()
    try:
        document = decode_document(data)
    except ActionError as error:
        return request, error
    request.raw = document
    if type(document) is not dict:
        return request, ActionError(int(ErrorCode.PARSE_ERROR), "the request must be a JSON object")
    # Members echoed in every reply come first, so that even a faulty request gets them back.
    if "requestId" in document:
        request.has_request_id = True
        request.request_id = document["requestId"]
    debug = document.get("debug")
    if type(debug) is str:
        request.debug = _DEBUG_VALUES.get(debug.lower(), False)
    token = document.get("authToken")
    if type(token) is str and token:
        request.auth_token = token
    try:
        _check_members(document, request)
    except ActionError as error:
        return request, error
    return request, None


def _check_members(document: dict[str, Any], request: JsonRequest) -> None:
    debug = document.get("debug")
    if debug is not None and (type(debug) is not str or debug.lower() not in _DEBUG_VALUES):
        raise invalid('the request member \'debug\' must be "none" or "max"')
    token = document.get("authToken")
    if token is not None and type(token) is not str:
        raise invalid("the request member 'authToken' must be a string")
    if "action" not in document:
        raise invalid("the request member 'action' is missing")
    action = document["action"]
    if type(action) is not str or not action:
        raise invalid("the request member 'action' must be a non-empty string")
    request.action = action.lower()
    api = document.get("api")
    if api is not None:
        if type(api) is not str:
            raise invalid("the request member 'api' must be a string")
        if api.lower() not in APIS:
            raise ActionError(
                int(ErrorCode.COMMAND_NOT_FOUND), f'unknown api {api!r}: this server offers "admin" and "xentara"'
            )
        request.api = api.lower()
    params = document.get("params", {})
    if params is None:
        params = {}
    if type(params) is not dict:
        raise invalid("the request member 'params' must be an object")
    request.params = params
    version = document.get("apiVersion")
    if version is not None and version != API_VERSION:
        raise invalid(f"the request member 'apiVersion' must be \"{API_VERSION}\", not {version!r}")
    options = document.get("responseOptions")
    if options is not None and type(options) is not dict:
        raise invalid("the request member 'responseOptions' must be an object")


def masked(value: Any) -> Any:
    """A copy with passwords and tokens replaced by "***", at any depth."""
    if type(value) is dict:
        return {
            key: (MASK if key.lower() in _SECRET_MEMBERS and value[key] is not None else masked(item))
            for key, item in value.items()
        }
    if type(value) is list:
        return [masked(item) for item in value]
    return value


def build_reply(
    request: JsonRequest,
    result: dict[str, Any] | None = None,
    error: ActionError | None = None,
    warnings: list[ReplyWarning] | tuple[ReplyWarning, ...] = (),
    auth_token: str | None = None,
) -> dict[str, Any]:
    """The reply object; `auth_token` overrides the echoed one (createSession hands out a new token)."""
    reply: dict[str, Any] = {}
    if request.has_request_id:
        reply["requestId"] = request.request_id
    token = auth_token if auth_token is not None else request.auth_token
    if token is not None:
        reply["authToken"] = token
    reply["result"] = result if result is not None and error is None else {}
    reply["errorCode"] = error.code if error is not None else 0
    reply["errorMessage"] = error.message if error is not None else ""
    if request.debug:
        reply["debugInfo"] = {
            "request": masked(request.raw),
            "warnings": [warning.to_json() for warning in warnings],
        }
    return reply


def encode_reply(reply: dict[str, Any]) -> str:
    """The reply as JSON text; pretty-printed when it carries debugInfo (FairCom's rule)."""
    if "debugInfo" in reply:
        return json.dumps(reply, ensure_ascii=False, indent=2, allow_nan=False)
    return json.dumps(reply, ensure_ascii=False, separators=(",", ":"), allow_nan=False)

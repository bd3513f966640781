"""Error codes of the Xentara WebSocket API (spec section 7) and the exception that carries one."""

from __future__ import annotations

from enum import IntEnum


class ErrorCode(IntEnum):
    PARSE_ERROR = -32700
    INVALID_REQUEST = -32600
    COMMAND_NOT_FOUND = -32601
    INVALID_PARAMETER = -32602
    INTERNAL_ERROR = -32603
    MISSING_CLIENT_HELLO = -32000
    DUPLICATE_CLIENT_HELLO = -32001
    UNKNOWN_ELEMENT = -32100
    MISSING_ATTRIBUTE = -32101
    ACCESS_DENIED = -32102
    READ_ONLY = -32103
    WRITE_ONLY = -32104
    VALUE_OUT_OF_RANGE = -32105
    TYPE_MISMATCH = -32106
    ILLEGAL_VALUE = -32107
    READ_ERROR = -32108
    WRITE_ERROR = -32109
    UNKNOWN_SUBSCRIPTION_ID = -32110
    UNKNOWN_SESSION_ID = -32111
    INVALID_STAGE_CHANGE_REQUEST = -32112

    @property
    def default_message(self) -> str:
        """The text the official client shows for this code."""
        return DEFAULT_MESSAGES[self]


DEFAULT_MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.PARSE_ERROR: "payload not well formed",
    ErrorCode.INVALID_REQUEST: "invalid request",
    ErrorCode.COMMAND_NOT_FOUND: "command not found",
    ErrorCode.INVALID_PARAMETER: "invalid parameter",
    ErrorCode.INTERNAL_ERROR: "internal server error",
    ErrorCode.MISSING_CLIENT_HELLO: "missing client hello request",
    ErrorCode.DUPLICATE_CLIENT_HELLO: "duplicate client hello request",
    ErrorCode.UNKNOWN_ELEMENT: "unknown element",
    ErrorCode.MISSING_ATTRIBUTE: "missing attribute",
    ErrorCode.ACCESS_DENIED: "access denied",
    ErrorCode.READ_ONLY: "value is read only",
    ErrorCode.WRITE_ONLY: "value is write only",
    ErrorCode.VALUE_OUT_OF_RANGE: "value is out of range",
    ErrorCode.TYPE_MISMATCH: "value cannot be converted to requested type",
    ErrorCode.ILLEGAL_VALUE: "value supplied is not valid",
    ErrorCode.READ_ERROR: "read error",
    ErrorCode.WRITE_ERROR: "write error",
    ErrorCode.UNKNOWN_SUBSCRIPTION_ID: "unknown subscription Id",
    ErrorCode.UNKNOWN_SESSION_ID: "unknown session Id",
    ErrorCode.INVALID_STAGE_CHANGE_REQUEST: "invalid stage change request",
}


class ProtocolError(Exception):
    """A failure that becomes an error packet (or a 122 value) with this code and message."""

    def __init__(self, code: ErrorCode, message: str | None = None) -> None:
        self.code = code
        self.message = message if message is not None else code.default_message
        super().__init__(f"{int(code)}: {self.message}")

    def to_map(self) -> dict[int, object]:
        return {0: int(self.code), 1: self.message}

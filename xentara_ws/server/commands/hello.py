"""client_hello (14) and server_information (0): what a client says and learns first."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...protocol.errors import ErrorCode, ProtocolError
from ...protocol.identifiers import PROTOCOL_VERSION, ServerInformation
from ..params import Param, invalid, is_array, is_uint, parse
from .context import CommandContext

_HELLO = (
    Param(0, "minimum_protocol_version", "an unsigned integer", is_uint),
    Param(1, "maximum_protocol_version", "an unsigned integer", is_uint),
)


def client_hello(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    if ctx.connection.hello_done:
        raise ProtocolError(ErrorCode.DUPLICATE_CLIENT_HELLO)
    p = parse(params, _HELLO)
    low, high = p[0], p[1]
    if low > high:
        raise invalid(
            f"parameter 0 (minimum_protocol_version) {low} is greater than "
            f"parameter 1 (maximum_protocol_version) {high}"
        )
    if not low <= PROTOCOL_VERSION <= high:
        raise invalid(
            f"this server speaks protocol version {PROTOCOL_VERSION}, outside the requested range {low}..{high}"
        )
    ctx.connection.hello_received()
    ctx.connection.protocol_version = PROTOCOL_VERSION
    return {0: PROTOCOL_VERSION}


_SERVER_INFORMATION = (Param(0, "server_information_ids", "an array", is_array),)


def server_information(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    ids = parse(params, _SERVER_INFORMATION)[0]
    state = ctx.state
    values = {
        ServerInformation.VERSION: state.version,
        ServerInformation.USER_NAME: state.account_name,
        ServerInformation.MODEL_FILE_PATH: state.model_path,
    }
    result = {}
    for identifier in ids:
        if type(identifier) is not int or identifier not in values:
            raise invalid(f"invalid server information identifier {identifier!r}")
        result[identifier] = values[identifier]  # type: ignore[index]
    return result

"""One decoded message in, one reply message out (spec sections 2, 3 and 10.6)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Mapping
from typing import Any

from ..protocol.codec import CBORProfileError, decode, decode_message, encode
from ..protocol.errors import ErrorCode, ProtocolError
from ..protocol.identifiers import Opcode, PacketType
from ..protocol.packets import (
    Error,
    encode_message,
    encode_success_encoded,
    error_item,
    message_id_of,
    parse_request,
)
from .commands import COMMANDS
from .commands.context import NO_RESULT, CommandContext, Encoded, Handler
from .connection_state import ConnectionState
from .state import ServerState

logger = logging.getLogger(__name__)

_SUCCESS = int(PacketType.SUCCESS)
_ERROR = int(PacketType.ERROR)
_CLIENT_HELLO = int(Opcode.CLIENT_HELLO)


def error_packet(message_id: int, code: ErrorCode, message: str | None = None) -> list[Any]:
    return error_item(message_id, code, message)


def parse_error_reply(message: str) -> bytes:
    return encode([error_packet(0, ErrorCode.PARSE_ERROR, message)])


def internal_error_reply() -> bytes:
    return encode([error_packet(0, ErrorCode.INTERNAL_ERROR)])


PRE_HELLO_PACKETS = 16
"""Packets of a message executed before client_hello succeeded; later ones are not executed."""
PRE_HELLO_REPLY_BYTES = 16 * 1024
"""Reply bytes one message may cause before client_hello succeeded."""


class Dispatcher:
    """Turns request messages into response messages for one server; holds no connection state.

    A handler may return an awaitable (an `async def` such as create_sub_session, whose login is
    verified in a worker pool): the message's reply is then an awaitable too, packets still run in
    order and are answered in one reply message. Handlers returning plain values keep the fast path.
    """

    def __init__(self, state: ServerState, handlers: Mapping[int, Handler] | None = None) -> None:
        self.state = state
        self.handlers: dict[int, Handler] = dict(COMMANDS if handlers is None else handlers)
        """This dispatcher's own copy of the opcode -> handler table (COMMANDS unless given)."""

    def handle_bytes(self, connection: ConnectionState, data: bytes) -> bytes | Awaitable[bytes]:
        """Decode, dispatch and encode one WebSocket message (an awaitable if a handler is asynchronous)."""
        try:
            message = decode_message(data)
        except CBORProfileError as error:
            return parse_error_reply(f"payload not well formed: {error}")
        replies = self._replies(connection, message)
        if type(replies) is list:
            return _assemble(replies)
        return self._assemble_later(replies)  # type: ignore[arg-type]

    async def _assemble_later(self, replies: Awaitable[list[bytes]]) -> bytes:
        return _assemble(await replies)

    def handle_message(self, connection: ConnectionState, message: Any) -> list[Any] | Awaitable[list[Any]]:
        """The reply packets for one decoded message, as objects (for tests and embedders)."""
        replies = self._replies(connection, message)
        if type(replies) is list:
            return [decode(r) for r in replies]

        async def later() -> list[Any]:
            return [decode(r) for r in await replies]  # type: ignore[misc]

        return later()

    async def handle_message_later(self, connection: ConnectionState, message: Any) -> list[Any]:
        """Like handle_message, awaited whether or not a handler answers later."""
        replies = self.handle_message(connection, message)
        if type(replies) is not list:
            replies = await replies  # type: ignore[misc]
        return replies

    def connection_lost(self, connection: ConnectionState) -> None:
        """The connection ended (called once by the edge): drop what it owned.

        Its subscriptions end; the sub-sessions attached to it are detached, and the registry
        applies their lease (temporary ones with default options are removed at once) and
        schedules their last will.
        """
        if connection.closed:
            return
        connection.close()
        registry = self.state.sub_sessions
        if registry is not None:
            registry.connection_lost(connection)
        if connection.events is not None:
            connection.events.close()
        connection.sub_sessions.clear()

    def _replies(self, connection: ConnectionState, message: Any) -> list[bytes] | Awaitable[list[bytes]]:
        """One encoded reply per request packet, in order (see _run for the budgets)."""
        if type(message) is not list:
            return [_NOT_AN_ARRAY]
        return self._run(connection, message, 0, [], 0)

    def _run(
        self, connection: ConnectionState, message: list[Any], index: int, replies: list[bytes], used: int
    ) -> list[bytes] | Awaitable[list[bytes]]:
        """Answer packets from `index` on, within the message's work budget.

        Packets beyond max_packets_per_message get -32600 each. Once the reply has reached
        max_reply_size bytes (before client_hello: PRE_HELLO_PACKETS packets or PRE_HELLO_REPLY_BYTES),
        the rest is not executed and gets one -32600 naming how many packets were skipped, so a small
        message can never make the server build a huge reply.
        """
        limits = self.state.limits
        count = len(message)
        while index < count:
            packet = message[index]
            if connection.hello_done:
                over = used >= limits.max_reply_size
            else:
                over = index >= PRE_HELLO_PACKETS or used >= PRE_HELLO_REPLY_BYTES
            if over:
                if connection.hello_done:
                    budget = f"max_reply_size = {limits.max_reply_size} bytes"
                else:
                    budget = f"{PRE_HELLO_PACKETS} packets or {PRE_HELLO_REPLY_BYTES} reply bytes before client_hello"
                skipped = count - index
                replies.append(
                    encode(
                        error_packet(
                            _message_id(packet),
                            ErrorCode.INVALID_REQUEST,
                            f"this and the following {skipped - 1} packets of the message (packets {index + 1} to "
                            f"{count}) were not executed: the message exceeds its work budget ({budget})",
                        )
                    )
                )
                return replies
            if index >= limits.max_packets_per_message:
                reply: Any = error_packet(
                    _message_id(packet),
                    ErrorCode.INVALID_REQUEST,
                    f"more than {limits.max_packets_per_message} packets in one message; this packet was not executed",
                )
            else:
                reply = self.handle_packet(connection, packet)
                if type(reply) is not list and type(reply) is not bytes:
                    return self._run_later(connection, message, index, replies, used, reply)
            data = reply if type(reply) is bytes else encode(reply)
            replies.append(data)
            used += len(data)
            index += 1
        return replies

    async def _run_later(
        self,
        connection: ConnectionState,
        message: list[Any],
        index: int,
        replies: list[bytes],
        used: int,
        pending: Awaitable[list[Any] | bytes],
    ) -> list[bytes]:
        reply = await pending
        data = reply if type(reply) is bytes else encode(reply)
        replies.append(data)
        rest = self._run(connection, message, index + 1, replies, used + len(data))
        return rest if type(rest) is list else await rest  # type: ignore[misc]

    def handle_packet(
        self, connection: ConnectionState, packet: Any
    ) -> list[Any] | bytes | Awaitable[list[Any] | bytes]:
        request = parse_request(packet)
        if isinstance(request, Error):
            return [_ERROR, request.message_id, {0: request.code, 1: request.message}]
        message_id, opcode, params = request.message_id, request.opcode, request.params
        handler = self.handlers.get(opcode)
        if handler is None:
            return error_packet(message_id, ErrorCode.COMMAND_NOT_FOUND, f"command not found: opcode {opcode}")
        if not connection.protocol.may_run(opcode == _CLIENT_HELLO):
            return error_packet(message_id, ErrorCode.MISSING_CLIENT_HELLO)
        try:
            result = handler(CommandContext(self.state, connection, message_id), params)
        except ProtocolError as error:
            return [_ERROR, message_id, error.to_map()]
        except Exception:
            logger.exception("internal error handling packet %r", packet)
            return error_packet(message_id, ErrorCode.INTERNAL_ERROR)
        # Most results are plain values: only look for an awaitable in what could be one.
        if type(result) not in _PLAIN_RESULTS and inspect.isawaitable(result):
            return self._finish_packet(packet, message_id, result)
        return _success(message_id, result)

    async def _finish_packet(self, packet: list[Any], message_id: int, pending: Awaitable[Any]) -> list[Any] | bytes:
        try:
            result = await pending
        except ProtocolError as error:
            return [_ERROR, message_id, error.to_map()]
        except Exception:
            logger.exception("internal error handling packet %r", packet)
            return error_packet(message_id, ErrorCode.INTERNAL_ERROR)
        return _success(message_id, result)


_PLAIN_RESULTS = frozenset({Encoded, dict, list, bool, int, str, bytes, type(None), type(NO_RESULT)})


def _success(message_id: int, result: Any) -> list[Any] | bytes:
    if result is NO_RESULT:
        return [_SUCCESS, message_id]
    if type(result) is Encoded:
        return encode_success_encoded(message_id, result.data)
    return [_SUCCESS, message_id, result]


_assemble = encode_message
_NOT_AN_ARRAY = encode(error_packet(0, ErrorCode.PARSE_ERROR, "a message must be an array of packets"))
_message_id = message_id_of

"""One decoded message in, one reply message out (spec sections 2, 3 and 10.6)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Mapping
from typing import Any

from ..protocol.codec import CBORProfileError, array_header, decode, encode
from ..protocol.errors import ErrorCode, ProtocolError
from ..protocol.identifiers import Opcode, PacketType
from .registry import HANDLERS, NO_RESULT, CommandContext, Encoded, Handler
from .session import Session
from .state import ServerState

logger = logging.getLogger(__name__)

_REQUEST = int(PacketType.REQUEST)
_SUCCESS = int(PacketType.SUCCESS)
_ERROR = int(PacketType.ERROR)
_CLIENT_HELLO = int(Opcode.CLIENT_HELLO)
_SUCCESS_HEAD = b"\x83\x01"  # a three-element array starting with packet type 1


def error_packet(message_id: int, code: ErrorCode, message: str | None = None) -> list[Any]:
    return [_ERROR, message_id, {0: int(code), 1: message if message is not None else code.default_message}]


def parse_error_reply(message: str) -> bytes:
    return encode([error_packet(0, ErrorCode.PARSE_ERROR, message)])


def internal_error_reply() -> bytes:
    return encode([error_packet(0, ErrorCode.INTERNAL_ERROR)])


class Dispatcher:
    """Turns request messages into response messages for one server; holds no connection state."""

    def __init__(self, state: ServerState, handlers: Mapping[int, Handler] | None = None) -> None:
        self.state = state
        self.handlers = dict(HANDLERS if handlers is None else handlers)

    def handle_bytes(self, session: Session, data: bytes) -> bytes | Awaitable[bytes]:
        """Decode, dispatch and encode one WebSocket message.

        Plain handlers give the reply at once. When a handler answers later (it returned an
        awaitable), the result is an awaitable of the whole reply message instead: the packets
        after that one run only once it is done, so the message is still answered in order.
        """
        try:
            message = decode(data)
        except CBORProfileError as error:
            return parse_error_reply(f"payload not well formed: {error}")
        replies = self._replies(session, message)
        if type(replies) is list:
            return _encode_replies(replies)
        return _encode_later(replies)  # type: ignore[arg-type]

    def handle_message(self, session: Session, message: Any) -> list[Any]:
        """The reply packets for one decoded message, as objects (for tests and embedders)."""
        replies = self._replies(session, message)
        if type(replies) is not list:
            replies.close()  # type: ignore[union-attr]
            raise TypeError("a handler answers later: use handle_message_later")
        return [decode(r) if type(r) is bytes else r for r in replies]

    async def handle_message_later(self, session: Session, message: Any) -> list[Any]:
        """Like handle_message, for messages whose handlers may answer later."""
        replies = self._replies(session, message)
        if type(replies) is not list:
            replies = await replies  # type: ignore[misc]
        return [decode(r) if type(r) is bytes else r for r in replies]

    def connection_lost(self, session: Session) -> None:
        """The connection of `session` ended (called once by the edge): drop what it owned.

        Its subscriptions end; the sub-sessions attached to it are detached, and the registry
        applies their lease (temporary ones with default options are removed at once) and
        schedules their last will.
        """
        if session.closed:
            return
        session.closed = True
        registry = self.state.sub_sessions
        if registry is not None:
            registry.connection_lost(session)
        if session.events is not None:
            session.events.close()
        session.sub_sessions.clear()

    def _replies(self, session: Session, message: Any) -> list[Any] | Awaitable[list[Any]]:
        """One reply per request packet, in order; each a packet or an already encoded packet."""
        if type(message) is not list:
            return [error_packet(0, ErrorCode.PARSE_ERROR, "a message must be an array of packets")]
        return self._replies_from(session, message, 0, [])

    def _replies_from(
        self, session: Session, message: list[Any], start: int, replies: list[Any]
    ) -> list[Any] | Awaitable[list[Any]]:
        limit = self.state.limits.max_packets_per_message
        for index in range(start, len(message)):
            packet = message[index]
            if index >= limit:
                replies.append(
                    error_packet(
                        _message_id(packet),
                        ErrorCode.INVALID_REQUEST,
                        f"more than {limit} packets in one message; this packet was not executed",
                    )
                )
                continue
            reply = self.handle_packet(session, packet)
            if type(reply) is list or type(reply) is bytes:
                replies.append(reply)
            else:
                return self._continue_later(session, message, index, replies, reply)  # type: ignore[arg-type]
        return replies

    async def _continue_later(
        self, session: Session, message: list[Any], index: int, replies: list[Any], pending: Awaitable[Any]
    ) -> list[Any]:
        replies.append(await pending)
        rest = self._replies_from(session, message, index + 1, replies)
        if type(rest) is not list:
            rest = await rest  # type: ignore[misc]
        return rest

    def handle_packet(self, session: Session, packet: Any) -> list[Any] | bytes | Awaitable[list[Any] | bytes]:
        if type(packet) is not list:
            return error_packet(0, ErrorCode.INVALID_REQUEST, "a packet must be an array")
        size = len(packet)
        message_id = _message_id(packet)
        if size < 3:
            return error_packet(message_id, ErrorCode.PARSE_ERROR, "a request needs packet type, message id and opcode")
        packet_type, raw_id, opcode = packet[0], packet[1], packet[2]
        if type(packet_type) is not int:
            return error_packet(message_id, ErrorCode.PARSE_ERROR, "the packet type must be an integer")
        if type(raw_id) is not int:
            return error_packet(message_id, ErrorCode.PARSE_ERROR, "the message id must be an integer")
        if type(opcode) is not int:
            return error_packet(message_id, ErrorCode.PARSE_ERROR, "the opcode must be an integer")
        if packet_type != _REQUEST:
            return error_packet(
                message_id, ErrorCode.INVALID_REQUEST, f"packet type {packet_type} is not a request (0)"
            )
        if size > 4:
            return error_packet(message_id, ErrorCode.INVALID_REQUEST, "a request has at most four elements")
        params = packet[3] if size == 4 else None
        if params is not None and type(params) is not dict and not isinstance(params, Mapping):
            return error_packet(message_id, ErrorCode.INVALID_REQUEST, "the parameters must be a map")
        handler = self.handlers.get(opcode)
        if handler is None:
            return error_packet(message_id, ErrorCode.COMMAND_NOT_FOUND, f"command not found: opcode {opcode}")
        if not session.hello_done and opcode != _CLIENT_HELLO:
            return error_packet(message_id, ErrorCode.MISSING_CLIENT_HELLO)
        try:
            result = handler(CommandContext(self.state, session, message_id), params)
        except ProtocolError as error:
            return [_ERROR, message_id, error.to_map()]
        except Exception:
            logger.exception("internal error handling packet %r", packet)
            return error_packet(message_id, ErrorCode.INTERNAL_ERROR)
        if inspect.isawaitable(result):
            return _answer_later(message_id, packet, result)
        return _success(message_id, result)


def _success(message_id: int, result: Any) -> list[Any] | bytes:
    if result is NO_RESULT:
        return [_SUCCESS, message_id]
    if type(result) is Encoded:
        return _SUCCESS_HEAD + encode(message_id) + result.data
    return [_SUCCESS, message_id, result]


async def _answer_later(message_id: int, packet: Any, pending: Awaitable[Any]) -> list[Any] | bytes:
    try:
        result = await pending
    except ProtocolError as error:
        return [_ERROR, message_id, error.to_map()]
    except Exception:
        logger.exception("internal error handling packet %r", packet)
        return error_packet(message_id, ErrorCode.INTERNAL_ERROR)
    return _success(message_id, result)


def _encode_replies(replies: list[Any]) -> bytes:
    if len(replies) == 1:
        reply = replies[0]
        return b"\x81" + (reply if type(reply) is bytes else encode(reply))
    return array_header(len(replies)) + b"".join(r if type(r) is bytes else encode(r) for r in replies)


async def _encode_later(pending: Awaitable[list[Any]]) -> bytes:
    return _encode_replies(await pending)


def _message_id(packet: Any) -> int:
    """The id to echo in an error reply: the request's own if it is an integer, else 0."""
    if type(packet) is list and len(packet) > 1 and type(packet[1]) is int:
        return packet[1]
    return 0

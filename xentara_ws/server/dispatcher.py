"""One decoded message in, one reply message out (spec sections 2, 3 and 10.6)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
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

    def handle_bytes(self, session: Session, data: bytes) -> bytes:
        """Decode, dispatch and encode one WebSocket message."""
        try:
            message = decode(data)
        except CBORProfileError as error:
            return parse_error_reply(f"payload not well formed: {error}")
        replies = self._replies(session, message)
        if len(replies) == 1:
            reply = replies[0]
            return b"\x81" + (reply if type(reply) is bytes else encode(reply))
        return array_header(len(replies)) + b"".join(r if type(r) is bytes else encode(r) for r in replies)

    def connection_lost(self, session: Session) -> None:
        """The connection of `session` ended (called once by the edge): drop what it held."""
        if session.events is not None:
            session.events.close()
        session.sub_sessions.clear()
        session.closed = True

    def handle_message(self, session: Session, message: Any) -> list[Any]:
        """The reply packets for one decoded message, as objects (for tests and embedders)."""
        return [decode(r) if type(r) is bytes else r for r in self._replies(session, message)]

    def _replies(self, session: Session, message: Any) -> list[Any]:
        """One reply per request packet, in order; each a packet or an already encoded packet."""
        if type(message) is not list:
            return [error_packet(0, ErrorCode.PARSE_ERROR, "a message must be an array of packets")]
        limit = self.state.limits.max_packets_per_message
        replies: list[list[Any] | bytes] = []
        for index, packet in enumerate(message):
            if index >= limit:
                replies.append(
                    error_packet(
                        _message_id(packet),
                        ErrorCode.INVALID_REQUEST,
                        f"more than {limit} packets in one message; this packet was not executed",
                    )
                )
            else:
                replies.append(self.handle_packet(session, packet))
        return replies

    def handle_packet(self, session: Session, packet: Any) -> list[Any] | bytes:
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
        if result is NO_RESULT:
            return [_SUCCESS, message_id]
        if type(result) is Encoded:
            return _SUCCESS_HEAD + encode(message_id) + result.data
        return [_SUCCESS, message_id, result]


def _message_id(packet: Any) -> int:
    """The id to echo in an error reply: the request's own if it is an integer, else 0."""
    if type(packet) is list and len(packet) > 1 and type(packet[1]) is int:
        return packet[1]
    return 0

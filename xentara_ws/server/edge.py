"""The WebSocket edge: `/api/ws`, upgrade-time admission, limits, and moving bytes to the dispatcher.

It never interprets packets: it reads WebSocket frames, hands whole messages to the dispatcher and
sends back what it returns, plus the event messages each connection's scheduler produces.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import http
import logging
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response
from websockets.protocol import CONNECTING, OPEN
from websockets.typing import Subprotocol

try:  # websockets' C speed-up, as websockets itself uses it
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover
    from websockets.utils import apply_mask

from .dispatcher import Dispatcher, internal_error_reply, parse_error_reply
from .session import Session
from .state import ServerState
from .subscriptions import EventScheduler

logger = logging.getLogger(__name__)

API_PATH = "/api/ws"
_TEXT_FRAME = "text frames are not supported: send CBOR in binary frames"
SUBPROTOCOL = Subprotocol("xentara-v1")
_NS = 1_000_000_000


@dataclass
class UpgradeRefused(Exception):
    """Admission said no: answer the upgrade request with this status and these headers."""

    status: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)


class Gatekeeper(Protocol):
    """Decides at the upgrade who the client is, or raises UpgradeRefused."""

    def admit(self, authorization: str | None, peer: str) -> Any: ...


class OpenGate:
    """No authentication configured: everyone is admitted as an anonymous principal."""

    def admit(self, authorization: str | None, peer: str) -> Any:
        return None


def _peer(connection: ServerConnection) -> str:
    address = connection.remote_address
    if isinstance(address, tuple) and address:
        return str(address[0])
    return str(address)


def _peer_address(connection: ServerConnection) -> str:
    """`host:port`, or `[v6]:port` for IPv6."""
    address = connection.remote_address
    if isinstance(address, tuple) and len(address) >= 2:
        host = str(address[0])
        return f"[{host}]:{address[1]}" if ":" in host else f"{host}:{address[1]}"
    return str(address)


def select_subprotocol(connection: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
    """Spec 10.10: no sub-protocol is fine; `xentara-v1`, when offered, is selected."""
    return SUBPROTOCOL if SUBPROTOCOL in offered else None


class WebSocketEdge:
    """Serves one ServerState over WebSockets."""

    def __init__(self, state: ServerState, gatekeeper: Gatekeeper | None = None) -> None:
        self.state = state
        self.dispatcher = Dispatcher(state)
        self.gatekeeper: Gatekeeper = gatekeeper if gatekeeper is not None else OpenGate()
        self.server: Server | None = None
        self.connections: dict[ServerConnection, Session] = {}
        self._dirty: dict[Outbound, None] = {}
        self._closing: set[asyncio.Future[None]] = set()

    async def start(self, host: str | None, port: int, ssl_context: ssl.SSLContext | None) -> Server:
        limits = self.state.limits
        self.server = await serve(
            self._serve_connection,
            host,
            port,
            ssl=ssl_context,
            process_request=self._process_request,
            select_subprotocol=select_subprotocol,
            compression=None,
            max_size=limits.max_message_size,
            max_queue=4,
            server_header=None,
            create_connection=XentaraConnection,
        )
        return self.server

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Close every connection with 1001 (going away) and stop listening."""
        if self.server is not None:
            self.server.close(close_connections=True)
            await self.server.wait_closed()

    # -- upgrade ------------------------------------------------------------------------------

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path != API_PATH:
            return connection.respond(http.HTTPStatus.NOT_FOUND, f"Not Found: the WebSocket API is at {API_PATH}\n")
        if len(self.connections) >= self.state.limits.max_connections:
            return connection.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, "Too many connections\n")
        try:
            principal = self.gatekeeper.admit(request.headers.get("Authorization"), _peer(connection))
        except UpgradeRefused as refusal:
            response = connection.respond(refusal.status, refusal.reason + "\n")
            response.headers = Headers(list(response.headers.raw_items()) + refusal.headers)
            return response
        self._attach(connection, principal)
        return None

    # -- connection -----------------------------------------------------------------------------

    def _attach(self, connection: ServerConnection, principal: Any) -> None:
        """Give an admitted connection its session, before any frame can arrive after the handshake."""
        state = self.state
        session = Session(principal=principal, peer=_peer(connection), peer_address=_peer_address(connection))
        outbound = Outbound(self, connection, session)
        session.events = EventScheduler(
            state.monotonic, state.access, session.principal, functools.partial(self._mark_dirty, outbound)
        )
        handle = self.dispatcher.handle_bytes

        def on_message(data: bytes, text: bool) -> asyncio.Task[None] | None:
            try:
                reply = parse_error_reply(_TEXT_FRAME) if text else handle(session, data)
            except Exception:  # the dispatcher answers every packet; this is a last line of defence
                logger.exception("cannot answer a message from %s", session.peer)
                reply = internal_error_reply()
            if type(reply) is bytes:
                outbound.reply(reply)
                return None
            # A handler answers later: no further message of this connection is handled until
            # this reply is out, so replies keep their order.
            if isinstance(connection, XentaraConnection):
                connection.hold()
            task = asyncio.ensure_future(self._reply_later(outbound, reply))  # type: ignore[arg-type]
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
            return task

        connection.outbound = outbound  # type: ignore[attr-defined]
        connection.handle_message = on_message  # type: ignore[attr-defined]
        if isinstance(connection, XentaraConnection):
            # Whole messages are answered as they are parsed, in order, from the first frame on.
            connection.on_message = on_message

    async def _serve_connection(self, connection: ServerConnection) -> None:
        outbound: Outbound = connection.outbound  # type: ignore[attr-defined]
        on_message = connection.handle_message  # type: ignore[attr-defined]
        session = outbound.session
        assert session.events is not None
        self.connections[connection] = session
        loop = asyncio.get_running_loop()
        hello_timer = loop.call_later(self.state.limits.client_hello_timeout, self._hello_deadline, connection, session)
        logger.debug("connection from %s", session.peer)
        if isinstance(connection, XentaraConnection):
            connection.start()
        try:
            # Only what websockets reassembles itself (fragmented messages) arrives here.
            async for message in connection:
                later = on_message(b"", True) if type(message) is str else on_message(message, False)
                if later is not None:
                    await later
        except ConnectionClosed:
            pass
        finally:
            hello_timer.cancel()
            await outbound.stop()
            self.dispatcher.connection_lost(session)
            self.connections.pop(connection, None)
            self._dirty.pop(outbound, None)
            logger.debug("connection from %s closed (%s)", session.peer, connection.close_code)

    async def _reply_later(self, outbound: Outbound, pending: Awaitable[bytes]) -> None:
        try:
            reply = await pending
        except Exception:
            logger.exception("cannot answer a message from %s", outbound.session.peer)
            reply = internal_error_reply()
        outbound.reply(reply)
        connection = outbound.connection
        if isinstance(connection, XentaraConnection) and connection.held and not outbound.backlog:
            connection.release()

    def _hello_deadline(self, connection: ServerConnection, session: Session) -> None:
        if not session.hello_done and not session.closed:
            logger.info("closing connection from %s: no client_hello in time", session.peer)
            closing = asyncio.ensure_future(
                connection.close(CloseCode.POLICY_VIOLATION, "client_hello not received in time")
            )
            self._closing.add(closing)  # keep a reference until it is done
            closing.add_done_callback(self._closing.discard)

    # -- events -------------------------------------------------------------------------------

    def _mark_dirty(self, outbound: Outbound) -> None:
        dirty = self._dirty
        if not dirty:
            asyncio.get_running_loop().call_soon(self._flush)
        dirty[outbound] = None

    def _flush(self) -> None:
        """Send every connection's due events at once, without a task switch per connection."""
        dirty, self._dirty = self._dirty, {}
        now = self.state.monotonic()
        for outbound in dirty:
            outbound.flush(now)

    async def _drop_slow_consumer(self, connection: ServerConnection) -> None:
        # The close frame may never get through a full buffer; abort if it does not in time.
        try:
            await asyncio.wait_for(connection.close(CloseCode.POLICY_VIOLATION, "slow consumer"), 2)
        except (TimeoutError, ConnectionClosed):
            pass
        if connection.transport is not None:
            connection.transport.abort()


_BINARY_FRAME = 0x82
_EARLY_DATA_LIMIT = 1 << 20


_SHORT_HEADERS = tuple(bytes((_BINARY_FRAME, length)) for length in range(126))


def frame_header(length: int) -> bytes:
    """The header of an unmasked, final binary frame (server to client)."""
    if length < 126:
        return _SHORT_HEADERS[length]
    if length < 0x10000:
        return bytes((_BINARY_FRAME, 126)) + length.to_bytes(2, "big")
    return bytes((_BINARY_FRAME, 127)) + length.to_bytes(8, "big")


class Outbound:
    """The sending side of one connection: immediate writes, and a task for deadlines and back-pressure.

    Events due now are written straight to the transport by the edge's flush, so a change fanned
    out to many connections costs no task switch per connection. The task exists only once a
    connection needs to wait: for an update-rate window, a heartbeat, or a transport to drain.
    """

    __slots__ = ("backlog", "connection", "edge", "session", "task", "wake")

    def __init__(self, edge: WebSocketEdge, connection: ServerConnection, session: Session) -> None:
        self.edge = edge
        self.connection = connection
        self.session = session
        self.wake: asyncio.Event | None = None
        self.task: asyncio.Task[None] | None = None
        self.backlog: list[bytes] = []
        """Messages collected but not yet written because the transport is applying back-pressure."""

    def write_now(self, data: bytes) -> bool:
        """Write one message as a binary frame if the transport takes it without waiting."""
        connection = self.connection
        if (
            self.backlog
            or connection.paused
            or connection.send_in_progress is not None
            or connection.protocol.state is not OPEN
        ):
            return False
        connection.transport.write(frame_header(len(data)) + data)
        return True

    def reply(self, data: bytes) -> None:
        """Send a response message; under back-pressure, stop reading requests until it is out."""
        if self.connection.protocol.state is not OPEN:
            return  # closing: nobody will read it
        if not self.write_now(data):
            self.backlog.append(data)
            connection = self.connection
            if isinstance(connection, XentaraConnection):
                connection.hold()
            self._wake_task()

    def flush(self, now: int) -> None:
        events = self.session.events
        if events is None or self.session.closed:
            return
        if not self.backlog:
            for message in events.collect(now):
                if not self.write_now(message):
                    self.backlog.append(message)
        if self.backlog or events.waiting:
            self._wake_task()

    def _wake_task(self) -> None:
        if self.task is None:
            self.wake = asyncio.Event()
            self.task = asyncio.create_task(self._run())
        assert self.wake is not None
        self.wake.set()

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def _run(self) -> None:
        edge = self.edge
        connection = self.connection
        events = self.session.events
        assert events is not None and self.wake is not None
        timeout = edge.state.limits.send_timeout
        clock = edge.state.monotonic
        wake = self.wake
        backlog = self.backlog
        while True:
            if not backlog:
                deadline = events.next_deadline()
                if deadline is None:
                    await wake.wait()
                else:
                    delay = (deadline - clock()) / _NS
                    if delay > 0:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(wake.wait(), delay)
                wake.clear()
                backlog.extend(events.collect())
            while backlog:
                try:
                    await asyncio.wait_for(connection.send(backlog[0]), timeout)
                except TimeoutError:
                    logger.warning(
                        "disconnecting %s: it read nothing for %.0f s (slow consumer)", self.session.peer, timeout
                    )
                    await edge._drop_slow_consumer(connection)
                    return
                except ConnectionClosed:
                    return
                del backlog[0]
            if isinstance(connection, XentaraConnection) and connection.held:
                connection.release()


class XentaraConnection(ServerConnection):
    """A server connection that parses client frames itself once the edge is ready for messages.

    Each complete data frame is handed to `on_message` as soon as it arrives: no message queue,
    no generator-based parser, no task switch per request. websockets still parses the upgrade
    request (and only that: frames sent along with it wait until the connection is open), and
    control frames (ping, pong, close), fragmented messages and anything invalid or oversize are
    passed on to websockets' own protocol, as whole frames, which answers them as usual. A
    fragmented message switches the connection to websockets' path for good, to keep order.
    """

    on_message: Callable[[bytes, bool], object] | None = None
    _buffer: bytearray | None = None
    _held = False
    _request_seen = False
    _request_tail = b""

    def data_received(self, data: bytes) -> None:
        if not self._request_seen:
            # Feed websockets the upgrade request, byte-exactly up to its blank line; frames sent
            # along with it wait until the edge has admitted the client and the connection is open.
            combined = self._request_tail + data
            end = combined.find(b"\r\n\r\n")
            if end < 0:
                self._request_tail = combined[-3:]
                super().data_received(data)
                return
            cut = end + 4 - len(self._request_tail)
            self._request_seen = True
            super().data_received(data[:cut])
            data = data[cut:]
            if not data:
                return
        state = self.protocol.state
        if (state is OPEN and self.on_message is not None) or state is CONNECTING:
            buffer = self._buffer
            if buffer is None:
                buffer = self._buffer = bytearray()
            buffer += data
            if state is OPEN:
                self._parse_frames()
            elif len(buffer) > _EARLY_DATA_LIMIT and self.transport is not None:
                self.transport.pause_reading()  # the handshake is not done: no need to take more yet
            return
        # websockets' own path: closing connections, refused handshakes, fragmented messages.
        if self._buffer:
            data, self._buffer = bytes(self._buffer) + data, None
        super().data_received(data)

    def start(self) -> None:
        """The edge is ready: answer what arrived with the handshake."""
        if self._buffer and self.on_message is not None and self.protocol.state is OPEN:
            self._parse_frames()
        if not self._held and self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def _parse_frames(self) -> None:
        buffer = self._buffer
        assert buffer is not None
        limit = self.protocol.max_message_size
        size = len(buffer)
        position = 0
        while not self._held and self.on_message is not None:
            if size - position < 2:
                break
            first, second = buffer[position], buffer[position + 1]
            length = second & 0x7F
            header = 2
            if length == 126:
                if size - position < 4:
                    break
                length = int.from_bytes(buffer[position + 2 : position + 4], "big")
                header = 4
            elif length == 127:
                if size - position < 10:
                    break
                length = int.from_bytes(buffer[position + 2 : position + 10], "big")
                header = 10
            opcode = first & 0x0F
            whole_data_frame = first & 0xF0 == 0x80 and second & 0x80 and opcode in (1, 2)
            if not whole_data_frame or (limit is not None and length > limit):
                # Control frames, fragments, bad or oversize frames: websockets' protocol decides,
                # from here on for everything but well-formed control frames (they do not break
                # message order, and at most 125 bytes are worth waiting for).
                if first & 0x08 == 0 or length > 125:
                    self.on_message = None
                    break
                end = position + header + (4 if second & 0x80 else 0) + length
                if size < end:
                    break
                super().data_received(bytes(buffer[position:end]))
                position = end
                if self.protocol.state is not OPEN:
                    break  # a close frame: what follows is websockets' to handle
                continue
            end = position + header + 4 + length
            if size < end:
                break
            mask = bytes(buffer[position + header : position + header + 4])
            payload = apply_mask(buffer[position + header + 4 : end], mask)
            position = end
            self.on_message(payload, opcode == 1)
        if position:
            del buffer[:position]
        if buffer and (self.on_message is None or self.protocol.state is not OPEN):
            rest, self._buffer = bytes(buffer), None
            super().data_received(rest)

    @property
    def held(self) -> bool:
        """Whether request handling is stopped for back-pressure (see hold)."""
        return self._held

    def hold(self) -> None:
        """Stop handling requests (their replies cannot be written): back-pressure to the client."""
        self._held = True
        if self.transport is not None and not self.transport.is_closing():
            self.transport.pause_reading()

    def release(self) -> None:
        self._held = False
        if self._buffer:
            self._parse_frames()
        if not self._held and self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    async def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        # Reading may be held for back-pressure; the closing handshake needs to read again.
        self._held = False
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()
        await super().close(code, reason)

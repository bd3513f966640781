"""The WebSocket edge: `/api/ws`, upgrade-time admission, limits, and moving bytes to the dispatcher.

It never interprets packets; it hands whole messages to the dispatcher and sends back what it
returns, plus the event messages each connection's scheduler produces.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import http
import logging
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode, Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import OPEN
from websockets.typing import Subprotocol

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

    async def start(self, host: str | Sequence[str] | None, port: int, ssl_context: ssl.SSLContext | None) -> Server:
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
        # The handler reads it back; websockets keeps no per-connection slot for application data.
        connection.principal = principal  # type: ignore[attr-defined]
        return None

    # -- connection -----------------------------------------------------------------------------

    async def _serve_connection(self, connection: ServerConnection) -> None:
        state = self.state
        session = Session(principal=getattr(connection, "principal", None), peer=_peer(connection))
        outbound = Outbound(self, connection, session)
        session.events = EventScheduler(
            state.monotonic, state.access, session.principal, functools.partial(self._mark_dirty, outbound)
        )
        self.connections[connection] = session
        loop = asyncio.get_running_loop()
        hello_timer = loop.call_later(state.limits.client_hello_timeout, self._hello_deadline, connection, session)
        logger.debug("connection from %s", session.peer)
        try:
            await self._receive(connection, session, outbound)
        except ConnectionClosed:
            pass
        finally:
            hello_timer.cancel()
            await outbound.stop()
            session.events.close()
            session.sub_sessions.clear()
            session.closed = True
            self.connections.pop(connection, None)
            self._dirty.pop(outbound, None)
            logger.debug("connection from %s closed (%s)", session.peer, connection.close_code)

    async def _receive(self, connection: ServerConnection, session: Session, outbound: Outbound) -> None:
        handle = self.dispatcher.handle_bytes

        def on_message(data: bytes, text: bool) -> None:
            try:
                reply = parse_error_reply(_TEXT_FRAME) if text else handle(session, data)
            except Exception:  # the dispatcher answers every packet; this is a last line of defence
                logger.exception("cannot answer a message from %s", session.peer)
                reply = internal_error_reply()
            outbound.reply(reply)

        # Whole messages are answered as they are parsed (see XentaraConnection); the loop below
        # only sees what websockets reassembles itself (fragmented messages).
        if isinstance(connection, XentaraConnection):
            connection.on_message = on_message
        async for message in connection:
            if type(message) is str:
                on_message(b"", True)
            else:
                on_message(message, False)  # type: ignore[arg-type]

    def _hello_deadline(self, connection: ServerConnection, session: Session) -> None:
        if not session.hello_done and not session.closed:
            logger.info("closing connection from %s: no client_hello in time", session.peer)
            asyncio.ensure_future(
                connection.close(CloseCode.POLICY_VIOLATION, "client_hello not received in time")
            )

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

    __slots__ = ("edge", "connection", "session", "wake", "task", "backlog", "reading_paused")

    def __init__(self, edge: WebSocketEdge, connection: ServerConnection, session: Session) -> None:
        self.edge = edge
        self.connection = connection
        self.session = session
        self.wake: asyncio.Event | None = None
        self.task: asyncio.Task[None] | None = None
        self.backlog: list[bytes] = []
        """Messages collected but not yet written because the transport is applying back-pressure."""
        self.reading_paused = False

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
            transport = self.connection.transport
            if transport is not None and not transport.is_closing():
                transport.pause_reading()
                self.reading_paused = True
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
            if self.reading_paused:
                self.reading_paused = False
                connection.transport.resume_reading()


class XentaraConnection(ServerConnection):
    """A server connection that hands each complete message to the edge as soon as it is parsed.

    This skips websockets' message queue and a task switch per request; fragmented messages
    still take the regular path (and switch the connection to it for good, to keep order).
    """

    on_message: Callable[[bytes, bool], None] | None = None

    async def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        # Reading may be paused for back-pressure; the closing handshake needs to read again.
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()
        await super().close(code, reason)

    def process_event(self, event: Any) -> None:
        on_message = self.on_message
        if on_message is not None and type(event) is Frame:
            if event.fin and (event.opcode is Opcode.BINARY or event.opcode is Opcode.TEXT):
                on_message(bytes(event.data), event.opcode is Opcode.TEXT)
                return
            if event.opcode is Opcode.BINARY or event.opcode is Opcode.TEXT or event.opcode is Opcode.CONT:
                self.on_message = None
        super().process_event(event)

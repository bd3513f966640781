"""The WebSocket edge: `/api/ws`, upgrade-time admission, limits, and moving bytes to the dispatcher.

It never interprets packets; it hands whole messages to the dispatcher and sends back what it
returns, plus the event messages each connection's scheduler produces.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import logging
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from .dispatcher import Dispatcher, parse_error_reply
from .session import Session
from .state import ServerState
from .subscriptions import EventScheduler

logger = logging.getLogger(__name__)

API_PATH = "/api/ws"
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
        wake = asyncio.Event()
        session = Session(principal=getattr(connection, "principal", None), peer=_peer(connection))
        session.events = EventScheduler(state.monotonic, state.access, session.principal, wake.set)
        self.connections[connection] = session
        loop = asyncio.get_running_loop()
        hello_timer = loop.call_later(state.limits.client_hello_timeout, self._hello_deadline, connection, session)
        sender = asyncio.create_task(self._send_events(connection, session.events, wake))
        logger.debug("connection from %s", session.peer)
        try:
            await self._receive(connection, session)
        except ConnectionClosed:
            pass
        finally:
            hello_timer.cancel()
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
            session.events.close()
            session.sub_sessions.clear()
            session.closed = True
            self.connections.pop(connection, None)
            logger.debug("connection from %s closed (%s)", session.peer, connection.close_code)

    async def _receive(self, connection: ServerConnection, session: Session) -> None:
        handle = self.dispatcher.handle_bytes
        send = connection.send
        async for message in connection:
            if type(message) is str:
                reply = parse_error_reply("text frames are not supported: send CBOR in binary frames")
            else:
                reply = handle(session, message)
            await send(reply)

    def _hello_deadline(self, connection: ServerConnection, session: Session) -> None:
        if not session.hello_done and not session.closed:
            logger.info("closing connection from %s: no client_hello in time", session.peer)
            asyncio.ensure_future(
                connection.close(CloseCode.POLICY_VIOLATION, "client_hello not received in time")
            )

    async def _send_events(self, connection: ServerConnection, events: EventScheduler, wake: asyncio.Event) -> None:
        """Send what the scheduler has due; a client that stalls too long is disconnected."""
        timeout = self.state.limits.send_timeout
        clock = self.state.monotonic
        while True:
            deadline = events.next_deadline()
            if deadline is None:
                await wake.wait()
            else:
                delay = (deadline - clock()) / _NS
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), delay)
            wake.clear()
            for message in events.collect():
                try:
                    await asyncio.wait_for(connection.send(message), timeout)
                except TimeoutError:
                    logger.warning(
                        "disconnecting %s: it read nothing for %.0f s (slow consumer)", _peer(connection), timeout
                    )
                    await self._drop_slow_consumer(connection)
                    return
                except ConnectionClosed:
                    return

    async def _drop_slow_consumer(self, connection: ServerConnection) -> None:
        # The close frame may never get through a full buffer; abort if it does not in time.
        try:
            await asyncio.wait_for(connection.close(CloseCode.POLICY_VIOLATION, "slow consumer"), 2)
        except (TimeoutError, ConnectionClosed):
            pass
        if connection.transport is not None:
            connection.transport.abort()


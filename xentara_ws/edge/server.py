"""The edge of one server: the listening socket, the route table, and every open connection."""

from __future__ import annotations

import asyncio
import logging
import ssl

from ..server.dispatcher import Dispatcher
from ..server.state import ServerState
from .admission import Gatekeeper, OpenGate
from .api import API_PATH, SUBPROTOCOL, CborApi
from .connection import EdgeConnection
from .http import HttpHandler, HttpRequest, HttpResponse, WebSocketApp
from .routes import Route, RouteTable

logger = logging.getLogger(__name__)

READ_BUFFER_SIZE = 256 * 1024
"""As much as asyncio reads at once into a bytes object for a plain Protocol."""


class Edge:
    """Serves HTTP/1.1 routes and WebSocket routes (`/api/ws` built in) on one listening socket."""

    def __init__(self, state: ServerState, gatekeeper: Gatekeeper | None = None) -> None:
        self.state = state
        self.dispatcher = Dispatcher(state)
        self.gatekeeper: Gatekeeper = gatekeeper if gatekeeper is not None else OpenGate()
        self.http_routes: RouteTable[HttpHandler] = RouteTable()
        self.websocket_routes: RouteTable[WebSocketApp] = RouteTable()
        self.api = CborApi(state, self.dispatcher, self.gatekeeper)
        self.add_websocket_route(API_PATH, self.api, subprotocols=(SUBPROTOCOL,))
        self.connections: dict[EdgeConnection, None] = {}
        """Every open TCP connection, HTTP or WebSocket."""
        self.server: asyncio.Server | None = None
        self.read_buffer = memoryview(bytearray(READ_BUFFER_SIZE))
        """Every connection reads into this one buffer (see `connection`): no allocation per read."""
        self._all_closed: asyncio.Event | None = None

    # -- routes -----------------------------------------------------------------------------------

    def add_http_route(self, path: str, handler: HttpHandler, *, prefix: bool = False) -> None:
        """Serve `path` (or every path under it, with prefix=True) with `handler`."""
        self.http_routes.add(path, Route(handler), prefix=prefix)

    def add_websocket_route(self, path: str, app: WebSocketApp, *, subprotocols: tuple[str, ...] = ()) -> None:
        """Accept WebSocket upgrades on `path` with `app`; `subprotocols` are selected when the client offers one."""
        self.websocket_routes.add(path, Route(app, subprotocols))

    def not_found(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse.text(
            f"Not Found: nothing is served at {request.path}; the WebSocket API is at {API_PATH}\n", 404
        )

    # -- life cycle -------------------------------------------------------------------------------

    async def start(self, host: str | None, port: int, ssl_context: ssl.SSLContext | None) -> asyncio.Server:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: EdgeConnection(self), host, port, ssl=ssl_context)
        return self.server

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening, close every WebSocket with 1001, and wait (bounded) until every connection is gone."""
        if self.server is not None:
            self.server.close()
        for connection in list(self.connections):
            connection.shutdown()
        if self.connections:
            self._all_closed = asyncio.Event()
            try:
                await asyncio.wait_for(self._all_closed.wait(), self.state.limits.close_timeout + 1)
            except TimeoutError:
                pass
            for connection in list(self.connections):
                connection.abort()
        if self.server is not None:
            try:
                await asyncio.wait_for(self.server.wait_closed(), 1)
            except TimeoutError:
                pass

    # -- connections (called by EdgeConnection) ---------------------------------------------------

    def connection_made(self, connection: EdgeConnection) -> None:
        self.connections[connection] = None

    def websocket_opened(self, connection: EdgeConnection) -> None:
        logger.debug("WebSocket open from %s", connection.peer)

    def connection_lost(self, connection: EdgeConnection) -> None:
        self.connections.pop(connection, None)
        if not self.connections and self._all_closed is not None:
            self._all_closed.set()

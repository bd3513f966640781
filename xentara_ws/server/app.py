"""XentaraServer: the model, its simulation and the WebSocket edge put together, for the CLI and embedders."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..console.routes import ConsoleSite
from ..console.sessions import RegistryConsoleSessions
from ..edge import Edge, Gatekeeper, OpenGate
from ..jsonapi.http import JsonHttpHandler
from ..jsonapi.service import JSON_API_PATH, JsonApi
from ..jsonapi.websocket import JsonWebSocketApp
from ..model.tree import Model
from ..protocol.identifiers import Stage
from ..sessions.storage import StoreUnavailable, SubSessionStore
from .access import AccessPolicy, OpenAccess, SubSessionAuthenticator
from .limits import Limits
from .state import ServerState

logger = logging.getLogger(__name__)

_NS = 1_000_000_000


class XentaraServer:
    """A running (or ready to run) server for one model.

    Embedding: `server = XentaraServer(model)`, `await server.start("127.0.0.1", 0)`, then
    `server.model.element("Plant.Tank.Level").publish(42.0)`; `await server.close()` at the end.
    """

    def __init__(
        self,
        model: Model,
        *,
        simulation: Any = None,
        access: AccessPolicy | None = None,
        gatekeeper: Gatekeeper | None = None,
        sub_session_authenticator: SubSessionAuthenticator | None = None,
        limits: Limits | None = None,
        shutdown_enabled: bool = False,
        sub_session_store: SubSessionStore | Callable[[], SubSessionStore] | None = None,
        console: bool = False,
        www: Path | None = None,
    ) -> None:
        self.state = ServerState(
            model=model,
            access=access if access is not None else OpenAccess(),
            sub_session_authenticator=sub_session_authenticator,
            limits=limits if limits is not None else Limits(),
            shutdown_enabled=shutdown_enabled,
        )
        self.simulation = simulation
        self.console: ConsoleSite | None = None
        if console or www is not None:
            # The browser console (and an HMI folder): its login cookie admits /api/ws from this server's pages.
            self.console = ConsoleSite(
                gatekeeper if gatekeeper is not None else OpenGate(),
                sessions=RegistryConsoleSessions(self.state.sub_sessions),
                www=www,
                model=model,
                access=self.state.access,
            )
            gatekeeper = self.console.gate
        self.edge = Edge(self.state, gatekeeper)
        for route in self.console.routes() if self.console is not None else ():
            self.edge.add_http_route(route.path, route.handler, prefix=route.prefix)
        # The jsonAction rendition (extensions §8): POST /api and the /api WebSocket, same handlers.
        self.jsonapi = JsonApi(self.state, self.edge.dispatcher.handlers)
        self.edge.add_http_route(JSON_API_PATH, JsonHttpHandler(self.jsonapi, self.state.limits.max_message_size))
        self.edge.add_websocket_route(JSON_API_PATH, JsonWebSocketApp(self.jsonapi))
        self.stopped = asyncio.Event()
        self._simulation_task: asyncio.Task[None] | None = None
        self._simulation_wake = asyncio.Event()
        self.state.stage_listeners.append(self._on_stage)
        self._sub_session_store = sub_session_store
        if sub_session_store is not None and not callable(sub_session_store):
            self._restore_sub_sessions(sub_session_store)

    def _restore_sub_sessions(self, store: SubSessionStore) -> None:
        """Permanent sub-sessions of earlier runs: all offline until resumed."""
        self.state.sub_sessions.store = store
        restored = self.state.sub_sessions.load(self.model.find)
        if restored:
            logger.info("restored %d permanent sub-session(s)", restored)

    @property
    def model(self) -> Model:
        return self.state.model

    @property
    def port(self) -> int:
        return self.edge.port

    async def start(
        self, host: str | None = "127.0.0.1", port: int = 0, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        await self.edge.start(host, port, ssl_context)
        factory = self._sub_session_store
        if callable(factory):
            # Opened once listening worked, so that a server that cannot start leaves no file behind.
            try:
                store = factory()
            except StoreUnavailable:
                await self.edge.close()
                raise
            self._restore_sub_sessions(store)
        self.model.bind_loop(asyncio.get_running_loop())  # publish() from other threads wakes this loop
        self.jsonapi.start()
        if self.simulation is not None:
            self._simulation_task = asyncio.create_task(self._run_simulation())

    async def close(self) -> None:
        if self._simulation_task is not None:
            self._simulation_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._simulation_task
        self.state.sub_sessions.shutdown()  # before the connections close: no last will fires
        self.jsonapi.close()
        await self.edge.close()
        self.state.sub_sessions.close()
        self.model.bind_loop(None)
        self.stopped.set()

    def stop_on_signals(self) -> None:
        """Make SIGINT and SIGTERM close the server gracefully (call before announcing it is up)."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, self.request_stop)

    async def serve_until_stopped(self) -> None:
        """Run until SIGINT/SIGTERM or an enabled shutdown command, then close gracefully."""
        loop = asyncio.get_running_loop()
        self.stop_on_signals()
        try:
            await self.stopped.wait()
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(signum)

    def request_stop(self) -> None:
        logger.info("shutting down")
        asyncio.get_running_loop().create_task(self.close())

    def _on_stage(self, stage: Stage) -> None:
        simulation = self.simulation
        if stage is Stage.SUSPENDED and simulation is not None:
            simulation.pause()
        elif stage is Stage.OPERATIONAL and simulation is not None:
            simulation.resume()
            self._simulation_wake.set()
        elif stage is Stage.SHUTDOWN:
            # After the current reply went out: the stop runs on a later loop iteration.
            asyncio.get_running_loop().call_soon(self.request_stop)

    async def _run_simulation(self) -> None:
        simulation = self.simulation
        clock = self.model.clock
        while True:
            now = clock()
            try:
                simulation.step(now)
            except Exception:
                logger.exception("simulation step failed")
            due = simulation.next_due(clock())
            delay = 1.0 if due is None else max(0.0, (due.ns - clock().ns) / _NS)
            self._simulation_wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._simulation_wake.wait(), delay)

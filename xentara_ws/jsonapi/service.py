"""JsonApi: one jsonAction request in, one reply out, whatever the transport (extensions §8).

It finds the action, authenticates the request (authToken, or over HTTP an Authorization
header), runs the action and builds the reply. Events of JSON sessions are collected from the
CBOR event scheduler as soon as they are due and go to the attached WebSocket or the session's
queue for getEvents.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import inspect
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from ..protocol.errors import ErrorCode, ProtocolError
from ..security import Principal
from ..security.config import EVERYONE
from ..server.commands import COMMANDS
from ..server.commands.context import Handler
from ..server.connection_state import ConnectionState
from ..server.state import ServerState
from ..server.subscriptions import EventScheduler
from ..sessions.entry import BANNED, identity
from .actions import MAX_WAITING_POLLS, XENTARA_ACTIONS
from .admin import ADMIN_ACTIONS, SESSIONLESS
from .context import Action, ActionContext, Params
from .envelope import ActionError, build_reply, parse_request, session_not_found
from .events import events_from_message
from .sessions import EventSink, JsonSession, JsonSessions

logger = logging.getLogger(__name__)

JSON_API_PATH = "/api"
CONNECT_ENTITLEMENT = "websocket.connect"
SWEEP_INTERVAL_S = 60.0
_NS = 1_000_000_000
_ACTION_TABLES: dict[str | None, tuple[dict[str, tuple[Action, frozenset[str]]], ...]] = {
    None: (XENTARA_ACTIONS, ADMIN_ACTIONS),
    "xentara": (XENTARA_ACTIONS,),
    "admin": (ADMIN_ACTIONS,),
}


class EventPump:
    """Moves a session's due events out of its CBOR scheduler, now or at the scheduler's next deadline."""

    def __init__(self, api: JsonApi, session: JsonSession, loop: asyncio.AbstractEventLoop) -> None:
        self.api = api
        self.session = session
        self.loop = loop
        self.scheduled = False
        self.timer: asyncio.TimerHandle | None = None

    def wake(self) -> None:
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self.flush)

    def flush(self) -> None:
        self.scheduled = False
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        events = self.session.connection.events
        if events is None or self.session.connection.closed:
            return
        state = self.api.state
        for message in events.collect(state.monotonic()):
            for event in events_from_message(state.model, message):
                self.api.deliver(self.session, event)
        deadline = events.next_deadline()
        if deadline is not None:
            delay = max(0.0, (deadline - state.monotonic()) / _NS)
            self.timer = self.loop.call_later(delay, self.flush)

    def close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


class JsonApi:
    """The jsonAction service of one server."""

    def __init__(self, state: ServerState, handlers: Mapping[int, Handler] | None = None) -> None:
        self.state = state
        self.handlers: Mapping[int, Handler] = COMMANDS if handlers is None else handlers
        """The CBOR dispatcher's own table (shared, not copied: what it runs, the JSON API runs)."""
        self.sessions = JsonSessions(
            state.sub_sessions,
            restore_principal=self._restore_principal,
            on_opened=self._opened,
            on_removed=self._removed,
            on_detaching=self._flush,
        )
        self._pumps: dict[uuid.UUID, EventPump] = {}
        self._waiters: dict[uuid.UUID, set[asyncio.Future[None]]] = {}
        self._sweeper: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Forget, once a minute, the state of sessions the registry removed (expired or deleted)."""
        self._sweeper = asyncio.get_running_loop().call_later(SWEEP_INTERVAL_S, self._sweep_and_rearm)

    def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for pump in self._pumps.values():
            pump.close()

    def _sweep_and_rearm(self) -> None:
        self.sweep()
        self.start()

    # -- one request --------------------------------------------------------------------------

    async def handle(
        self,
        data: bytes | str | Any,
        *,
        transport: str,
        peer: str,
        authorization: str | None = None,
        sink: EventSink | None = None,
        peer_address: str | None = None,
    ) -> dict[str, Any]:
        """The reply object for one request (never raises).

        `peer` is the client's host (failed-login accounting), `peer_address` its host:port (shown
        as a session's peer while its WebSocket is attached).
        """
        request, error = parse_request(data)
        if error is not None:
            return build_reply(request, error=error)
        ctx = ActionContext(self, request, transport, peer, sink=sink, peer_address=peer_address or peer)
        try:
            action, allowed = self._find(request.api, request.action, request.raw.get("action"))
            params = Params(request.params, allowed)
            await self._authenticate(ctx, authorization)
        except ActionError as failure:
            return build_reply(request, error=failure)
        session = ctx.session
        if session is not None:
            self.sessions.begin_request(session, ctx.peer_address)
            if sink is not None and session.sink is not sink:
                self.attach(session, sink, ctx.peer_address)  # §9.15: the latest WebSocket that used the token
        try:
            result = await action(ctx, params)
        except ActionError as failure:
            return build_reply(request, error=failure, warnings=ctx.warnings)
        except ProtocolError as failure:
            return build_reply(request, error=ActionError.from_protocol(failure), warnings=ctx.warnings)
        except Exception:
            logger.exception("internal error in jsonAction %r", request.action)
            return build_reply(
                request,
                error=ActionError(int(ErrorCode.INTERNAL_ERROR), "internal server error"),
                warnings=ctx.warnings,
            )
        finally:
            # ctx.session: the request's session, the one createSession made, or None after deleteSession.
            if ctx.session is not None:
                self.sessions.end_request(ctx.session)
        return build_reply(request, result, warnings=ctx.warnings, auth_token=ctx.reply_token)

    @staticmethod
    def _find(api: str | None, action: str, spelled: Any) -> tuple[Action, frozenset[str]]:
        for table in _ACTION_TABLES[api]:
            found = table.get(action)
            if found is not None:
                return found
        where = f" in api {api!r}" if api is not None else ""
        raise ActionError(int(ErrorCode.COMMAND_NOT_FOUND), f"unknown action {spelled!r}{where}")

    async def _authenticate(self, ctx: ActionContext, authorization: str | None) -> None:
        request = ctx.request
        if request.action == "createsession":
            return  # it authenticates with its params
        token = request.auth_token
        if token is not None:
            session = self.sessions.find(token)
            if session is not None:
                if session.entry.status == BANNED:
                    raise ActionError(int(ErrorCode.ACCESS_DENIED), "this session is banned")
                ctx.session = session
                ctx.connection = session.connection
            elif request.action not in SESSIONLESS:
                raise session_not_found()
            elif request.action == "pingsession":
                raise session_not_found()
            return
        if ctx.transport == "http" and authorization and request.action not in SESSIONLESS:
            # §8.1: the header authenticates this one request; no session is created.
            principal, _ = await self.login_http(authorization, ctx.peer)
            ctx.connection = ConnectionState.ready(
                principal=principal, peer=ctx.peer, peer_address=ctx.peer_address, protocol_version=1
            )
            return
        if request.action not in SESSIONLESS:
            raise session_not_found()

    # -- authentication -------------------------------------------------------------------------

    async def login_password(self, user: str, password: str, peer: str) -> tuple[Any, str]:
        """(principal, owner identity), or ActionError -32102."""
        authenticator = self.state.sub_session_authenticator
        if authenticator is None:
            return self.login_anonymous()
        return await self._login(authenticator.authenticate_password, (user, password), peer)

    async def login_token(self, token: str, peer: str) -> tuple[Any, str]:
        authenticator = self.state.sub_session_authenticator
        if authenticator is None:
            return self.login_anonymous()
        return await self._login(authenticator.authenticate_token, (token,), peer)

    def login_anonymous(self) -> tuple[Any, str]:
        """Without a security configuration every client is anonymous and may do everything (as on CBOR)."""
        return None, identity(None)

    async def login_http(self, authorization: str, peer: str) -> tuple[Any, str]:
        scheme, _, credentials = authorization.strip().partition(" ")
        credentials = credentials.strip()
        if scheme.lower() == "basic":
            try:
                user, sep, password = base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                sep = ""
            if not sep:
                raise ActionError(
                    int(ErrorCode.ACCESS_DENIED), "the Authorization header holds malformed Basic credentials"
                )
            return await self.login_password(user, password, peer)
        if scheme.lower() == "bearer" and credentials:
            return await self.login_token(credentials, peer)
        raise ActionError(int(ErrorCode.ACCESS_DENIED), "the Authorization header must be Basic or Bearer credentials")

    async def _login(self, method: Callable[..., Any], args: tuple[Any, ...], peer: str) -> tuple[Any, str]:
        # CONTRACTS §3: the authenticator is awaited and verifies off the event loop itself.
        try:
            result = method(*args, peer)
            principal = await result if inspect.isawaitable(result) else result
        except ProtocolError as error:
            raise ActionError.from_protocol(error) from None
        except Exception as error:  # AuthenticationFailed and friends: the reason is logged, not told
            logger.info("JSON login refused for %s: %s", peer, error)
            raise ActionError(int(ErrorCode.ACCESS_DENIED), "authentication failed") from None
        if not self.state.access.allowed(principal, CONNECT_ENTITLEMENT, None):
            raise ActionError(int(ErrorCode.ACCESS_DENIED), f"the {CONNECT_ENTITLEMENT!r} entitlement is not granted")
        # The registry's identity of the principal is both owner and creator (§9.15), so the
        # CBOR visibility rules find the session's own requests.
        return principal, identity(principal)

    # -- sessions -------------------------------------------------------------------------------

    async def new_session(
        self, principal: Any, owner: str, method: int, options: dict[str, Any], ctx: ActionContext
    ) -> tuple[str, JsonSession]:
        """A new JSON session, held by the creating request (and its WebSocket, if any)."""
        registry = self.state.sub_sessions
        if len(registry) >= self.state.limits.max_sub_sessions_total:
            raise ActionError(
                int(ErrorCode.INVALID_PARAMETER),
                f"too many sub-sessions on this server (limit max_sub_sessions_total = "
                f"{self.state.limits.max_sub_sessions_total})",
            )
        try:
            token, session, durable = self.sessions.create(
                principal, owner, method, ctx.peer, ctx.peer_address, options
            )
        except OverflowError as error:
            raise ActionError(int(ErrorCode.INVALID_PARAMETER), str(error)) from None
        session.running += 1  # the creating request holds it until its reply
        self.state.sub_sessions.activity(session.entry)  # and counts as its first request
        ctx.session = session
        ctx.connection = session.connection
        ctx.reply_token = token
        if ctx.sink is not None:
            self.attach(session, ctx.sink, ctx.peer_address)
        if durable is not None:
            await durable  # §9.14: a permanent session is stored before the reply
        return token, session

    def _opened(self, session: JsonSession) -> None:
        pump = EventPump(self, session, asyncio.get_running_loop())
        self._pumps[session.id] = pump
        session.connection.events = EventScheduler(
            self.state.monotonic, self.state.access, session.principal, pump.wake
        )
        session.events.on_put = lambda: self._notify(session.id)

    def _flush(self, session: JsonSession) -> None:
        pump = self._pumps.get(session.id)
        if pump is not None:
            pump.flush()

    async def settle(self, session: JsonSession) -> None:
        """Let events handed over on attaching (a bound subscription's catch-up) reach the queue.

        The registry queues the catch-up for the next loop iteration and the pump collects on the
        one after, so two iterations bring them in; then whatever else is due is collected now.
        """
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        self._flush(session)

    def _restore_principal(self, owner: str) -> Any:
        """The principal of a permanent session's owner after a restart: a configured user's roles."""
        kind, _, name = owner.partition(":")
        authenticator = self.state.sub_session_authenticator
        inner = getattr(authenticator, "authenticator", authenticator)
        config = getattr(inner, "config", None)
        users = getattr(config, "users", None)
        if kind != "user" or not isinstance(users, Mapping) or name not in users:
            return None
        return Principal(name, frozenset({EVERYONE, *users[name].roles}), "user")

    def attach(self, session: JsonSession, sink: EventSink, peer: str) -> None:
        """Events go to this WebSocket from now on; what was queued goes there first."""
        self.sessions.attach(session, sink, peer)
        taken, dropped = session.events.take(len(session.events) or 1)
        for index, event in enumerate(taken):
            sink.push_event({**event, "dropped": dropped} if index == 0 and dropped else event)

    def detach(self, sink: EventSink) -> None:
        """A WebSocket closed: its sessions go back to queueing (or end, with sessionExpiryInterval 0)."""
        for session in list(self.sessions):
            if session.sink is sink:
                self.sessions.detach(session, sink)

    def deliver(self, session: JsonSession, event: dict[str, Any]) -> None:
        # Events of bound subscriptions are counted by the registry as they are collected.
        sink = session.sink
        if sink is not None:
            sink.push_event(event)
            return
        carried = event.pop("dropped", 0)  # lost while detached: the registry counted them
        before = session.events.dropped
        session.events.put(event)
        lost = session.events.dropped - before
        if lost:
            session.entry.backlog.add(self.sessions.clock(), lost)
        session.events.dropped += carried

    async def wait_for_events(self, session: JsonSession, subscription_id: str | None, timeout: float) -> None:
        """Until the session has an event (of that subscription) or `timeout` seconds passed."""
        waiters = self._waiters.setdefault(session.id, set())
        if len(waiters) >= MAX_WAITING_POLLS:
            raise ActionError(
                int(ErrorCode.INVALID_REQUEST),
                f"too many getEvents calls waiting for this session (limit {MAX_WAITING_POLLS})",
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not session.events.has_events(subscription_id) and not session.connection.closed:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            future: asyncio.Future[None] = loop.create_future()
            waiters.add(future)
            try:
                await asyncio.wait_for(future, remaining)
            except TimeoutError:
                return
            finally:
                waiters.discard(future)

    def _notify(self, session_id: uuid.UUID) -> None:
        for future in self._waiters.get(session_id, ()):
            if not future.done():
                future.set_result(None)

    def _removed(self, session: JsonSession) -> None:
        pump = self._pumps.pop(session.id, None)
        if pump is not None:
            pump.close()
        self._notify(session.id)
        self._waiters.pop(session.id, None)

    def sweep(self) -> None:
        """Forget the state of sessions the registry removed; the server calls this every minute."""
        self.sessions.sweep()

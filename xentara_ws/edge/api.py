"""The WebSocket app of `/api/ws`: admission, one Session per connection, the dispatcher, and events.

Replies are whatever the dispatcher returns (bytes, or an awaitable of bytes that the edge awaits
in order). Events are written by one flush for every connection that has some due, without a task
switch per connection; a connection under back-pressure is skipped (its events stay pending in
its scheduler, latest value wins) until the client reads again.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from ..server.dispatcher import Dispatcher, internal_error_reply, parse_error_reply
from ..server.session import Session
from ..server.state import ServerState
from ..server.subscriptions import EventScheduler
from .admission import Gatekeeper, UpgradeRefused
from .http import HttpRequest, HttpResponse, WebSocketChannel

logger = logging.getLogger(__name__)

API_PATH = "/api/ws"
SUBPROTOCOL = "xentara-v1"
_TEXT_FRAME = "text frames are not supported: send CBOR in binary frames"
_NS = 1_000_000_000


class EventChannel(WebSocketChannel, Protocol):
    """What the edge's connections offer beyond WebSocketChannel, for writing events efficiently."""

    @property
    def writable(self) -> bool: ...

    def send_messages(self, messages: list[bytes]) -> None: ...

    def watch_writable(self, callback: Callable[[], None] | None) -> None: ...


def refusal(refused: UpgradeRefused) -> HttpResponse:
    return HttpResponse.text(refused.reason + "\n", refused.status, refused.headers)


class CborApi:
    """The `/api/ws` WebSocketApp of one server."""

    def __init__(self, state: ServerState, dispatcher: Dispatcher, gatekeeper: Gatekeeper) -> None:
        self.state = state
        self.dispatcher = dispatcher
        self.gatekeeper = gatekeeper
        self.open: dict[ApiSession, None] = {}
        """Every open CBOR connection."""
        self._dirty: dict[ApiSession, None] = {}

    def __call__(
        self, request: HttpRequest, channel: WebSocketChannel
    ) -> ApiSession | HttpResponse | Awaitable[ApiSession | HttpResponse]:
        if len(self.open) >= self.state.limits.max_connections:
            return HttpResponse.text("Too many connections\n", 503)
        try:
            principal = self.gatekeeper.admit(request)
        except UpgradeRefused as refused:
            return refusal(refused)
        if inspect.isawaitable(principal):
            # Started at once, so that it is awaited even if the client leaves before the edge awaits us.
            return self._admit_later(asyncio.ensure_future(principal), request, channel)
        return self._open(principal, request, channel)

    async def _admit_later(
        self, admission: Awaitable[Any], request: HttpRequest, channel: WebSocketChannel
    ) -> ApiSession | HttpResponse:
        try:
            principal = await admission
        except UpgradeRefused as refused:
            return refusal(refused)
        if len(self.open) >= self.state.limits.max_connections:
            return HttpResponse.text("Too many connections\n", 503)
        return self._open(principal, request, channel)

    def _open(self, principal: Any, request: HttpRequest, channel: WebSocketChannel) -> ApiSession:
        session = Session(principal=principal, peer=request.peer_host, peer_address=request.peer)
        api_session = ApiSession(self, channel, session)  # type: ignore[arg-type]
        session.events = EventScheduler(self.state.monotonic, self.state.access, principal, api_session.wake)
        self.open[api_session] = None
        logger.debug("connection from %s", request.peer)
        return api_session

    def mark_dirty(self, api_session: ApiSession) -> None:
        dirty = self._dirty
        if not dirty:
            asyncio.get_running_loop().call_soon(self._flush)
        dirty[api_session] = None

    def _flush(self) -> None:
        """Send every connection's due events at once, without a task switch per connection."""
        dirty, self._dirty = self._dirty, {}
        now = self.state.monotonic()
        for api_session in dirty:
            api_session.flush(now)

    def closed(self, api_session: ApiSession) -> None:
        self.open.pop(api_session, None)
        self._dirty.pop(api_session, None)

    def sessions(self) -> list[Session]:
        """The Session of every open CBOR connection."""
        return [api_session.session for api_session in self.open]

    def write_buffer_size(self, session: Session) -> int:
        """Bytes the server holds for this connection's client, not yet taken by the operating system."""
        for api_session in self.open:
            if api_session.session is session:
                return int(getattr(api_session.channel, "write_buffer_size", 0))
        return 0


class ApiSession:
    """One `/api/ws` connection: its Session, replies through the dispatcher, events through the channel."""

    __slots__ = ("_deadline", "_deadline_timer", "_hello_timer", "api", "channel", "handle", "session")

    def __init__(self, api: CborApi, channel: EventChannel, session: Session) -> None:
        self.api = api
        self.channel = channel
        self.session = session
        self.handle = api.dispatcher.handle_bytes
        loop = asyncio.get_running_loop()
        self._hello_timer: asyncio.TimerHandle | None = loop.call_later(
            api.state.limits.client_hello_timeout, self._hello_deadline
        )
        self._deadline_timer: asyncio.TimerHandle | None = None
        self._deadline = 0
        channel.watch_writable(self.wake)

    def on_message(self, data: bytes | str) -> bytes | Awaitable[bytes] | None:
        if type(data) is str:
            return parse_error_reply(_TEXT_FRAME)
        try:
            reply: Any = self.handle(self.session, data)  # type: ignore[arg-type]
        except Exception:  # the dispatcher answers every packet; this is a last line of defence
            logger.exception("cannot answer a message from %s", self.session.peer)
            return internal_error_reply()
        if type(reply) is bytes:
            return reply
        return self._later(reply)

    async def _later(self, reply: Awaitable[bytes]) -> bytes:
        try:
            return await reply
        except Exception:
            logger.exception("cannot answer a message from %s", self.session.peer)
            return internal_error_reply()

    def on_close(self) -> None:
        for timer in (self._hello_timer, self._deadline_timer):
            if timer is not None:
                timer.cancel()
        self.channel.watch_writable(None)
        self.api.closed(self)
        self.api.dispatcher.connection_lost(self.session)
        logger.debug("connection from %s closed", self.session.peer_address)

    def wake(self) -> None:
        self.api.mark_dirty(self)

    def flush(self, now: int) -> None:
        session = self.session
        events = session.events
        if events is None or session.closed or not self.channel.writable:
            return  # under back-pressure the events wait in the scheduler; resume_writing wakes us
        messages = events.collect(now)
        if messages:
            self.channel.send_messages(messages)
        if events.waiting:
            deadline = events.next_deadline()
            if deadline is not None:
                self._wake_at(deadline)

    def _wake_at(self, deadline: int) -> None:
        """An update-rate window or a heartbeat: flush again then (one timer, never a task)."""
        timer = self._deadline_timer
        if timer is not None:
            if self._deadline <= deadline:
                return
            timer.cancel()
        delay = max(0.0, (deadline - self.api.state.monotonic()) / _NS)
        self._deadline = deadline
        self._deadline_timer = asyncio.get_running_loop().call_later(delay, self._deadline_reached)

    def _deadline_reached(self) -> None:
        self._deadline_timer = None
        self.wake()

    def _hello_deadline(self) -> None:
        self._hello_timer = None
        if not self.session.hello_done and not self.session.closed:
            logger.info("closing connection from %s: no client_hello in time", self.session.peer)
            self.channel.close(1008, "client_hello not received in time")

"""One TCP (or TLS) connection: HTTP/1.1 through h11, then, after an upgrade, WebSocket through websockets.

Both libraries are sans-I/O: this module only moves bytes between them and the transport, and
calls the route's handler or WebSocket app. Whole messages are answered as they are parsed (no
queue, no task per message); the replies to everything one read brought are written at once.
TLS runs the same protocol under `loop.create_server(ssl=...)`. It is an `asyncio.BufferedProtocol`
reading into one buffer of the edge's (`Edge.read_buffer`), shared by every connection: asyncio's
(and uvloop's) TLS layer then decrypts straight into it instead of allocating a bytes object per
read, and so does the plain socket (`recv_into`). Sharing is safe because a read is handed over
synchronously and both sans-I/O parsers copy what they are given into their own buffers before
returning; bytes that must wait (reading is held) are copied out.
"""

from __future__ import annotations

import asyncio
import http
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import h11
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import OPEN
from websockets.server import ServerProtocol

from ..server.state import ServerState
from .http import HttpHandler, HttpRequest, HttpResponse, WebSocketApp, WebSocketSession, format_peer
from .routes import Route, RouteTable


class Edge(Protocol):
    """What a connection needs of the edge that accepted it (`edge.server.Edge` is the one)."""

    state: ServerState
    read_buffer: memoryview
    http_routes: RouteTable[HttpHandler]
    websocket_routes: RouteTable[WebSocketApp]

    def not_found(self, request: HttpRequest) -> HttpResponse: ...

    def connection_made(self, connection: EdgeConnection) -> None: ...

    def websocket_opened(self, connection: EdgeConnection) -> None: ...

    def connection_lost(self, connection: EdgeConnection) -> None: ...


logger = logging.getLogger(__name__)

# websockets logs request headers (Authorization!) and frame payloads at DEBUG: secrets must never
# reach a log, so its per-connection logger is held at WARNING whatever the application's level.
_WIRE_LOGGER = logging.getLogger("xentara_ws.edge.wire")
_WIRE_LOGGER.setLevel(logging.WARNING)

_TEXT = Opcode.TEXT
_BINARY = Opcode.BINARY
_CONT = Opcode.CONT
_MAX_HEADER_BYTES = 16 * 1024


def _phrase(status: int) -> bytes:
    try:
        return http.HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


def _select_subprotocol(protocol: ServerProtocol, offered: Any) -> Any:
    """The first of the route's sub-protocols the client offers; none is fine too (spec 10.10)."""
    for subprotocol in protocol.available_subprotocols or ():
        if subprotocol in offered:
            return subprotocol
    return None


class EdgeConnection(asyncio.BufferedProtocol):
    """The edge's side of one TCP connection; it is also the WebSocketChannel its WebSocket app gets."""

    def __init__(self, edge: Edge) -> None:
        self._edge = edge
        self._limits = edge.state.limits
        self._budget = edge.state.budget
        self._buffered = 0
        """This connection's share of the server's outgoing-bytes budget (its transport's write buffer)."""
        self._transport: asyncio.Transport | None = None
        self.peer = ""
        self.peer_host = ""
        self.secure = False
        self.closed = False
        self._http = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_HEADER_BYTES)
        self._request: h11.Request | None = None
        self._body: list[bytes] = []
        self._body_size = 0
        self._ws: ServerProtocol | None = None
        self._session: WebSocketSession | None = None
        self._fragments: list[bytes] | None = None
        self._fragments_text = False
        self._held = False
        self._failed = False
        self._writing_paused = False
        self._waiting: asyncio.Future[Any] | None = None
        self._inbox: list[bytes] = []
        self._backlog: list[Frame] = []
        self._in_batch = False
        self._timer: asyncio.TimerHandle | None = None
        self._stall_timer: asyncio.TimerHandle | None = None
        self._closing_timer: asyncio.TimerHandle | None = None
        self._close_after_response = False
        self._writable_callback: Callable[[], None] | None = None
        self._early: list[bytes | str] | None = None

    # -- asyncio.Protocol ---------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self.peer, self.peer_host = format_peer(transport.get_extra_info("peername"))
        self.secure = transport.get_extra_info("sslcontext") is not None
        self._arm_open_timer()
        self._edge.connection_made(self)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._edge.read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(self._edge.read_buffer[:nbytes])

    def data_received(self, data: bytes | memoryview) -> None:
        """Bytes the client sent (also the entry point of tests that drive a connection by hand)."""
        if self._held:
            self._inbox.append(bytes(data))  # the shared read buffer is reused by the next read
        elif self._ws is not None:
            self._ws_received(data)
        else:
            # h11 and websockets append what they are given to a buffer of their own (`+=`), which any
            # bytes-like object allows; their hints say bytes only.
            self._http.receive_data(data)  # type: ignore[arg-type]
            self._http_events()

    def eof_received(self) -> bool | None:
        ws = self._ws
        if ws is not None:
            ws.receive_eof()
            self._transmit()
            return None  # close the transport: WebSocket never writes after the peer's EOF
        if self._request is not None or self._waiting is not None:
            # A client that half-closed after its request still gets the response, then the close.
            self._close_after_response = True
            return True
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._budget.outgoing_bytes -= self._buffered
        self._buffered = 0
        for timer in (self._timer, self._stall_timer, self._closing_timer):
            if timer is not None:
                timer.cancel()
        if self._waiting is not None:
            self._waiting.cancel()
            self._waiting = None
        if self._ws is not None:
            self._ws.receive_eof()  # idempotent; makes the protocol's state CLOSED
        session, self._session = self._session, None
        if session is not None:
            try:
                session.on_close()
            except Exception:
                logger.exception("the WebSocket app failed when the connection from %s closed", self.peer)
        self._edge.connection_lost(self)

    def pause_writing(self) -> None:
        # Back-pressure: stop handling requests whose replies could not be written, and give the
        # client a bounded time to read before it is dropped as a slow consumer.
        self._writing_paused = True
        self._hold()
        if self._stall_timer is None:
            loop = asyncio.get_running_loop()
            self._stall_timer = loop.call_later(self._limits.send_timeout, self._stalled)

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._account_buffer()
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None
        self._release()
        if self._writable_callback is not None and not self._writing_paused:
            self._writable_callback()

    # -- what a WebSocket app may use (WebSocketChannel) -----------------------------------------------

    def send_binary(self, data: bytes) -> None:
        ws = self._ws
        if ws is None:
            if self._early is not None:
                self._early.append(bytes(data))  # sent during the upgrade: goes out right after the 101
            return
        if ws.state is not OPEN:
            return  # closing: nobody will read it
        ws.send_binary(data)
        if not self._in_batch:
            self._transmit()

    def send_text(self, text: str) -> None:
        ws = self._ws
        if ws is None:
            if self._early is not None:
                self._early.append(text)
            return
        if ws.state is not OPEN:
            return
        ws.send_text(text.encode())
        if not self._in_batch:
            self._transmit()

    def send_messages(self, messages: list[bytes]) -> None:
        """Several binary messages in one write (events fanned out to many connections).

        This runs once per subscriber and change, so it does only what an open connection needs:
        binary frames never move websockets' state, so no close can be due after them.
        """
        ws = self._ws
        if ws is None or ws.state is not OPEN:
            return
        send = ws.send_binary
        for message in messages:
            send(message)
        if self._in_batch:
            return
        transport = self._transport
        if transport is None or transport.is_closing():
            ws.data_to_send()  # nobody will read it
            return
        chunks = ws.data_to_send()
        transport.write(chunks[0] if len(chunks) == 1 else b"".join(chunks))
        if self._buffered or transport.get_write_buffer_size():
            self._account_buffer()

    def send_due(self, collect: Callable[[int], list[bytes]], now: int) -> bool:
        """If the client takes messages now, send what `collect(now)` returns in one write.

        False, without calling `collect`, while it does not (back-pressure, closing): what is due
        then stays with the caller. One call per subscriber and change, so it is kept flat.
        """
        ws = self._ws
        if ws is None or self._writing_paused or self.closed or ws.state is not OPEN:
            return False
        messages = collect(now)
        if not messages:
            return True
        send = ws.send_binary
        for message in messages:
            send(message)
        if self._in_batch:
            return True
        transport = self._transport
        chunks = ws.data_to_send()
        if transport is None or transport.is_closing():
            return True
        transport.write(chunks[0] if len(chunks) == 1 else b"".join(chunks))
        if self._buffered or transport.get_write_buffer_size():
            self._account_buffer()
        return True

    @property
    def writable(self) -> bool:
        """Whether a message sent now goes out without waiting: open, and the client reads."""
        ws = self._ws
        return ws is not None and ws.state is OPEN and not self._writing_paused and not self.closed

    def watch_writable(self, callback: Callable[[], None] | None) -> None:
        """Call `callback` whenever the client reads again after back-pressure."""
        self._writable_callback = callback

    @property
    def write_buffer_size(self) -> int:
        """Bytes written but not yet taken by the operating system."""
        transport = self._transport
        return 0 if transport is None else transport.get_write_buffer_size()

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the closing handshake (WebSocket) or close after the current response (HTTP)."""
        ws = self._ws
        transport = self._transport
        if transport is None or self.closed:
            return
        if ws is None:
            if self._request is None and self._waiting is None:
                transport.close()
            else:
                self._close_after_response = True
            return
        if ws.state is OPEN:
            ws.send_close(code, reason)
            self._transmit()
        # The client's close frame has to be read, whatever held reading for back-pressure.
        if not transport.is_closing():
            transport.resume_reading()
        self._arm_closing_timer()

    def shutdown(self) -> None:
        """The server stops: 1001 to WebSocket clients; a client that does not read is dropped at once."""
        if self.closed or self._transport is None:
            return
        if self._writing_paused:
            self._transport.abort()
        else:
            self.close(1001, "server shutting down")

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    # -- HTTP -------------------------------------------------------------------------------------

    def _http_events(self) -> None:
        conn = self._http
        while not self._held and self._ws is None and not self.closed:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as error:
                self._http_error(error.error_status_hint, f"{error}")
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            kind = type(event)
            if kind is h11.Request:
                assert isinstance(event, h11.Request)
                self._request = event
                self._body = []
                self._body_size = 0
                length = next((v for n, v in event.headers if n == b"content-length"), None)
                if length is not None and int(length) > self._limits.max_message_size:
                    self._too_large()
                    return
            elif kind is h11.Data:
                assert isinstance(event, h11.Data)
                self._body_size += len(event.data)
                if self._body_size > self._limits.max_message_size:
                    self._too_large()
                    return
                self._body.append(bytes(event.data))
            elif kind is h11.EndOfMessage:
                self._cancel_open_timer()
                self._serve_request()
            elif kind is h11.ConnectionClosed:
                if self._transport is not None:
                    self._transport.close()
                return

    def _http_error(self, status: int, reason: str) -> None:
        logger.debug("bad HTTP request from %s: %s", self.peer, reason)
        if self._http.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            self._respond(HttpResponse.text(f"{http.HTTPStatus(status).phrase}: {reason}\n", status), close=True)
        elif self._transport is not None:
            self._transport.close()

    def _too_large(self) -> None:
        limit = self._limits.max_message_size
        self._respond(HttpResponse.text(f"Payload Too Large: the limit is {limit} bytes\n", 413), close=True)

    def _serve_request(self) -> None:
        event = self._request
        assert event is not None
        target = event.target.decode("latin-1")
        path, _, query = target.partition("?")
        request = HttpRequest(
            method=event.method.decode("latin-1"),
            target=target,
            path=path,
            query=query,
            headers=tuple((n.decode("latin-1"), v.decode("latin-1")) for n, v in event.headers),
            body=b"".join(self._body),
            peer=self.peer,
            peer_host=self.peer_host,
            secure=self.secure,
        )
        self._body = []
        edge = self._edge
        ws_route = edge.websocket_routes.find(path)
        http_route = edge.http_routes.find(path)
        if ws_route is not None and (http_route is None or request.header("upgrade") is not None):
            self._upgrade(event, request, ws_route)
            return
        if http_route is None:
            self._respond(edge.not_found(request))
            return
        try:
            result = http_route.target(request)
        except Exception:
            logger.exception("the handler of %s %s failed", request.method, path)
            result = HttpResponse.text("Internal Server Error\n", 500)
        if isinstance(result, HttpResponse):
            self._respond(result)
        else:
            self._await(result, self._http_reply_ready)

    def _http_reply_ready(self, future: asyncio.Future[Any]) -> None:
        try:
            response = future.result()
        except Exception:
            logger.exception("an HTTP handler failed (request from %s)", self.peer)
            response = HttpResponse.text("Internal Server Error\n", 500)
        self._respond(response)

    def _respond(self, response: HttpResponse, *, close: bool = False) -> None:
        conn = self._http
        transport = self._transport
        if transport is None or self.closed:
            return
        close = close or self._close_after_response
        headers = [(n, v) for n, v in response.headers if n.lower() not in ("content-length", "connection")]
        headers.append(("Content-Length", str(len(response.body))))
        if close:
            headers.append(("Connection", "close"))
        head = self._request is not None and self._request.method == b"HEAD"
        try:
            start = h11.Response(status_code=response.status, headers=headers, reason=_phrase(response.status))
            data = conn.send(start)
            if response.body and not head:
                data = (data or b"") + (conn.send(h11.Data(data=response.body)) or b"")
            data = (data or b"") + (conn.send(h11.EndOfMessage()) or b"")
        except h11.LocalProtocolError as error:
            logger.error("cannot answer %s: %s", self.peer, error)
            transport.abort()
            return
        transport.write(data)
        self._request = None
        if close or conn.our_state is h11.MUST_CLOSE:
            transport.close()
            return
        if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            conn.start_next_cycle()
            self._arm_open_timer()

    # -- the upgrade ----------------------------------------------------------------------------------

    def _upgrade(self, event: h11.Request, request: HttpRequest, route: Route[WebSocketApp]) -> None:
        ws = ServerProtocol(
            subprotocols=list(route.subprotocols) or None,  # type: ignore[arg-type]
            select_subprotocol=_select_subprotocol,
            max_size=self._limits.max_message_size,
            logger=_WIRE_LOGGER,
        )
        # websockets parses the handshake itself from the request h11 has read (documented sans-I/O use).
        head = [event.method, b" ", event.target, b" HTTP/1.1\r\n"]
        for name, value in event.headers:
            head += [name, b": ", value, b"\r\n"]
        head.append(b"\r\n")
        ws.receive_data(b"".join(head))
        received = ws.events_received()
        if not received or not isinstance(received[0], Request):
            self._write_raw(ws.data_to_send())  # websockets refused the request itself (e.g. 431)
            return
        handshake = ws.accept(received[0])
        if handshake.status_code != 101:
            body = handshake.body or b""
            extra = [(n, v) for n, v in handshake.headers.raw_items() if n.lower() in ("allow", "upgrade")]
            self._respond(HttpResponse.text(body.decode(errors="replace"), handshake.status_code, extra), close=True)
            return
        self._early = []
        try:
            result = route.target(request, self)
        except Exception:
            logger.exception("the WebSocket app of %s failed at the upgrade", request.path)
            result = HttpResponse.text("Internal Server Error\n", 500)

        def finish(outcome: Any) -> None:
            early, self._early = self._early or [], None
            if isinstance(outcome, HttpResponse):
                self._respond(outcome, close=True)
                return
            trailing, _ = self._http.trailing_data
            self._session = outcome
            self._ws = ws
            self._request = None
            ws.send_response(handshake)
            for message in early:
                if type(message) is str:
                    ws.send_text(message.encode())
                else:
                    ws.send_binary(message)  # type: ignore[arg-type]
            self._edge.websocket_opened(self)
            self._transmit()
            if trailing:
                self._inbox.insert(0, bytes(trailing))

        if isinstance(result, HttpResponse) or not inspect.isawaitable(result):
            finish(result)
            if self._ws is not None and self._inbox:
                self._drain_inbox()
        else:
            self._await(result, lambda future: finish(self._upgrade_outcome(future)))

    def _upgrade_outcome(self, future: asyncio.Future[Any]) -> Any:
        try:
            return future.result()
        except Exception:
            logger.exception("the WebSocket app failed at the upgrade (request from %s)", self.peer)
            return HttpResponse.text("Internal Server Error\n", 500)

    # -- WebSocket --------------------------------------------------------------------------------

    def _ws_received(self, data: bytes | memoryview) -> None:
        ws = self._ws
        assert ws is not None
        ws.receive_data(data)  # type: ignore[arg-type]  # a bytes-like: see data_received
        self._frames_received(ws.events_received())

    def _frames_received(self, frames: list[Any]) -> None:
        """Handle what websockets parsed, then write every reply it produced in one go."""
        self._in_batch = True
        try:
            self._handle_frames(frames)
        finally:
            self._in_batch = False
            self._transmit()

    def _handle_frames(self, frames: list[Any]) -> None:
        for index, frame in enumerate(frames):
            opcode = frame.opcode
            if opcode is _BINARY or opcode is _TEXT:
                if frame.fin:
                    self._message(frame.data, opcode is _TEXT)
                else:
                    self._fragments = [bytes(frame.data)]
                    self._fragments_text = opcode is _TEXT
            elif opcode is _CONT and self._fragments is not None:
                self._fragments.append(bytes(frame.data))
                if frame.fin:
                    data, self._fragments = b"".join(self._fragments), None
                    self._message(data, self._fragments_text)
            if self._held:
                self._backlog = frames[index + 1 :]
                return
            if self._failed:
                return

    def _message(self, data: bytes, text: bool) -> None:
        ws = self._ws
        session = self._session
        if session is None or ws is None or self._failed:
            return
        # A message that arrived before the client's close frame is still handled (a write in it
        # takes effect); its reply is dropped, as websockets has already answered the close.
        payload: bytes | str = data
        if text:
            try:
                payload = bytes(data).decode()
            except UnicodeDecodeError as error:
                self._fail(1007, f"{error.reason} at position {error.start}")  # as websockets' own reader does
                return
        try:
            reply = session.on_message(payload)
        except Exception:
            logger.exception("the WebSocket app failed on a message from %s", self.peer)
            self._fail(1011)
            return
        if reply is None:
            return
        kind = type(reply)
        if kind is bytes:
            if ws.state is OPEN:
                ws.send_binary(reply)  # type: ignore[arg-type]
        elif kind is str:
            if ws.state is OPEN:
                ws.send_text(reply.encode())  # type: ignore[union-attr]
        else:
            self._await(reply, self._ws_reply_ready)  # type: ignore[arg-type]

    def _fail(self, code: int, reason: str = "") -> None:
        ws = self._ws
        self._failed = True
        if ws is not None and ws.state is OPEN:
            ws.fail(code, reason)
        self._arm_closing_timer()

    def _ws_reply_ready(self, future: asyncio.Future[Any]) -> None:
        try:
            reply = future.result()
        except Exception:
            logger.exception("the WebSocket app failed on a message from %s", self.peer)
            self._fail(1011)
            self._transmit()
            return
        if reply is None:
            return
        if type(reply) is str:
            self.send_text(reply)
        else:
            self.send_binary(reply)

    # -- holding message handling -------------------------------------------------------------------

    def _await(self, awaitable: Awaitable[Any], done: Callable[[asyncio.Future[Any]], None]) -> None:
        """Hold the connection's message handling until `awaitable` resolves: order is kept, reading pauses."""
        future = asyncio.ensure_future(awaitable)
        self._waiting = future
        self._hold()

        def resolved(resolved_future: asyncio.Future[Any]) -> None:
            if self.closed:
                # The client left while an upgrade was being admitted: a session made for it ends now.
                if not resolved_future.cancelled() and resolved_future.exception() is None:
                    outcome = resolved_future.result()
                    if not isinstance(outcome, HttpResponse | bytes | str) and hasattr(outcome, "on_close"):
                        outcome.on_close()
                return
            if self._waiting is not resolved_future:
                return
            self._waiting = None
            done(resolved_future)
            self._release()

        future.add_done_callback(resolved)

    def _hold(self) -> None:
        self._held = True
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.pause_reading()

    def _release(self) -> None:
        if not self._held or self._writing_paused or self._waiting is not None or self.closed:
            return
        self._held = False
        if self._ws is not None:
            backlog, self._backlog = self._backlog, []
            if backlog:
                self._frames_received(backlog)
            if not self._held:
                self._drain_inbox()
        else:
            while self._inbox and not self._held and self._ws is None:
                self._http.receive_data(self._inbox.pop(0))
            self._http_events()
            if self._ws is not None:
                self._drain_inbox()
        transport = self._transport
        if not self._held and transport is not None and not transport.is_closing():
            transport.resume_reading()

    def _drain_inbox(self) -> None:
        while self._inbox and not self._held and not self.closed:
            self._ws_received(self._inbox.pop(0))

    # -- writing ------------------------------------------------------------------------------------

    def _transmit(self) -> None:
        ws = self._ws
        if ws is None:
            return
        self._write_raw(ws.data_to_send())
        if ws.close_expected():
            self._arm_closing_timer()

    def _write_raw(self, chunks: list[bytes]) -> None:
        if not chunks:
            return
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if len(chunks) == 1 and chunks[0]:
            transport.write(chunks[0])
            self._account_buffer()
            return
        data: list[bytes] = []
        for chunk in chunks:
            if chunk:
                data.append(chunk)
                continue
            # websockets asks to end the stream: half-close where TCP allows, else close (TLS).
            if data:
                transport.write(b"".join(data))
                data = []
            if transport.can_write_eof():
                transport.write_eof()
            else:
                transport.close()
            self._arm_closing_timer()
        if data:
            transport.write(b"".join(data))
        self._account_buffer()

    def _account_buffer(self) -> None:
        """Track what the client has not read yet; drop it when its or the server's budget is used up."""
        transport = self._transport
        size = 0 if transport is None or self.closed else transport.get_write_buffer_size()
        budget = self._budget
        budget.outgoing_bytes += size - self._buffered
        self._buffered = size
        if not size:
            return
        limits = self._limits
        if size > limits.max_outgoing_buffer:
            why = f"more than {limits.max_outgoing_buffer} bytes wait for it to read (max_outgoing_buffer)"
        elif budget.outgoing_bytes > limits.max_total_outgoing_buffer:
            why = (
                f"the server's outgoing buffers are full "
                f"(max_total_outgoing_buffer = {limits.max_total_outgoing_buffer} bytes)"
            )
        else:
            return
        logger.warning("disconnecting %s: %s (slow consumer)", self.peer, why)
        # A close frame would wait behind everything the client did not read: free the memory now.
        self.abort()

    # -- timers -------------------------------------------------------------------------------------

    def _arm_open_timer(self) -> None:
        self._cancel_open_timer()
        self._timer = asyncio.get_running_loop().call_later(self._limits.open_timeout, self._open_timed_out)

    def _cancel_open_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _open_timed_out(self) -> None:
        self._timer = None
        if self._ws is None and self._transport is not None:
            timeout = self._limits.open_timeout
            logger.info("closing connection from %s: no complete request in %.1f s", self.peer, timeout)
            self._transport.close()

    def _arm_closing_timer(self) -> None:
        if self._closing_timer is None and not self.closed:
            loop = asyncio.get_running_loop()
            self._closing_timer = loop.call_later(self._limits.close_timeout, self._closing_timed_out)

    def _closing_timed_out(self) -> None:
        logger.info("aborting connection from %s: the closing handshake took too long", self.peer)
        self.abort()

    def _stalled(self) -> None:
        self._stall_timer = None
        logger.warning(
            "disconnecting %s: it read nothing for %.0f s (slow consumer)", self.peer, self._limits.send_timeout
        )
        # A close frame would wait behind everything the client did not read: drop the connection.
        self._fail(1008, "slow consumer")
        self.abort()

"""One raw WebSocket to the server under test, opened with the client library's TLS and credentials.

The kit sends bytes it builds itself (so it can send what `XentaraClient` never would) and reads
whole messages, keeping event messages apart from replies as spec section 2 rule 4 requires.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from ..client.tls import build_ssl_context, check_fingerprint
from ..client.types import ConnectionFailed
from .wire import WireError, decode_raw, encode


@dataclass(frozen=True)
class Target:
    """Where and as whom to connect."""

    url: str
    user: str | None = None
    password: str | None = None
    token: str | None = None
    insecure: bool = False
    ca_file: str | None = None
    fingerprint: str | None = None
    timeout: float = 5.0
    ssl_context: ssl.SSLContext | None = field(default=None, compare=False)

    def context(self) -> ssl.SSLContext | None:
        if not self.url.startswith("wss:"):
            return None
        if self.ssl_context is None:
            # Built once per run: every case connects, and --insecure warns once, not per connection.
            object.__setattr__(
                self,
                "ssl_context",
                build_ssl_context(ca_file=self.ca_file, fingerprint=self.fingerprint, insecure=self.insecure),
            )
        return self.ssl_context

    def headers(self, *, credentials: bool = True) -> dict[str, str]:
        if not credentials:
            return {}
        if self.token is not None:
            return {"Authorization": f"Bearer {self.token}"}
        if self.user is not None:
            pair = f"{self.user}:{self.password or ''}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
        return {}

    @property
    def has_credentials(self) -> bool:
        return self.token is not None or self.user is not None

    def http_url(self, path: str) -> str:
        """The same host and port with another path, as http(s)."""
        scheme, rest = self.url.split("://", 1)
        host = rest.split("/", 1)[0]
        return f"{'https' if scheme == 'wss' else 'http'}://{host}{path}"

    def ws_url(self, path: str) -> str:
        scheme, rest = self.url.split("://", 1)
        return f"{scheme}://{rest.split('/', 1)[0]}{path}"


@dataclass
class Received:
    """One message from the server: its bytes (or text) and, when it decoded, the item."""

    data: bytes | str
    item: Any = None
    decoded: bool = False
    at: float = 0.0  # monotonic seconds when it arrived

    @property
    def is_events(self) -> bool:
        return (
            self.decoded
            and isinstance(self.item, list)
            and bool(self.item)
            and all(isinstance(p, list) and p and p[0] == 8 for p in self.item)
        )


class Closed(Exception):
    """The server closed the connection (code and reason kept)."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"connection closed by the server (code {code}{', ' + reason if reason else ''})")
        self.code = code
        self.reason = reason


class Connection:
    """A raw connection: send messages, receive replies; events are queued on the side."""

    def __init__(self, ws: ClientConnection, timeout: float) -> None:
        self.ws = ws
        self.timeout = timeout
        self.events: list[Received] = []
        self.next_id = 1000

    @classmethod
    async def open(
        cls, target: Target, *, path: str | None = None, credentials: bool = True, subprotocols: list[str] | None = None
    ) -> Connection:
        url = target.url if path is None else target.ws_url(path)
        try:
            ws = await connect(
                url,
                ssl=target.context(),
                additional_headers=target.headers(credentials=credentials),
                subprotocols=[Subprotocol(s) for s in subprotocols] if subprotocols else None,
                open_timeout=target.timeout,
                max_size=None,
                compression=None,
                ping_interval=None,
            )
        except InvalidStatus:
            raise
        except ssl.SSLError as error:
            raise ConnectionFailed("tls", f"TLS handshake failed: {error.reason or error}") from None
        except TimeoutError:
            raise ConnectionFailed("timeout", f"no answer from {url} within {target.timeout:g} s") from None
        except OSError as error:
            raise ConnectionFailed("os", f"cannot connect to {url}: {error}") from None
        if target.fingerprint is not None:
            try:
                check_fingerprint(ws, target.fingerprint)
            except ConnectionFailed:
                await ws.close()
                raise
        return cls(ws, target.timeout)

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    async def send(self, data: bytes | str) -> None:
        try:
            await self.ws.send(data)
        except ConnectionClosed as closed:
            raise Closed(closed.rcvd.code if closed.rcvd else None, closed.rcvd.reason if closed.rcvd else "") from None

    async def receive(self, timeout: float | None = None) -> Received:
        """The next message of any kind."""
        try:
            data = await asyncio.wait_for(self.ws.recv(), self.timeout if timeout is None else timeout)
        except ConnectionClosed as closed:
            raise Closed(closed.rcvd.code if closed.rcvd else None, closed.rcvd.reason if closed.rcvd else "") from None
        message = Received(data, at=time.monotonic())
        if isinstance(data, bytes):
            try:
                message.item = decode_raw(data)
                message.decoded = True
            except WireError:
                pass
        return message

    async def reply(self, timeout: float | None = None) -> Received:
        """The next message that is not an event message (events are kept in `.events`)."""
        while True:
            message = await self.receive(timeout)
            if message.is_events:
                self.events.append(message)
                continue
            return message

    async def call(self, packet: list[Any]) -> Any:
        """Send one packet alone, return its reply packet (or the whole reply when it is not one packet)."""
        await self.send(encode([packet]))
        message = await self.reply()
        if message.decoded and isinstance(message.item, list) and len(message.item) == 1:
            return message.item[0]
        return message.item

    async def request(self, opcode: int, params: Any = None) -> Any:
        packet: list[Any] = [0, self.new_id(), opcode]
        if params is not None:
            packet.append(params)
        return await self.call(packet)

    async def hello(self) -> Any:
        return await self.request(14, {0: 1, 1: 1})

    async def event_messages(self, duration: float) -> list[Received]:
        """Every event message that arrives within `duration` seconds (plus those queued already)."""
        deadline = time.monotonic() + duration
        collected, self.events = self.events, []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return collected
            try:
                message = await self.receive(left)
            except TimeoutError:
                return collected
            if message.is_events:
                collected.append(message)

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.ws.close(1000, "closing websocket"), self.timeout)
        except (TimeoutError, ConnectionClosed, OSError):
            pass

    @property
    def close_code(self) -> int | None:
        return self.ws.close_code

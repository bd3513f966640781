"""Helpers for the edge's tests: a fake transport, a sans-I/O WebSocket client, raw sockets and HTTP."""

from __future__ import annotations

import asyncio
import base64
import os
from dataclasses import dataclass, field
from typing import Any

import h11
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import OPEN
from websockets.uri import parse_uri

from xentara_ws.edge.connection import EdgeConnection
from xentara_ws.edge.server import Edge
from xentara_ws.protocol.codec import encode

HELLO = encode([[0, 1, 14, {0: 1, 1: 1}]])
STAGE = encode([[0, 2, 8]])


def raw_frame(payload: bytes, opcode: int = 2, fin: bool = True, mask: bytes | None = b"\x11\x22\x33\x44") -> bytes:
    """A client frame built by hand: only for frames a well-behaved library would refuse to send."""
    length = len(payload)
    first = (0x80 if fin else 0) | opcode
    mask_bit = 0x80 if mask is not None else 0
    if length < 126:
        header = bytes((first, mask_bit | length))
    elif length < 0x10000:
        header = bytes((first, mask_bit | 126)) + length.to_bytes(2, "big")
    else:
        header = bytes((first, mask_bit | 127)) + length.to_bytes(8, "big")
    if mask is None:
        return header + payload
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class WireClient:
    """A WebSocket client made of websockets' sans-I/O ClientProtocol: it builds the bytes a client
    sends and parses the bytes a server writes, so tests need no frame parser of their own."""

    def __init__(self, path: str = "/api/ws", headers: list[tuple[str, str]] | None = None) -> None:
        self.protocol = ClientProtocol(parse_uri(f"ws://127.0.0.1{path}"), max_size=None)
        request = self.protocol.connect()
        for name, value in headers or []:
            request.headers[name] = value
        self.protocol.send_request(request)
        self.handshake_bytes = b"".join(self.protocol.data_to_send())
        # Frames are built by a second protocol object that is open from the start, so that they can
        # travel with the upgrade request; `protocol` parses what the server writes.
        self.framer = ClientProtocol(parse_uri(f"ws://127.0.0.1{path}"), state=OPEN)
        self.response: Response | None = None

    def out(self) -> bytes:
        return b"".join(self.framer.data_to_send())

    def handshake(self) -> bytes:
        return self.handshake_bytes

    def binary(self, data: bytes, fin: bool = True) -> bytes:
        self.framer.send_binary(data, fin)
        return self.out()

    def continuation(self, data: bytes, fin: bool) -> bytes:
        self.framer.send_continuation(data, fin)
        return self.out()

    def text(self, text: str) -> bytes:
        self.framer.send_text(text.encode())
        return self.out()

    def ping(self, data: bytes) -> bytes:
        self.framer.send_ping(data)
        return self.out()

    def close(self, code: int = 1000) -> bytes:
        self.framer.send_close(code)
        return self.out()

    def receive(self, data: bytes) -> list[Frame]:
        """Frames in what the server wrote (the handshake response is kept in .response)."""
        if data:
            self.protocol.receive_data(data)
        frames = []
        for event in self.protocol.events_received():
            if isinstance(event, Response):
                self.response = event
            else:
                frames.append(event)
        return frames

    def receive_eof(self) -> None:
        self.protocol.receive_eof()


def data_frames(frames: list[Frame]) -> list[bytes]:
    return [bytes(f.data) for f in frames if f.opcode is Opcode.BINARY or f.opcode is Opcode.TEXT]


@dataclass
class FakeTransport:
    """What the edge's protocol writes to, recorded; flow control is driven by the test."""

    peer: tuple[str, int] = ("127.0.0.1", 40000)
    written: bytearray = field(default_factory=bytearray)
    writes: int = 0
    reading: bool = True
    eof_written: bool = False
    closing: bool = False
    aborted: bool = False
    protocol: Any = None

    def write(self, data: bytes) -> None:
        assert not self.closing or not self.aborted
        self.written += data
        self.writes += 1

    def take(self) -> bytes:
        data, self.written = bytes(self.written), bytearray()
        return data

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof_written = True

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = self.aborted = True
        if self.protocol is not None:
            protocol, self.protocol = self.protocol, None
            protocol.connection_lost(None)

    def is_closing(self) -> bool:
        return self.closing

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": self.peer}.get(name, default)

    def get_write_buffer_size(self) -> int:
        return 0


def attach(edge: Edge) -> tuple[EdgeConnection, FakeTransport]:
    """A connection of `edge` on a fake transport (call inside a running event loop)."""
    connection = EdgeConnection(edge)
    transport = FakeTransport()
    transport.protocol = connection
    connection.connection_made(transport)  # type: ignore[arg-type]
    return connection, transport


def open_websocket(
    edge: Edge, path: str = "/api/ws", first: bytes = b""
) -> tuple[EdgeConnection, FakeTransport, WireClient]:
    """An upgraded connection on a fake transport; `first` travels with the upgrade request."""
    connection, transport = attach(edge)
    client = WireClient(path)
    connection.data_received(client.handshake() + first)
    return connection, transport, client


def websocket_key() -> str:
    return base64.b64encode(os.urandom(16)).decode()


def upgrade_request(path: str = "/api/ws", headers: list[tuple[str, str]] | None = None) -> bytes:
    lines = [
        f"GET {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {websocket_key()}",
        "Sec-WebSocket-Version: 13",
    ]
    lines += [f"{name}: {value}" for name, value in headers or []]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class HttpClient:
    """HTTP/1.1 over one real socket, parsed with h11 (keep-alive aware)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.conn = h11.Connection(h11.CLIENT)

    @classmethod
    async def open(cls, port: int) -> HttpClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def request(
        self, method: str, target: str, headers: list[tuple[str, str]] | None = None, body: bytes = b""
    ) -> tuple[h11.Response, bytes]:
        if self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE:
            self.conn.start_next_cycle()
        all_headers = [("Host", "127.0.0.1"), *(headers or [])]
        if body:
            all_headers.append(("Content-Length", str(len(body))))
        data = self.conn.send(h11.Request(method=method, target=target, headers=all_headers)) or b""
        if body:
            data += self.conn.send(h11.Data(data=body)) or b""
        data += self.conn.send(h11.EndOfMessage()) or b""
        self.writer.write(data)
        return await self.response()

    async def response(self, timeout: float = 5) -> tuple[h11.Response, bytes]:
        response: h11.Response | None = None
        body = b""
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                self.conn.receive_data(await asyncio.wait_for(self.reader.read(65536), timeout))
                continue
            if isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                assert response is not None
                return response, body
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionError("the server closed the connection")

    def close(self) -> None:
        self.writer.close()


async def read_until_closed(reader: asyncio.StreamReader, timeout: float) -> bytes:
    """Everything the server sends until it closes (EOF or reset), within `timeout`."""
    data = b""
    async with asyncio.timeout(timeout):
        while True:
            try:
                chunk = await reader.read(65536)
            except ConnectionResetError:
                return data
            if not chunk:
                return data
            data += chunk


def header(response: h11.Response, name: str) -> list[str]:
    wanted = name.lower().encode()
    return [v.decode("latin-1") for n, v in response.headers if n == wanted]

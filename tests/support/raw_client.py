"""A minimal raw protocol client for tests: sends packets, returns decoded replies."""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from xentara_ws.protocol.codec import decode, encode


class RawClient:
    def __init__(self, connection: ClientConnection, sock: socket.socket | None = None) -> None:
        self.connection = connection
        self.sock = sock
        self.next_id = 1
        self.events: list[Any] = []

    @classmethod
    async def open(cls, port: int, *, hello: bool = True, scheme: str = "ws", **kwargs: Any) -> RawClient:
        # The client brings its own socket (connect() hands `sock` to the event loop's create_connection),
        # so that abort() can drop the TCP connection without reaching into the library's transport.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
            connection = await connect(f"{scheme}://127.0.0.1:{port}/api/ws", sock=sock, **kwargs)
        except BaseException:
            sock.close()
            raise
        client = cls(connection, sock)
        if hello:
            reply = await client.request(14, {0: 1, 1: 1})
            assert reply == [1, reply[1], {0: 1}]
        return client

    async def send_raw(self, data: bytes | str) -> Any:
        await self.connection.send(data)
        return await self.receive_response()

    async def receive_response(self, timeout: float = 5) -> Any:
        """The next response message; event messages that arrive first are kept in .events."""
        while True:
            message = decode(await asyncio.wait_for(self.connection.recv(), timeout))
            if message and all(type(p) is list and p and p[0] == 8 for p in message):
                self.events.extend(message)
                continue
            return message

    async def batch(self, *packets: list[Any]) -> list[Any]:
        return await self.send_raw(encode(list(packets)))  # type: ignore[no-any-return]

    async def request(self, opcode: int, params: Any = None) -> list[Any]:
        message_id = self.next_id
        self.next_id += 1
        packet = [0, message_id, opcode] if params is None else [0, message_id, opcode, params]
        reply = await self.batch(packet)
        assert len(reply) == 1
        return reply[0]  # type: ignore[no-any-return]

    async def next_events(self, timeout: float = 5) -> list[Any]:
        if self.events:
            events, self.events = self.events, []
            return events
        message = decode(await asyncio.wait_for(self.connection.recv(), timeout))
        assert all(p[0] == 8 for p in message), f"expected only events, got {message!r}"
        return message  # type: ignore[no-any-return]

    async def close(self) -> None:
        await self.connection.close()

    def abort(self) -> None:
        """Drop the TCP connection at once, with no WebSocket closing handshake: a lost client."""
        assert self.sock is not None
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.shutdown(socket.SHUT_RDWR)

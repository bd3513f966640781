"""Helpers for the fan-out stream's tests: a server whose transports count their writes (public API only)."""

from __future__ import annotations

import asyncio
from typing import Any

from xentara_ws.edge.connection import EdgeConnection
from xentara_ws.edge.server import Edge


class CountingTransport:
    """Wraps the real transport of one connection and counts the `write` calls made on it."""

    def __init__(self, transport: asyncio.Transport, tally: Tally) -> None:
        self._transport = transport
        self._tally = tally

    def write(self, data: bytes) -> None:
        self._tally.writes += 1
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class Tally:
    """What the socket side saw: reads handed to the edge and writes the edge made."""

    def __init__(self) -> None:
        self.reads = 0
        self.writes = 0


class CountingProtocol(asyncio.Protocol):
    """Sits between asyncio and an EdgeConnection: gives it a counting transport, counts reads."""

    def __init__(self, edge: Edge, tally: Tally) -> None:
        self.connection = EdgeConnection(edge)
        self.tally = tally

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.connection.connection_made(CountingTransport(transport, self.tally))  # type: ignore[arg-type]

    def data_received(self, data: bytes) -> None:
        self.tally.reads += 1
        self.connection.data_received(data)

    def eof_received(self) -> bool | None:
        return self.connection.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.connection.connection_lost(exc)

    def pause_writing(self) -> None:
        self.connection.pause_writing()

    def resume_writing(self) -> None:
        self.connection.resume_writing()


async def counting_server(edge: Edge, tally: Tally) -> asyncio.Server:
    """A listening socket on 127.0.0.1 (port 0) serving `edge`, every write counted in `tally`."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: CountingProtocol(edge, tally), "127.0.0.1", 0)

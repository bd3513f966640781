"""Helpers for the conformance-kit tests: real servers to test, and a fault-injecting WebSocket proxy.

The proxy sits between the kit and a real xentara-ws server and changes what passes through, so each
deviation from the reference is built from the outside, through public interfaces only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import cbor2
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from support.servers import running, served
from xentara_ws.conformance.wire import WireError, decode_raw
from xentara_ws.model.loader import load_model
from xentara_ws.model.simulation import Simulation
from xentara_ws.server.app import XentaraServer

# A message from one side: return the messages to pass on instead (empty: drop it).
Rewrite = Callable[[dict[str, Any], Any], list[Any]]


def sample_credentials(config: Path) -> tuple[str, str]:
    websocket = json.loads((config / "client-credentials.json").read_text())["websocket"]
    return websocket["username"], websocket["password"]


@contextlib.asynccontextmanager
async def served_config(config: Path | None, state_dir: Path, *extra: str) -> AsyncIterator[XentaraServer]:
    """A configuration folder (None: the built-in demo) served over TLS as `xentara-ws serve` does."""
    options = ["--state-dir", str(state_dir), *extra]
    if config is not None:
        options += ["--config", str(config)]
    async with served(*options) as server:
        yield server


@contextlib.asynccontextmanager
async def served_model(model_file: Path) -> AsyncIterator[XentaraServer]:
    """A model alone over plain ws:// with no security (everyone may do everything)."""
    model = load_model(model_file)
    async with running(model, simulation=Simulation(model)) as server:
        yield server


class FaultProxy:
    """ws://127.0.0.1:PORT/api/ws → the real server; `to_server`/`to_client` rewrite decoded messages.

    Each connection has its own state dict, handed to the rewrites. Messages that do not decode pass
    through unchanged.
    """

    def __init__(
        self,
        upstream: str,
        *,
        to_server: Rewrite | None = None,
        to_client: Rewrite | None = None,
        upstream_ssl: ssl.SSLContext | None = None,
    ) -> None:
        self.upstream = upstream
        self.to_server = to_server
        self.to_client = to_client
        self.upstream_ssl = upstream_ssl
        self.port = 0
        self.listener: Any = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/ws"

    async def __aenter__(self) -> FaultProxy:
        self.listener = await serve(self.handle, "127.0.0.1", 0, max_size=None, compression=None)
        self.port = self.listener.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.listener.close(close_connections=True)
        await self.listener.wait_closed()

    async def handle(self, client: ServerConnection) -> None:
        headers = {}
        if client.request is not None and client.request.headers.get("Authorization"):
            headers["Authorization"] = client.request.headers["Authorization"]
        state: dict[str, Any] = {"upstream": None}
        async with connect(
            self.upstream, additional_headers=headers, ssl=self.upstream_ssl, max_size=None, compression=None
        ) as server:
            state["upstream"] = server
            pumps = [
                asyncio.create_task(self.pump(client, server, self.to_server, state)),
                asyncio.create_task(self.pump(server, client, self.to_client, state)),
            ]
            _, pending = await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await client.close()

    @staticmethod
    async def pump(source: Any, sink: Any, rewrite: Rewrite | None, state: dict[str, Any]) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in source:
                outgoing: list[Any] = [message]
                if rewrite is not None and isinstance(message, bytes):
                    try:
                        item = decode_raw(message)
                    except WireError:
                        item = None
                    if item is not None:
                        outgoing = [cbor2.dumps(m) for m in rewrite(state, item)]
                for data in outgoing:
                    await sink.send(data)


# -- the deviations --------------------------------------------------------------------------------


def _packets(item: Any) -> list[Any]:
    return item if isinstance(item, list) else []


def wrong_unsubscribe_error(state: dict[str, Any], item: Any) -> list[Any]:
    """Unknown subscription ids answered with -32602 instead of -32110."""
    for packet in _packets(item):
        if isinstance(packet, list) and len(packet) == 3 and packet[0] == 2 and isinstance(packet[2], dict):
            if packet[2].get(0) == -32110:
                packet[2][0] = -32602
    return [item]


def no_initial_event(state: dict[str, Any], item: Any) -> list[Any]:
    """The first event of every (subscription, element) pair is swallowed."""
    seen: set[Any] = state.setdefault("seen", set())
    kept = []
    for packet in _packets(item):
        if isinstance(packet, list) and packet[:1] == [8] and isinstance(packet[2], dict):
            key = (packet[2].get(0), packet[2].get(1))
            if key not in seen:
                seen.add(key)
                continue
        kept.append(packet)
    if _packets(item) and not kept:
        return []
    return [kept if isinstance(item, list) else item]


_PROXY_HELLO_ID = 987654321


def skip_hello_gating(state: dict[str, Any], item: Any) -> list[Any]:
    """to_server: a connection that did not say client_hello gets one said for it by the proxy."""
    if state.get("hello"):
        return [item]
    state["hello"] = True
    if any(isinstance(p, list) and len(p) > 2 and p[2] == 14 for p in _packets(item)):
        return [item]
    state["swallow"] = True
    return [[[0, _PROXY_HELLO_ID, 14, {0: 1, 1: 1}]], item]


def hide_proxy_hello(state: dict[str, Any], item: Any) -> list[Any]:
    """to_client: the reply to the proxy's own client_hello is not shown."""
    if state.pop("swallow", False):
        packets = _packets(item)
        if len(packets) == 1 and isinstance(packets[0], list) and packets[0][1:2] == [_PROXY_HELLO_ID]:
            return []
    return [item]


def seconds_time_stamps(state: dict[str, Any], item: Any) -> list[Any]:
    """Every 1001({4: 4([-9, ns])}) becomes tag 1 with float seconds."""

    def convert(value: Any) -> Any:
        if isinstance(value, cbor2.CBORTag):
            inner = value.value
            if value.tag == 1001 and isinstance(inner, dict) and set(inner) == {4}:
                fraction = inner[4]
                if isinstance(fraction, cbor2.CBORTag) and fraction.tag == 4:
                    return cbor2.CBORTag(1, fraction.value[1] / 1e9)
            return cbor2.CBORTag(value.tag, convert(inner))
        if isinstance(value, list):
            return [convert(v) for v in value]
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        return value

    return [convert(item)]


def ignore_max_update_rate(state: dict[str, Any], item: Any) -> list[Any]:
    """to_server: key 1 (maximum_update_rate) is dropped from every subscribe."""
    for packet in _packets(item):
        if isinstance(packet, list) and len(packet) == 4 and packet[2] == 6 and isinstance(packet[3], dict):
            packet[3].pop(1, None)
    return [item]


def mix_events_into_replies(state: dict[str, Any], item: Any) -> list[Any]:
    """to_client: event messages are held back and sent along with the next reply, in one message."""
    packets = _packets(item)
    if packets and all(isinstance(p, list) and p[:1] == [8] for p in packets):
        state.setdefault("held", []).extend(packets)
        return []
    held = state.pop("held", [])
    return [held + packets] if held and packets else [item]

"""Load generators for the benchmarks: lean raw WebSocket clients, and an asyncua client.

The WebSocket clients send pre-encoded frames (masked with the all-zero key, which RFC 6455
allows) and only parse frame headers, so the load generator costs far less than the server it
drives. Run as `python loadgen.py MODE JSON-ARGS`; prints one JSON object with the figures.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import ssl
import struct
import sys
import time
import uuid
from typing import Any

import cbor2

sys.path.insert(0, os.path.dirname(__file__))
from make_model import element_uuid
from servers import LEVEL_UUID, READ_ATTRIBUTES, SETPOINT_UUID, use_uvloop

_UNPACK_DOUBLE = struct.Struct(">d").unpack_from


def client_frame(payload: bytes) -> bytes:
    """A masked binary frame with the zero masking key (so the payload is sent as is)."""
    length = len(payload)
    if length < 126:
        header = bytes((0x82, 0x80 | length))
    elif length < 65536:
        header = bytes((0x82, 0x80 | 126)) + length.to_bytes(2, "big")
    else:
        header = bytes((0x82, 0x80 | 127)) + length.to_bytes(8, "big")
    return header + b"\x00\x00\x00\x00" + payload


class RawConnection(asyncio.Protocol):
    """Counts complete server frames; wakes a waiter per frame when asked to."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.handshake_done = asyncio.get_running_loop().create_future()
        self.frames = 0
        self.waiter: asyncio.Future[None] | None = None
        self.need = 2
        self.upgraded = False
        self.arrivals: list[tuple[float, float]] | None = None
        """When set: (value, arrival time) of every frame that ends in a float64 (an event's value)."""
        self.packets = 0
        """Packets in the frames received (from each message's CBOR array head)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self.handshake_done.set_exception(RuntimeError(bytes(buffer[:end]).decode()))
                return
            del buffer[: end + 4]
            self.upgraded = True
            self.handshake_done.set_result(None)
        position = 0
        size = len(buffer)
        while size - position >= 2:
            length = buffer[position + 1] & 0x7F
            header = 2
            if length == 126:
                if size - position < 4:
                    break
                length = int.from_bytes(buffer[position + 2 : position + 4], "big")
                header = 4
            elif length == 127:
                if size - position < 10:
                    break
                length = int.from_bytes(buffer[position + 2 : position + 10], "big")
                header = 10
            if size - position < header + length:
                break
            start = position + header
            position = start + length
            self.frames += 1
            if length:
                first = buffer[start]
                if 0x80 <= first < 0x98:
                    self.packets += first - 0x80
                elif first == 0x98:
                    self.packets += buffer[start + 1]
                elif first == 0x99:
                    self.packets += int.from_bytes(buffer[start + 1 : start + 3], "big")
            if self.arrivals is not None and length > 9 and buffer[position - 9] == 0xFB:
                self.arrivals.append((_UNPACK_DOUBLE(buffer, position - 8)[0], time.perf_counter()))
            waiter = self.waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        if position:
            del buffer[:position]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection lost"))

    async def request(self, frame: bytes) -> None:
        self.waiter = asyncio.get_running_loop().create_future()
        assert self.transport is not None
        self.transport.write(frame)
        await self.waiter


def client_tls() -> ssl.SSLContext:
    """TLS without verification: the benchmark's own self-signed server on loopback."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def open_raw(port: int, hello: bool = True, tls: bool = False) -> RawConnection:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(RawConnection, "127.0.0.1", port, ssl=client_tls() if tls else None)
    key = base64.b64encode(os.urandom(16)).decode()
    assert protocol.transport is not None
    protocol.transport.write(
        (
            "GET /api/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    await protocol.handshake_done
    if hello:
        await protocol.request(client_frame(cbor2.dumps([[0, 1, 14, {0: 1, 1: 1}]])))
    return protocol


CLOSE_FRAME = b"\x88\x82\x00\x00\x00\x00\x03\xe8"  # masked close frame, code 1000


def close_all(clients: list[RawConnection]) -> None:
    for client in clients:
        if client.transport is not None and not client.transport.is_closing():
            client.transport.write(CLOSE_FRAME)
            client.transport.close()


def read_frame(message_id: int = 2, element: uuid.UUID = LEVEL_UUID) -> bytes:
    return client_frame(cbor2.dumps([[0, message_id, 4, {0: element, 1: READ_ATTRIBUTES}]]))


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


async def closed_loop(
    port: int, connections: int, duration: float, batch: int = 1, tls: bool = False, element: str | None = None
) -> dict[str, Any]:
    """Each connection sends one message (of `batch` read requests) and waits for its reply."""
    clients = [await open_raw(port, tls=tls) for _ in range(connections)]
    target = uuid.UUID(element) if element else LEVEL_UUID
    if batch == 1:
        frame = read_frame(element=target)
    else:
        frame = client_frame(cbor2.dumps([[0, i, 4, {0: target, 1: READ_ATTRIBUTES}] for i in range(batch)]))
    latencies: list[float] = []
    stop_at = time.perf_counter() + duration
    warmup_until = time.perf_counter() + min(0.5, duration / 5)
    counted = 0

    async def run(client: RawConnection) -> None:
        nonlocal counted
        clock = time.perf_counter
        while True:
            started = clock()
            if started >= stop_at:
                return
            await client.request(frame)
            if started >= warmup_until:
                latencies.append(clock() - started)
                counted += 1

    began = time.perf_counter()
    await asyncio.gather(*(run(c) for c in clients))
    elapsed = time.perf_counter() - max(began, warmup_until)
    close_all(clients)
    latencies.sort()
    return {
        "requests_per_s": counted * batch / elapsed,
        "messages_per_s": counted / elapsed,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


async def asyncua_loop(port: int, connections: int, duration: float) -> dict[str, Any]:
    import logging

    from asyncua import Client

    logging.getLogger("asyncua").setLevel(logging.ERROR)
    clients = []
    for _ in range(connections):
        client = Client(f"opc.tcp://127.0.0.1:{port}/bench/", timeout=30)
        await client.connect()
        clients.append(client)
    namespace = await clients[0].get_namespace_index("urn:xentara-ws:bench")
    node_path = ["0:Objects", f"{namespace}:Plant", f"{namespace}:Level"]
    nodes = [await c.nodes.root.get_child(node_path) for c in clients]
    latencies: list[float] = []
    stop_at = time.perf_counter() + duration
    warmup_until = time.perf_counter() + min(0.5, duration / 5)

    async def run(node: Any) -> None:
        clock = time.perf_counter
        while True:
            started = clock()
            if started >= stop_at:
                return
            await node.read_value()
            if started >= warmup_until:
                latencies.append(clock() - started)

    began = time.perf_counter()
    await asyncio.gather(*(run(n) for n in nodes))
    elapsed = time.perf_counter() - max(began, warmup_until)
    for client in clients:
        await client.disconnect()
    latencies.sort()
    return {
        "requests_per_s": len(latencies) / elapsed,
        "messages_per_s": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


async def fan_out(port: int, subscribers: int, duration: float) -> dict[str, Any]:
    """`subscribers` connections subscribe to one register; one writer changes it in a closed loop.

    Each write's value is its sequence number, and each event ends in the value it carries, so a
    delivery's latency is its arrival time minus the time its write was sent.
    """
    clients = []
    for _ in range(subscribers):
        client = await open_raw(port)
        subscribe = [[0, 2, 6, {0: [{0: SETPOINT_UUID, 1: [11]}], 3: uuid.uuid4()}]]
        await client.request(client_frame(cbor2.dumps(subscribe)))
        clients.append(client)
    await asyncio.sleep(0.3)  # initial events, where the server sends them
    for client in clients:
        client.arrivals = []
    writer = await open_raw(port)
    before = sum(c.frames for c in clients)
    sent_at: dict[float, float] = {}
    started = time.perf_counter()
    stop_at = started + duration
    value = 0.0
    writes = 0
    while time.perf_counter() < stop_at:
        value += 1.0
        frame = client_frame(cbor2.dumps([[0, 3, 5, {0: SETPOINT_UUID, 1: 11, 2: value}]]))
        sent_at[value] = time.perf_counter()
        await writer.request(frame)
        writes += 1
    await asyncio.sleep(0.2)  # let in-flight events arrive
    elapsed = time.perf_counter() - started
    delivered = sum(c.frames for c in clients) - before
    close_all([*clients, writer])
    latencies = sorted(
        arrival - sent_at[value] for c in clients for value, arrival in c.arrivals or () if value in sent_at
    )
    return {
        "deliveries_per_s": delivered / elapsed,
        "writes_per_s": writes / elapsed,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


async def browse_tree(port: int, repeats: int) -> dict[str, Any]:
    """Time whole-tree browses (one request each) of the root."""
    client = await open_raw(port)
    frame = client_frame(cbor2.dumps([[0, 2, 1, {0: uuid.UUID(int=0)}]]))
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        await client.request(frame)
        times.append(time.perf_counter() - started)
    close_all([client])
    return {"browse_ms": min(times) * 1000}


def process_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def subscribe_many(port: int, elements: int, duration: float, server_pid: int) -> dict[str, Any]:
    """One connection subscribes to the values of `elements` generated signals; counts their events.

    Also the server's CPU use (fraction of a CPU) over the same steady window.
    """
    client = await open_raw(port)
    items = [{0: uuid.UUID(element_uuid("signal", i)), 1: [11]} for i in range(elements)]
    await client.request(client_frame(cbor2.dumps([[0, 2, 6, {0: items}]])))
    await asyncio.sleep(min(1.0, duration / 3))  # the initial events
    before = client.packets
    server_before = process_seconds(server_pid)
    started = time.perf_counter()
    await asyncio.sleep(duration)
    elapsed = time.perf_counter() - started
    events = client.packets - before
    server_cpu = (process_seconds(server_pid) - server_before) / elapsed
    close_all([client])
    return {"events_per_s": events / elapsed, "steady_server_cpu": server_cpu}


async def idle(port: int, connections: int, subscribe: bool, hold: float) -> dict[str, Any]:
    """Open idle connections (optionally each with one subscription) and hold them."""
    clients = []
    for _ in range(connections):
        client = await open_raw(port)
        if subscribe:
            request = [[0, 2, 6, {0: [{0: SETPOINT_UUID, 1: [11]}]}]]
            await client.request(client_frame(cbor2.dumps(request)))
        clients.append(client)
    print(json.dumps({"opened": len(clients)}), flush=True)
    await asyncio.sleep(hold)
    return {"opened": len(clients)}


def main() -> None:
    mode, arguments = sys.argv[1], json.loads(sys.argv[2])
    use_uvloop()
    runner = {
        "closed": closed_loop,
        "asyncua": asyncua_loop,
        "fanout": fan_out,
        "idle": idle,
        "browse": browse_tree,
        "subscribe_many": subscribe_many,
    }[mode]
    result = asyncio.run(runner(**arguments))
    result["cpu_s"] = time.process_time()  # the whole process's CPU, for run_all's account of other load
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

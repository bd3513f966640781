"""Helpers for the newcomer tests: a real `xentara-ws serve` process on a copy of the demo configuration."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from xentara_ws.demo import DEMO_DIR


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


def copy_demo(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(DEMO_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return folder


@contextmanager
def serving(tmp_path: Path, *argv: str, banner_lines: int = 2) -> Iterator[ServeProcess]:
    """`xentara-ws serve --host 127.0.0.1 --port 0 ...` with its log in a file; stopped with SIGTERM at the end."""
    log = tmp_path / "serve.log"
    with log.open("w") as log_file:
        state = str(tmp_path / "state")
        process = subprocess.Popen(
            [sys.executable, "-m", "xentara_ws.cli", "serve", "--port", "0", "--state-dir", state, *argv],
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
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

"""Browser tests: the console in real Chromium (Debian's package at /usr/bin/chromium) against a real server.

They skip, with one reason, only where Chromium cannot be installed or launched; with
XENTARA_REQUIRE_BROWSER=1 (set by .ci/run) that is a failure instead.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from support.console import CHROMIUM, CHROMIUM_ARGS, browser_unavailable
from support.servers import served

from xentara_ws.server.app import XentaraServer


@pytest.fixture
async def browser_context(tmp_path: Path) -> AsyncIterator[Any]:
    """A fresh Chromium profile (its own user-data folder: no cookies from other tests)."""
    try:
        from playwright.async_api import Error, async_playwright
    except ImportError:
        browser_unavailable("the playwright package is not installed (pip install -e '.[test]')")
    if not os.access(CHROMIUM, os.X_OK):
        browser_unavailable(f"Chromium is not installed at {CHROMIUM} (run scripts/install-chromium.sh)")
    async with async_playwright() as playwright:
        try:
            context = await playwright.chromium.launch_persistent_context(
                str(tmp_path / "chromium-profile"),
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1200, "height": 800},
                # Only for the TLS test's self-signed certificate, generated for this run.
                ignore_https_errors=True,
            )
        except Error as error:
            browser_unavailable(f"Chromium at {CHROMIUM} cannot be launched: {error.message.splitlines()[0]}")
        context.set_default_timeout(10_000)
        try:
            yield context
        finally:
            await context.close()


@pytest.fixture
async def demo_server() -> AsyncIterator[XentaraServer]:
    """The built-in demo (users demo/demo with write, operator/operator read only), with its console at /."""
    async with served("--no-tls") as server:
        yield server


@pytest.fixture
async def hmi_server(tmp_path: Path) -> AsyncIterator[tuple[XentaraServer, Path]]:
    """The demo with a user's HMI folder at / (--www): the console moves to /console/."""
    folder = tmp_path / "hmi"
    folder.mkdir()
    async with served("--no-tls", "--www", str(folder)) as server:
        yield server, folder


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[XentaraServer]:
    """The demo as `xentara-ws serve` runs it by default: TLS with a self-signed certificate."""
    async with served("--state-dir", str(tmp_path / "state")) as server:
        yield server

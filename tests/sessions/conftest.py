"""Fixtures of the sub-session tests: one security configuration per run, a server per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.clocks import FakeClock
from support.sessions import start_server, write_config

from xentara_ws.server.app import XentaraServer


@pytest.fixture(scope="session")
def sessions_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_config(tmp_path_factory.mktemp("sessions") / "config")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def server(sessions_config: Path, tmp_path: Path, clock: FakeClock) -> AsyncIterator[XentaraServer]:
    instance = await start_server(sessions_config, tmp_path / "state", clock)
    try:
        yield instance
    finally:
        await instance.close()

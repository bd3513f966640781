"""Shared fixtures: a small hand-built model and a real server on a loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from hypothesis import settings
from support.fixtures import (  # noqa: F401  (the vendor-fixtures hooks: skip, or fail under XENTARA_REQUIRE_FIXTURES)
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_terminal_summary,
)
from support.models import small_model
from support.servers import running

from xentara_ws.model.tree import Model
from xentara_ws.server.app import XentaraServer

# A loaded CI machine must not turn a slow example into a failure; correctness is what is tested.
settings.register_profile("xentara-ws", deadline=None)
settings.load_profile("xentara-ws")


@pytest.fixture
def model() -> Model:
    return small_model()


@pytest.fixture
async def server(model: Model) -> AsyncIterator[XentaraServer]:
    async with running(model, shutdown_enabled=False) as instance:
        yield instance

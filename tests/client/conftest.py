"""Fixtures for the client tests: a server with sub-session logins and a TLS server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from support.models import small_model
from support.security import PasswordLogins, TLSMaterial, loopback_tls_material
from support.servers import running

from xentara_ws.server.app import XentaraServer


@pytest.fixture
def logins() -> PasswordLogins:
    return PasswordLogins()


@pytest.fixture
async def login_server(logins: PasswordLogins) -> AsyncIterator[XentaraServer]:
    """The small model, with sub-session logins enabled."""
    async with running(small_model(), sub_session_authenticator=logins) as instance:
        yield instance


@pytest.fixture(scope="session")
def tls_material(tmp_path_factory: pytest.TempPathFactory) -> TLSMaterial:
    """A self-signed certificate for 127.0.0.1 (also usable as its own CA file)."""
    return loopback_tls_material(tmp_path_factory.mktemp("tls"))


@pytest.fixture
async def tls_server(tls_material: TLSMaterial) -> AsyncIterator[XentaraServer]:
    async with running(small_model(), ssl_context=tls_material.server_context()) as instance:
        yield instance

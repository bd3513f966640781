"""Malformed Authorization headers on the upgrade: refused as failed logins (never a 500), and never logged."""

from __future__ import annotations

import base64
import logging

import pytest
from support.edge import upgrade_request
from support.fixtures import SAMPLE_CONFIG, sample_password
from support.raw_client import RawClient
from support.security import basic_authorization
from support.servers import served

PASSWORD = sample_password()
GOOD = basic_authorization("xentara", PASSWORD)


@pytest.fixture
async def server(tmp_path):
    async with served("--config", str(SAMPLE_CONFIG), "--no-tls", "--state-dir", str(tmp_path / "state")) as instance:
        yield instance


async def status_of(port: int, headers: list[tuple[str, str]]) -> int:
    import asyncio

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(upgrade_request("/api/ws", headers))
    status_line = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    return int(status_line.split()[1])


async def test_a_non_ascii_byte_in_the_scheme_is_401_not_500(server):
    assert await status_of(server.port, [("Authorization", "B\xe9sic eGVudGFyYTp4")]) == 401


async def test_two_authorization_headers_are_refused(server):
    assert await status_of(server.port, [("Authorization", GOOD), ("Authorization", GOOD)]) == 401


async def test_malformed_attempts_count_toward_the_failed_login_lock_out(server):
    # A malformed header names no user: it counts toward the per-address lock-out (20 failures), which
    # then refuses even the right credentials from that address.
    statuses = []
    for attempt in range(20):
        if attempt % 2:
            statuses.append(await status_of(server.port, [("Authorization", "B\xe9sic x")]))
        else:
            statuses.append(await status_of(server.port, [("Authorization", GOOD), ("Authorization", "Basic x")]))
    assert set(statuses) <= {401, 429} and statuses[0] == 401
    assert await status_of(server.port, [("Authorization", GOOD)]) == 429


async def test_credentials_never_reach_the_log_even_at_debug(server, caplog):
    caplog.set_level(logging.DEBUG)
    client = await RawClient.open(server.port, additional_headers={"Authorization": GOOD})
    await client.request(8)
    await client.close()
    await status_of(server.port, [("Authorization", "Basic " + base64.b64encode(b"xentara:guess-me").decode())])
    server_log = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("websockets.client"))
    assert "authenticated" in server_log, "the server did log at DEBUG/INFO"
    for secret in (PASSWORD, GOOD.split()[1], "guess-me", base64.b64encode(b"xentara:guess-me").decode()):
        assert secret not in server_log

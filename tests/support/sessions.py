"""Helpers for the sub-session tests: a security configuration with an administrator and two operators,
a served instance of it with an injected wall clock, and short-hands for the sub-session packets."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

from cbor2 import CBORTag

from support.clocks import FakeClock
from support.fixtures import SAMPLE_CONFIG, sample_password
from support.raw_client import RawClient
from support.security import basic_headers as basic
from support.servers import serve_argv, start_served
from xentara_ws.security import set_password
from xentara_ws.server.app import XentaraServer

ADMIN = ("xentara", sample_password())
OPERATOR = ("operator", "operator-pass")
OTHER = ("other", "other-pass")
VIEWER = ("viewer", "viewer-pass")
"""VIEWER may read but not write, and is no administrator."""

TEST_REGISTER = uuid.UUID("1f76606f-ebf4-4678-b345-86c15873a0d6")
"""A writable int64 register of the sample model that nothing else changes."""


def write_config(folder: Path) -> Path:
    """The vendor sample plus roles Operator (read, write) and Viewer (read); xentara gets sessions.admin."""
    shutil.copytree(SAMPLE_CONFIG, folder)
    security = json.loads((folder / "security.json").read_text())
    security["roles"] += [
        {"name": "Operator", "UUID": str(uuid.uuid4())},
        {"name": "Viewer", "UUID": str(uuid.uuid4())},
    ]
    security["ACL"]["entries"] = [
        {"role": "Everyone", "allow": ["websocket.connect"]},
        {"role": "Administrator", "allow": ["write", "read", "sessions.admin", "suspend"]},
        {"role": "Operator", "allow": ["write", "read"]},
        {"role": "Viewer", "allow": ["read"]},
    ]
    (folder / "security.json").write_text(json.dumps(security))
    users = json.loads((folder / "users.json").read_text())
    for (name, _), role in ((OPERATOR, "Operator"), (OTHER, "Operator"), (VIEWER, "Viewer")):
        users["users"].append({"userName": name, "UUID": str(uuid.uuid4()), "roles": [role]})
    (folder / "users.json").write_text(json.dumps(users))
    for name, password in (OPERATOR, OTHER, VIEWER):
        set_password(folder, name, password)
    return folder


def serve_args(config: Path, state_dir: Path, *extra: str) -> list[str]:
    """`serve` of `config` on 127.0.0.1, a port of its own, plain ws://, state in `state_dir`."""
    return ["serve", *serve_argv("--config", str(config), "--no-tls", "--state-dir", str(state_dir), *extra)]


async def start_server(config: Path, state_dir: Path, clock: FakeClock | None = None, *extra: str) -> XentaraServer:
    return await start_served(
        "--config", str(config), "--no-tls", "--state-dir", str(state_dir), *extra, wall_clock=clock
    )


async def connect(port: int, who: tuple[str, str] = ADMIN) -> RawClient:
    return await RawClient.open(port, additional_headers=basic(*who))


def login(who: tuple[str, str]) -> CBORTag:
    return CBORTag(123, {0: who[0], 1: who[1]})


async def create(
    client: RawClient,
    who: tuple[str, str],
    session_id: uuid.UUID | None = None,
    options: dict[int, Any] | None = None,
) -> list[Any]:
    params: dict[int, Any] = {0: login(who)}
    if session_id is not None:
        params[1] = session_id
    if options is not None:
        params[256] = options
    return await client.request(12, params)


async def created(client: RawClient, who: tuple[str, str], **kwargs: Any) -> uuid.UUID:
    reply = await create(client, who, **kwargs)
    assert reply[0] == 1, reply
    return reply[2]  # type: ignore[no-any-return]


def error(reply: list[Any]) -> tuple[int, str]:
    assert reply[0] == 2, reply
    return reply[2][0], reply[2][1]


async def describe(client: RawClient, session_id: uuid.UUID) -> Any:
    """The description map of one sub-session, or the 122 error map."""
    reply = await client.request(258, {0: [session_id]})
    assert reply[0] == 1, reply
    [item] = reply[2]
    return item


async def read_register(client: RawClient) -> Any:
    reply = await client.request(4, {0: TEST_REGISTER, 1: [11]})
    return reply[2][11].value


async def wait_detached(server: XentaraServer, session_id: uuid.UUID) -> None:
    """Until the server noticed that the connection of `session_id` is gone (or it was removed)."""
    import asyncio

    for _ in range(500):
        entry = server.state.sub_sessions.get(session_id)
        if entry is None or not entry.connected:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"sub-session {session_id} is still attached")

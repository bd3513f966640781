"""The client library's sub-session methods and `xentara-ws sessions ...` against a real server."""

from __future__ import annotations

import asyncio
import json

from support.sessions import ADMIN, OPERATOR, TEST_REGISTER, connect, created

from xentara_ws.cli import main
from xentara_ws.client import Health, LastWill, SubSessionDescription, XentaraClient, XentaraError


def _url(server) -> str:
    return f"ws://127.0.0.1:{server.port}/api/ws"


async def test_the_library_creates_resumes_pings_lists_describes_alters_and_deletes(server, clock):
    async with XentaraClient(_url(server), user=ADMIN[0], password=ADMIN[1]) as first:
        session_id = await first.create_sub_session(
            user=OPERATOR[0],
            password=OPERATOR[1],
            permanent=True,
            keep_alive=10,
            description="line 3",
            health=Health(min_subscriptions=1),
            last_will=LastWill(TEST_REGISTER, 0, delay=5),
        )
        assert await first.ping() is None
        assert await first.ping(session_id) is None  # permanent: cannot expire
    async with XentaraClient(_url(server), user=ADMIN[0], password=ADMIN[1]) as second:
        assert await second.create_sub_session(user=OPERATOR[0], password=OPERATOR[1], session_id=session_id) == (
            session_id
        )
        [summary] = await second.list_sub_sessions()
        assert (summary.id, summary.owner, summary.permanent, summary.connected) == (
            session_id,
            "user:operator",
            True,
            True,
        )
        [description, missing] = await second.describe_sub_sessions([session_id, TEST_REGISTER])
        assert isinstance(description, SubSessionDescription) and isinstance(missing, XentaraError)
        assert description.description == "line 3" and description.keep_alive == 10
        assert description.thresholds == Health(min_subscriptions=1) and description.health == "unhealthy"
        assert description.last_will == LastWill(TEST_REGISTER, 0, delay=5)
        altered = await second.alter_sub_session(session_id, description="line 4", last_will=None)
        assert altered.description == "line 4" and altered.last_will is None
        await second.delete_sub_session(session_id)
        assert await second.list_sub_sessions() == []


async def _cli(server, *argv: str, who=ADMIN) -> tuple[int, str]:
    import contextlib
    import io

    out = io.StringIO()

    def run() -> int:
        with contextlib.redirect_stdout(out):
            return main([*argv, "--url", _url(server), "--user", who[0], "--password", who[1]])

    code = await asyncio.to_thread(run)
    return code, out.getvalue()


async def test_the_sessions_commands(server):
    client = await connect(server.port)
    session_id = await created(client, OPERATOR, options={0: True, 3: "panel"})
    code, out = await _cli(server, "sessions", "list")
    assert code == 0 and str(session_id) in out and "user:operator" in out and "permanent" in out
    code, out = await _cli(server, "sessions", "list", "--json")
    assert code == 0 and json.loads(out)[0]["id"] == str(session_id)
    code, out = await _cli(server, "sessions", "describe", str(session_id))
    assert code == 0 and "panel" in out and "user:operator" in out
    code, out = await _cli(server, "sessions", "alter", str(session_id), "--description", "desk", "--json")
    assert code == 0 and json.loads(out)["description"] == "desk"
    code, out = await _cli(server, "sessions", "ban", str(session_id))
    assert code == 0 and "banned" in out
    code, out = await _cli(server, "sessions", "unban", str(session_id), "--json")
    assert code == 0 and json.loads(out)["status"] == "normal"
    code, out = await _cli(server, "sessions", "delete", str(session_id))
    assert code == 0 and "deleted" in out
    code, out = await _cli(server, "sessions", "describe", str(session_id))
    assert code == 1 and "unknown sub-session" in out
    await client.close()


async def test_banning_needs_sessions_admin(server, capsys):
    client = await connect(server.port, OPERATOR)
    session_id = await created(client, OPERATOR)
    code, _ = await _cli(server, "sessions", "ban", str(session_id), who=OPERATOR)
    assert code == 1 and "sessions.admin" in capsys.readouterr().err
    await client.close()


async def test_the_readme_example_catches_up_on_another_connection(server):
    """The README's worked example: a permanent sub-session, a dropped connection, a resume elsewhere."""
    url = _url(server)
    async with XentaraClient(url, user=ADMIN[0], password=ADMIN[1]) as station:
        hmi = await station.create_sub_session(
            user=OPERATOR[0], password=OPERATOR[1], permanent=True, description="HMI line 3"
        )
        levels = await station.subscribe([TEST_REGISTER], ["value"], sub_session=hmi, retain=100)
        await levels.next(5)  # the initial event
    # The station is gone; the values change meanwhile.
    async with XentaraClient(url, user=ADMIN[0], password=ADMIN[1]) as writer:
        for value in (1, 2, 3):
            await writer.write(TEST_REGISTER, value)
    async with XentaraClient(url, user=ADMIN[0], password=ADMIN[1]) as station:
        missed = station.bound_subscription(levels.id)
        await station.create_sub_session(user=OPERATOR[0], password=OPERATOR[1], session_id=hmi)
        assert [(await missed.next(5)).values.value for _ in range(3)] == [1, 2, 3]

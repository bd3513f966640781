"""Permanent sub-sessions survive a restart and a kill -9 (extensions §2, §9.14)."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess

from support.clocks import FakeClock
from support.servers import banner_port, serve_process
from support.sessions import (
    ADMIN,
    OPERATOR,
    TEST_REGISTER,
    connect,
    created,
    describe,
    serve_args,
    start_server,
)

from xentara_ws.sessions import FILE_NAME


async def test_a_permanent_sub_session_and_its_subscription_survive_a_restart(sessions_config, tmp_path):
    state = tmp_path / "state"
    server = await start_server(sessions_config, state, FakeClock())
    try:
        client = await connect(server.port)
        will = {0: TEST_REGISTER, 1: 11, 2: 5, 3: 7}
        permanent = await created(client, OPERATOR, options={0: True, 3: "control room", 5: will, 4: {1: 100}})
        temporary = await created(client, OPERATOR, options={2: 4294967296})
        subscription_id = (await client.request(6, {0: [{0: TEST_REGISTER, 1: [11]}], 256: {0: permanent}}))[2]
        await client.request(5, {0: TEST_REGISTER, 1: 11, 2: 42})
        await client.close()
    finally:
        await server.close()
    assert stat.S_IMODE(os.stat(state / FILE_NAME).st_mode) == 0o600

    server = await start_server(sessions_config, state, FakeClock())
    try:
        admin = await connect(server.port)
        assert (await describe(admin, temporary)).value[0] == -32111  # temporary ones never survive
        d = (await describe(admin, permanent)).value
        assert (d[4], d[7], d[8], d[12], d[16], d[15][1], d[14][4]) == (
            True,
            "control room",
            False,
            "offline",
            will,
            100,
            1,
        )
        await admin.request(5, {0: TEST_REGISTER, 1: 11, 2: 43})
        client = await connect(server.port)
        assert await created(client, OPERATOR, session_id=permanent) == permanent
        [event] = await client.next_events()  # one event per element with current values
        assert event[2][0] == subscription_id and event[2][2][11].value == 43
        await admin.close()
        await client.close()
    finally:
        await server.close()


def _serve(config, state) -> subprocess.Popen[str]:
    return serve_process(*serve_args(config, state)[1:], stderr=subprocess.DEVNULL, module="xentara_ws")


async def _port(process: subprocess.Popen[str]) -> int:
    assert process.stdout is not None
    line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 30)
    assert line.startswith("xentara-ws serving "), line
    return banner_port(line)


async def test_nothing_acknowledged_is_lost_to_kill_9(sessions_config, tmp_path):
    state = tmp_path / "state"
    process = _serve(sessions_config, state)
    try:
        client = await connect(await _port(process))
        ids = [await created(client, OPERATOR, options={0: True, 3: f"#{i}"}) for i in range(3)]
        altered = await client.request(259, {0: ids[0], 1: {3: "altered"}})
        assert altered[0] == 1
        assert (await client.request(260, {0: ids[2]}))[0] == 1
        process.send_signal(signal.SIGKILL)  # right after the last reply: no orderly shutdown
        process.wait(15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(15)
    process = _serve(sessions_config, state)
    try:
        admin = await connect(await _port(process), ADMIN)
        listed = {s[0]: s for s in (await admin.request(257))[2]}
        assert set(listed) == {ids[0], ids[1]} and not any(s[8] for s in listed.values())
        assert (await describe(admin, ids[0])).value[7] == "altered"
        assert (await describe(admin, ids[1])).value[7] == "#1"
        await admin.close()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(15)


def test_a_state_dir_that_cannot_hold_the_store_stops_serve_with_a_clear_message(sessions_config, tmp_path, capsys):
    from xentara_ws.cli import main

    blocked = tmp_path / "a file"
    blocked.write_text("")
    assert main(serve_args(sessions_config, blocked)) == 2
    assert "sub-session store" in capsys.readouterr().err

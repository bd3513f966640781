"""The client sub-commands of `xentara-ws`, run through cli.main against a real server."""

from __future__ import annotations

import asyncio
import json

from support.models import COUNTER_UUID, FLAG_UUID, REGISTER_UUID
from support.servers import free_port, url

from xentara_ws.cli import main


async def cli(*argv: str) -> int:
    # main() runs its own event loop, so it runs in a thread while the server serves on ours.
    return await asyncio.wait_for(asyncio.to_thread(main, list(argv)), 30)


async def test_info_prints_version_and_stage(server, capsys):
    assert await cli("info", "--url", url(server)) == 0
    out = capsys.readouterr().out
    assert "version: xentara-ws" in out and "stage: operational" in out


async def test_info_json(server, capsys):
    assert await cli("info", "--url", url(server), "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["stage"] == "operational" and data["model_file_path"] == "/models/small.json"


async def test_browse_prints_an_indented_tree(server, capsys):
    assert await cli("browse", "--url", url(server)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Group 1  (element group)")
    assert any(line.startswith("  Data Point 1  (data point)") for line in lines)
    assert any(line.startswith("  [v1.2]") for line in lines)


async def test_browse_json_with_depth_and_category(server, capsys):
    assert await cli("browse", "--url", url(server), "--json", "--category", "element-group") == 0
    assert json.loads(capsys.readouterr().out) == [
        {
            "primary_key": "Group 1",
            "uuid": "11111111-1111-4111-8111-111111111111",
            "category": "element_group",
        }
    ]
    assert await cli("browse", "Group 1", "--url", url(server), "--json", "--depth", "1") == 0
    keys = [entry["primary_key"] for entry in json.loads(capsys.readouterr().out)]
    assert "Group 1.Flag" in keys and "Group 1" not in keys


async def test_lookup_prints_the_uuid(server, capsys):
    assert await cli("lookup", "Group 1.Flag", "--url", url(server)) == 0
    assert capsys.readouterr().out.strip() == str(FLAG_UUID)
    assert await cli("lookup", "Group 1.Flag", "--url", url(server), "--json") == 0
    assert json.loads(capsys.readouterr().out)["uuid"] == str(FLAG_UUID)


async def test_read_default_attributes_by_key_and_by_uuid(server, capsys):
    assert await cli("read", "Group 1.Data Point 1", "--url", url(server)) == 0
    out = capsys.readouterr().out
    assert "value       42.5" in out and "quality     good" in out
    assert "changeTime  2024-01-01T11:11:11.111587983Z" in out
    assert await cli("read", str(REGISTER_UUID), "value", "9", "--url", url(server), "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["values"] == {"value": 42.5, "quality": "good"}


async def test_read_json_shows_attribute_errors_and_fails(server, capsys):
    assert await cli("read", "Group 1.Flag", "value", "deviceState", "--url", url(server), "--json") == 1
    values = json.loads(capsys.readouterr().out)["values"]
    assert values["deviceState"] == {"error": -32101, "message": "missing attribute"}


async def test_write_parses_by_data_type(server, capsys):
    assert await cli("write", "Group 1.Counter", "value", "200", "--url", url(server)) == 0
    assert "wrote 200" in capsys.readouterr().out
    assert server.model.find(COUNTER_UUID).read(server.model.find(COUNTER_UUID).attribute(11)) == 200
    assert await cli("write", "Group 1.Flag", "value", "true", "--url", url(server), "--json") == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    assert await cli("write", "Group 1.Counter", "value", "256", "--url", url(server)) == 1
    assert "out of range 0..255" in capsys.readouterr().err


async def test_subscribe_stops_after_count(server, capsys):
    assert await cli("subscribe", "Group 1.Data Point 1", "Group 1.Flag", "--count", "2", "--url", url(server)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert any(line.startswith("Group 1.Data Point 1  value=42.5") for line in lines)


async def test_subscribe_json_sees_a_change(server, capsys):
    task = asyncio.ensure_future(cli("subscribe", "Group 1.Counter", "--count", "2", "--json", "--url", url(server)))
    # Change the value until the subscriber has seen its initial event and one change.
    from xentara_ws.client import connect

    async with connect(url(server)) as client:
        value = 1
        while not task.done():
            await client.write(COUNTER_UUID, value)
            value += 1
            await asyncio.sleep(0.05)
    assert await task == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    # The writer may start before the subscription: the first event is whatever was current.
    assert len(events) == 2 and events[1]["values"]["value"] != events[0]["values"]["value"]


async def test_login_prints_access(login_server, capsys):
    argv = ["login", "--login-user", "operator", "--login-password", "secret", "--url", url(login_server)]
    assert await cli(*argv) == 0
    out = capsys.readouterr().out
    assert "read access:  yes" in out and "write access: yes" in out
    assert await cli(*argv, "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["user"] == "operator" and data["read"] is True and data["write"] is True
    assert len(data["sub_session"]) == 36


async def test_login_refused_is_one_friendly_line(login_server, capsys):
    code = await cli("login", "--login-user", "operator", "--login-password", "nope", "--url", url(login_server))
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the login of operator failed" in err[0]


async def test_connection_refused_is_one_friendly_line(capsys):
    code = await cli("info", "--url", f"ws://127.0.0.1:{free_port()}/api/ws")
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "connection refused" in err[0] and "xentara-ws serve" in err[0]


async def test_unknown_element_suggests_browse(server, capsys):
    assert await cli("read", "No.Such", "--url", url(server)) == 1
    err = capsys.readouterr().err.strip()
    assert "unknown element 'No.Such'" in err and "xentara-ws browse" in err


async def test_tls_failure_suggests_insecure_or_ca_file(tls_server, tls_material, capsys):
    assert await cli("info", "--url", url(tls_server, "wss")) == 2
    err = capsys.readouterr().err
    assert "--insecure" in err and "--ca-file" in err
    assert await cli("info", "--url", url(tls_server, "wss"), "--ca-file", str(tls_material.cert_file)) == 0
    assert await cli("info", "--url", url(tls_server, "wss"), "--insecure") == 0


async def test_credentials_from_environment(monkeypatch, capsys):
    from support.models import small_model

    from xentara_ws.server.app import XentaraServer

    seen: list[str | None] = []

    class Gate:
        def admit(self, request: object) -> object:
            authorization = request.header("authorization")  # type: ignore[attr-defined]
            seen.append(authorization)
            return None

    instance = XentaraServer(small_model(), gatekeeper=Gate())
    await instance.start("127.0.0.1", 0)
    try:
        monkeypatch.setenv("XENTARA_USER", "env-user")
        monkeypatch.setenv("XENTARA_PASSWORD", "env-pass")
        assert await cli("info", "--url", url(instance)) == 0
        assert await cli("info", "--url", url(instance), "--user", "flag-user", "--password", "x") == 0
    finally:
        await instance.close()
    import base64

    assert seen == [
        "Basic " + base64.b64encode(b"env-user:env-pass").decode(),
        "Basic " + base64.b64encode(b"flag-user:x").decode(),
    ]

"""The scripts in examples/ run against a server whose model has the demo's element names."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from client.support import url

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> ModuleType:
    # The examples import their shared _common module from their own folder, as when run as scripts.
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def run(name: str, *argv: str) -> int:
    module = load(name)
    return await asyncio.wait_for(module.main(module.parse_args(list(argv))), 15)  # type: ignore[no-any-return]


async def test_read_value_reads_the_default_element(demo_server, capsys):
    assert await run("read_value", "--url", url(demo_server)) == 0
    assert "Plant.Tank.Level = 12.5  quality=GOOD" in capsys.readouterr().out


async def test_write_register_writes_and_reads_back(demo_server, capsys):
    assert await run("write_register", "--url", url(demo_server), "--value", "55.5") == 0
    assert "Plant.Setpoint is now 55.5" in capsys.readouterr().out


async def test_subscribe_changes_prints_initial_values(demo_server, capsys):
    argv = [
        "--url",
        url(demo_server),
        "--element",
        "Plant.Tank.Level",
        "--element",
        "Plant.Setpoint",
        "--count",
        "2",
    ]
    assert await run("subscribe_changes", *argv) == 0
    out = capsys.readouterr().out
    assert "Plant.Tank.Level: 12.5 (GOOD)" in out and "Plant.Setpoint: 40.0 (GOOD)" in out


async def test_sub_session_login_shows_access_and_writes(demo_server, capsys):
    argv = [
        "--url",
        url(demo_server),
        "--login-user",
        "operator",
        "--login-password",
        "secret",
        "--value",
        "33",
    ]
    assert await run("sub_session_login", *argv) == 0
    out = capsys.readouterr().out
    assert "operator: read=yes write=yes" in out and "wrote 33" in out
    assert await run("sub_session_login", "--url", url(demo_server), "--login-password", "wrong") == 1


def test_examples_default_to_the_demo_server():
    args = load("read_value").parse_args([])
    assert args.url == "wss://127.0.0.1:8080/api/ws" and (args.user, args.password) == ("demo", "demo")
    assert args.element == "Plant.Tank.Level"
    assert load("write_register").parse_args([]).element == "Plant.Setpoint"
    assert load("_common").connect_options(args)["insecure"] is True

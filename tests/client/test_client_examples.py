"""The scripts in examples/ run unchanged against the built-in demo server (TLS, user demo)."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from support.servers import served, url

from xentara_ws.client import connect

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


@pytest.fixture
async def demo(tmp_path):
    """What `make run` serves: the built-in demo configuration over TLS."""
    async with served("--state-dir", str(tmp_path / "state")) as server:
        yield url(server, "wss")


async def run(name: str, *argv: str) -> int:
    module = load(name)
    return await asyncio.wait_for(module.main(module.parse_args(list(argv))), 15)  # type: ignore[no-any-return]


async def test_read_value_reads_the_default_element(demo, capsys):
    assert await run("read_value", "--url", demo) == 0
    assert "Plant.Tank.Temperature = " in capsys.readouterr().out


async def test_write_register_writes_and_reads_back(demo, capsys):
    assert await run("write_register", "--url", demo, "--value", "55.5") == 0
    assert "Plant.Line.Setpoint is now 55.5" in capsys.readouterr().out


async def test_write_register_explains_a_value_of_the_wrong_type(demo, capsys):
    assert await run("write_register", "--url", demo, "--value", "abc") == 2
    assert "cannot write 'abc' to Plant.Line.Setpoint: it holds a float 64 value" in capsys.readouterr().err


async def test_sub_session_login_says_when_it_does_not_write(demo, capsys):
    assert await run("sub_session_login", "--url", demo, "--value", "34") == 0
    assert "not writing 34 to Plant.Line.Setpoint: operator has no write access" in capsys.readouterr().out


def test_example_docstrings_run_them_with_the_venv_python():
    for script in EXAMPLES.glob("*.py"):
        text = script.read_text()
        assert "`python examples/" not in text, script.name
    assert "`.venv/bin/python examples/read_value.py`" in (EXAMPLES / "read_value.py").read_text()


async def test_subscribe_changes_prints_live_values(demo, capsys):
    argv = ["--url", demo, "--element", "Plant.Tank.Temperature", "--count", "3"]
    assert await run("subscribe_changes", *argv) == 0
    assert capsys.readouterr().out.count("Plant.Tank.Temperature: ") == 3


async def test_sub_session_login_shows_access_and_refuses_a_wrong_password(demo, capsys):
    assert (
        await run(
            "sub_session_login", "--url", demo, "--login-user", "demo", "--login-password", "demo", "--value", "33"
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "demo: read=yes write=yes" in out and "wrote 33" in out
    assert await run("sub_session_login", "--url", demo) == 0
    assert "operator: read=yes write=no" in capsys.readouterr().out
    assert await run("sub_session_login", "--url", demo, "--login-password", "wrong") == 1


async def test_embed_publish_serves_published_values_and_sees_writes(capsys):
    module = load("embed_publish")
    server = await module.start("127.0.0.1", 0)
    try:
        await module.publish(server, count=2, interval=0.01)
        async with connect(f"ws://127.0.0.1:{server.port}/api/ws") as client:
            values = await client.read("Plant.Tank.Level", ["value", "quality"])
            assert abs(values.value - (50.0 + 25.0 * __import__("math").sin(0.1))) < 1e-9
            await client.write("Plant.Registers.Setpoint", 21.5)
        assert "a client set Plant.Registers.Setpoint to 21.5" in capsys.readouterr().out
    finally:
        await server.close()


def test_examples_default_to_the_demo_server():
    args = load("read_value").parse_args([])
    assert args.url == "wss://127.0.0.1:8080/api/ws" and (args.user, args.password) == ("demo", "demo")
    assert args.element == "Plant.Tank.Temperature"
    assert load("write_register").parse_args([]).element == "Plant.Line.Setpoint"
    assert load("_common").connect_options(args)["insecure"] is True

"""The README's Python snippets are scripts that run as printed (with the demo's paths and ports filled in)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

from support.servers import serving

from xentara_ws.demo import DEMO_DIR

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def block_with(text: str) -> str:
    (block,) = [b for b in python_blocks() if text in b]
    return block


def test_every_python_block_of_the_readme_compiles_as_a_script():
    blocks = python_blocks()
    assert len(blocks) >= 2
    for block in blocks:
        compile(block, "README.md", "exec")  # a top-level `async with` or `await` would be a SyntaxError


def run_script(tmp_path: Path, source: str) -> subprocess.Popen[str]:
    script = tmp_path / "snippet.py"
    script.write_text(source)
    return subprocess.Popen(
        [sys.executable, str(script)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def stop(process: subprocess.Popen[str]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(15)
    finally:
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_the_client_snippet_reads_writes_and_subscribes_against_the_demo(tmp_path):
    source = block_with("from xentara_ws.client import connect")
    with serving(tmp_path, "--host", "127.0.0.1", banner_lines=3) as server:
        process = run_script(tmp_path, source.replace("wss://127.0.0.1:8080/api/ws", server.url))
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            change = process.stdout.readline()
        finally:
            stop(process)
        assert first.split()[1:2] == ["GOOD"], first + (process.stderr.read() if process.stderr else "")
        assert change.strip(), "no change was printed"


def test_the_embedding_snippet_serves_wss_with_the_simulation_running(tmp_path):
    source = block_with("XentaraServer(model, simulation=Simulation(model))")
    source = source.replace('load_model("model.json")', f"load_model({str(DEMO_DIR / 'model.json')!r})")
    source = source.replace('"127.0.0.1", 8080', '"127.0.0.1", 0')
    process = run_script(tmp_path, source)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("serving wss://127.0.0.1:"), line
        url = line.split()[1].rstrip(",")
        import asyncio

        from xentara_ws.client import connect

        async def check() -> tuple[object, bool]:
            async with connect(url, insecure=True) as client:
                level = (await client.read("Plant.Tank.Level", ["value"])).value
                first = (await client.read("Simulation.Counter", ["value"])).value
                for _ in range(100):  # bounded: the simulation ticks every 100 ms
                    if (await client.read("Simulation.Counter", ["value"])).value != first:
                        return level, True
                    await asyncio.sleep(0.05)
                return level, False

        level, moving = asyncio.run(check())
        assert level == 42.0 and moving
        assert (tmp_path / "state").is_dir()
    finally:
        assert stop(process) == 0  # serve_until_stopped ends cleanly on SIGTERM

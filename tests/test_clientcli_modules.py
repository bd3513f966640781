"""Issue 11 items 4 and 5: no import circles, `server/` takes typed options, the client speaks through `protocol/`."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import xentara_ws

PACKAGE = Path(xentara_ws.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    """Every module an `import` or `from ... import` of the file names (relative ones resolved)."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize(
    "module",
    [
        "xentara_ws.server.bootstrap",
        "xentara_ws.server.security_setup",
        "xentara_ws.client.subscription",
        "xentara_ws.client.connection",
    ],
)
def test_each_module_imports_first_in_a_fresh_interpreter(module):
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr


def test_no_module_under_server_imports_argparse():
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in sorted((PACKAGE / "server").rglob("*.py"))
        if any(name == "argparse" or name.startswith("argparse.") for name in _imported_modules(path))
    ]
    assert offenders == []


def _cycles(folder: str) -> list[tuple[str, str]]:
    """Pairs (a, b) of modules of the folder where a imports b and b leads back to a (lazy and
    TYPE_CHECKING imports count too: they are circles all the same)."""
    files = {f"xentara_ws.{folder}.{path.stem}": path for path in (PACKAGE / folder).glob("*.py")}
    graph = {
        name: {other for other in _imported_modules(path) if other in files and other != name}
        for name, path in files.items()
    }

    def leads_back(start: str, goal: str) -> bool:
        seen, stack = {start}, [start]
        while stack:
            for following in graph[stack.pop()]:
                if following == goal:
                    return True
                if following not in seen:
                    seen.add(following)
                    stack.append(following)
        return False

    return sorted((name, other) for name, others in graph.items() for other in others if leads_back(other, name))


@pytest.mark.parametrize("folder", ["client", "server"])
def test_no_import_circle_among_the_modules(folder):
    assert _cycles(folder) == []


def test_the_circle_check_finds_a_circle(tmp_path, monkeypatch):
    # The check above must be able to fail: a folder whose two modules import each other is reported.
    package = tmp_path / "xentara_ws"
    (package / "loop").mkdir(parents=True)
    (package / "loop" / "one.py").write_text("from .two import b\n")
    (package / "loop" / "two.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import one\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", package)
    assert _cycles("loop") == [
        ("xentara_ws.loop.one", "xentara_ws.loop.two"),
        ("xentara_ws.loop.two", "xentara_ws.loop.one"),
    ]


def test_nothing_in_the_client_imports_cbor2_directly():
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in sorted((PACKAGE / "client").rglob("*.py"))
        if any(name == "cbor2" or name.startswith("cbor2.") for name in _imported_modules(path))
    ]
    assert offenders == []


def test_the_cli_builds_typed_serve_options():
    from xentara_ws.cli import build_parser, serve_options
    from xentara_ws.server.options import ServeOptions

    options = serve_options(
        build_parser().parse_args(["serve", "--config", "conf", "--no-tls", "--port", "0", "--max-packets", "7"])
    )
    assert options == ServeOptions(config=Path("conf"), tls=False, port=0, max_packets=7)
    assert serve_options(build_parser().parse_args(["serve"])) == ServeOptions()

"""scripts/import_cycles.py finds import circles, and the package has none."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "import_cycles.py"

# The modules of the `commands` work stream (issue 11): the table, the handlers, the dispatcher and
# what they run with.
OWNED = [
    "xentara_ws.server.commands",
    "xentara_ws.server.dispatcher",
    "xentara_ws.server.connection_state",
    "xentara_ws.server.state",
    "xentara_ws.server.app",
]


def _script() -> ModuleType:
    """The script as a module (loaded once; its dataclass needs it in sys.modules)."""
    name = "scripts_import_cycles"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, SCRIPT)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def test_the_package_has_no_import_circle_at_all():
    """Design: each layer imports only the layers below it; not even type-checking imports close a circle."""
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--fail-on", "xentara_ws"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no import circles" in result.stdout


def test_no_import_circle_passes_through_the_commands_or_the_dispatcher():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--fail-on", *OWNED], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    circling = [line for line in result.stdout.splitlines() if line.startswith("tangle")]
    assert not [line for line in circling if any(module in line for module in OWNED)]


def _package(root: Path, files: dict[str, str]) -> dict[str, Path]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return _script().module_names(root / "pkg")


def test_a_circle_closed_in_a_function_or_for_type_checking_is_found(tmp_path):
    script = _script()
    modules = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from .b import thing\n",
            "pkg/b.py": "def thing():\n    from . import a\n",
            "pkg/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .d import D\n",
            "pkg/d.py": "from .c import C\n",
            "pkg/e.py": "import os\n",
        },
    )
    graph = script.build_graph(modules)
    found = script.cycles(graph)
    assert [members for members, _ in found] == [["pkg.a", "pkg.b"], ["pkg.c", "pkg.d"]]
    assert [members for members, _ in script.cycles(script.build_graph(modules, type_checking=False))] == [
        ["pkg.a", "pkg.b"]
    ]


def test_importing_a_module_of_a_package_whose_init_imports_back_is_a_circle(tmp_path):
    script = _script()
    modules = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/table/__init__.py": "from .handler import run\n",
            "pkg/table/handler.py": "from ..low import helper\n",
            "pkg/table/common.py": "",
            "pkg/low.py": "def helper():\n    from .table.common import x\n",
        },
    )
    members = [members for members, _ in script.cycles(script.build_graph(modules))]
    assert members == [["pkg.low", "pkg.table", "pkg.table.handler"]]

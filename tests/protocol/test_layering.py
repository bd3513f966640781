"""The protocol core is the only place that speaks CBOR, and it depends on nothing else of ours (design.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import xentara_ws

PACKAGE = Path(xentara_ws.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))
# Literal test vectors of the conformance kit (malformed messages sent to a server on purpose) are data.
RAW_BYTES_ALLOWED = ("protocol", "conformance")


def _relative(path: Path) -> Path:
    return path.relative_to(PACKAGE)


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(path: Path) -> list[tuple[str, int]]:
    """(module, level) of every import: level > 0 for relative imports."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            found.extend((alias.name, 0) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", node.level))
    return found


def test_the_package_has_modules_inside_and_outside_the_core() -> None:
    inside = [p for p in MODULES if _relative(p).parts[0] == "protocol"]
    assert len(inside) >= 5
    assert len(MODULES) - len(inside) >= 50


@pytest.mark.parametrize("path", [p for p in MODULES if _relative(p).parts[0] != "protocol"], ids=str)
def test_nothing_outside_the_core_imports_cbor2(path: Path) -> None:
    offending = [name for name, level in _imports(path) if level == 0 and name.split(".")[0] == "cbor2"]
    assert not offending, f"{_relative(path)} imports {offending}"


@pytest.mark.parametrize("path", [p for p in MODULES if _relative(p).parts[0] == "protocol"], ids=str)
def test_the_core_imports_nothing_else_of_ours(path: Path) -> None:
    offending = [
        (name, level)
        for name, level in _imports(path)
        if (level == 0 and name.split(".")[0] == "xentara_ws" and not name.startswith("xentara_ws.protocol"))
        or level > 1  # `from ..server import x` leaves protocol/
    ]
    assert not offending, f"{_relative(path)} imports {offending}"


def _cbor_container_literals(path: Path) -> list[tuple[int, bytes]]:
    """Bytes literals that start with the head of a CBOR array (0x80-0x9f) or map (0xa0-0xbf)."""
    return [
        (node.lineno, node.value)
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Constant) and type(node.value) is bytes and node.value and 0x80 <= node.value[0] <= 0xBF
    ]


@pytest.mark.parametrize("path", [p for p in MODULES if _relative(p).parts[0] not in RAW_BYTES_ALLOWED], ids=str)
def test_no_raw_cbor_arrays_or_maps_outside_the_core(path: Path) -> None:
    assert not _cbor_container_literals(path), f"{_relative(path)} writes raw CBOR"


def test_the_raw_bytes_check_can_see_a_hand_assembled_packet(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('HEAD = b"\\x83\\x01"\nTEXT = b"plain"\n', encoding="utf-8")
    assert _cbor_container_literals(sample) == [(1, b"\x83\x01")]

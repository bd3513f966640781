"""Without the vendor fixtures the tests that need them are skipped with one reason; CI makes that a failure."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from support import fixtures

TESTS = Path(__file__).resolve().parent

TINY_MODULE = """
from support.fixtures import SAMPLE_CONFIG, needs_vendor_fixtures


@needs_vendor_fixtures
def test_reads_the_sample_credentials():
    assert "websocket" in (SAMPLE_CONFIG / "client-credentials.json").read_text()


@needs_vendor_fixtures
def test_also_needs_them():
    assert SAMPLE_CONFIG.is_dir()


def test_needs_nothing():
    assert 1 + 1 == 2
"""


def run_pytest(tmp_path: Path, fixtures_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    ini = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    (project / "pytest.ini").write_text(ini)
    (project / "test_tiny.py").write_text(TINY_MODULE)
    shutil.copy(TESTS / "protocol" / "test_codec.py", project / "test_codec.py")  # a real module that needs no fixtures
    # Only what this test says: not the switch CI sets for the outer run.
    inherited = {key: value for key, value in os.environ.items() if key != "XENTARA_REQUIRE_FIXTURES"}
    environment = {
        **inherited,
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
        "XENTARA_FIXTURES": str(fixtures_dir),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "support.fixtures", "-p", "no:cacheprovider", str(project)],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_missing_fixtures_skip_only_the_tests_that_need_them_with_one_reason_line(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_pytest(tmp_path, empty)
    assert result.returncode == 0, result.stdout + result.stderr
    reason_lines = [line for line in result.stdout.splitlines() if "vendor fixtures not found" in line]
    assert reason_lines == [
        f"2 tests skipped: vendor fixtures not found at {empty.resolve()}: set XENTARA_FIXTURES to the folder holding "
        "xentara-sample-config/, xentara-schemas/ and models/ (see the README, 'Running the tests')"
    ]
    assert "2 skipped" in result.stdout and "passed" in result.stdout


def test_with_the_require_switch_missing_fixtures_fail_the_whole_run(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_pytest(tmp_path, empty, XENTARA_REQUIRE_FIXTURES="1")
    assert result.returncode not in (0, 5)
    assert f"vendor fixtures not found at {empty.resolve()}" in result.stderr
    assert "XENTARA_REQUIRE_FIXTURES is set, so the run fails" in result.stderr
    assert "passed" not in result.stdout


def test_present_fixtures_run_every_test_even_under_the_switch(tmp_path):
    folder = tmp_path / "fixtures" / "xentara-sample-config"
    folder.mkdir(parents=True)
    (folder / "client-credentials.json").write_text('{"websocket": {}}')
    (tmp_path / "fixtures" / "xentara-schemas").mkdir()
    result = run_pytest(tmp_path, tmp_path / "fixtures", XENTARA_REQUIRE_FIXTURES="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "skipped" not in result.stdout and "failed" not in result.stdout


def test_the_default_place_is_beside_the_repository_whatever_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("XENTARA_FIXTURES", raising=False)
    monkeypatch.chdir(tmp_path)
    assert fixtures.fixtures_dir() == (Path(__file__).resolve().parents[2] / "shared" / "fixtures").resolve()
    monkeypatch.setenv("XENTARA_FIXTURES", str(tmp_path / "elsewhere"))
    assert fixtures.fixtures_dir() == (tmp_path / "elsewhere").resolve()


def test_the_ci_entry_point_requires_the_fixtures():
    text = (TESTS.parent / ".ci" / "run").read_text()
    assert "XENTARA_REQUIRE_FIXTURES=1" in text

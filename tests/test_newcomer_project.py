"""The project files a newcomer meets first: make's default, what `make run` installs, the license metadata."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_make_alone_prints_the_targets():
    make = shutil.which("make")
    assert make is not None
    result = subprocess.run([make, "--no-print-directory"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for target in ("make run", "make test", "make lint"):
        assert target in result.stdout


def test_make_run_installs_the_package_without_the_test_extras():
    makefile = (REPO / "Makefile").read_text()
    run_rule = re.search(r"^run: (.+)$", makefile, re.M)
    assert run_rule is not None and run_rule.group(1).strip() == "$(RUN_STAMP)"
    recipe = re.search(r"^\$\(RUN_STAMP\):.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe is not None
    assert "[test]" not in recipe.group(1) and "'.[fast]'" in recipe.group(1)


def test_the_license_is_an_spdx_string_with_its_file():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["license"] == "MIT"
    assert project["project"]["license-files"] == ["LICENSE"] and (REPO / "LICENSE").is_file()
    floor = re.search(r"setuptools>=(\d+)", project["build-system"]["requires"][0])
    assert floor is not None and int(floor.group(1)) >= 77

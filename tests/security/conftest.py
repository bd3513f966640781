"""Fixtures for the security tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.security import write_json


@pytest.fixture
def config_dir(tmp_path: Path) -> Callable[..., Path]:
    """Build a config folder from keyword arguments: file stem (underscores for dashes) -> JSON document."""

    def make(**files: Any) -> Path:
        folder = tmp_path / "config"
        folder.mkdir(exist_ok=True)
        for stem, document in files.items():
            write_json(folder, stem.replace("_", "-") + ".json", document)
        return folder

    return make

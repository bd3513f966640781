"""Element ACLs are checked when the model loads, with the loader's other errors."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from xentara_ws.model import ModelError, load_model


def _write(tmp_path: Path, acl: Any, *, root_acl: Any = None) -> Path:
    group: dict[str, Any] = {"name": "Plant", "UUID": str(uuid.UUID(int=1)), "ACL": acl}
    data: dict[str, Any] = {"children": [{"@Group": group}]}
    if root_acl is not None:
        data["ACL"] = root_acl
    path = tmp_path / "malformed-acl-model.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("acl", "where", "problem"),
    [
        ({"entries": [{"allow": ["read"]}]}, ".ACL.entries[0]", "an ACL entry needs a non-empty string `role`"),
        ({"inherit": "no"}, ".ACL.inherit", "must be true or false"),
        ({"entries": {"role": "Operator"}}, ".ACL.entries", "must be an array"),
        ({"entries": [{"role": "Operator", "allow": "read"}]}, ".ACL.entries[0].allow", "non-empty strings"),
        (["Operator"], ".ACL", "ACL must be an object"),
    ],
)
def test_a_malformed_element_acl_fails_the_load_naming_file_element_and_problem(
    tmp_path: Path, acl: Any, where: str, problem: str
) -> None:
    path = _write(tmp_path, acl)
    with pytest.raises(ModelError) as caught:
        load_model(path)
    [error] = caught.value.errors
    assert error.startswith(f"{path}: ")
    assert where + ":" in error
    assert "ACL of element Plant:" in error
    assert problem in error


def test_a_malformed_root_acl_fails_the_load(tmp_path: Path) -> None:
    path = _write(tmp_path, None, root_acl={"entries": [{"role": ""}]})
    with pytest.raises(ModelError) as caught:
        load_model(path)
    assert any("$.ACL.entries[0]" in e and "ACL of the model root" in e for e in caught.value.errors)


def test_a_well_formed_element_acl_loads(tmp_path: Path) -> None:
    acl = {"inherit": False, "entries": [{"role": "Operator", "allow": ["read"], "deny": ["write"]}]}
    model = load_model(_write(tmp_path, acl))
    assert model.element("Plant").acl == acl

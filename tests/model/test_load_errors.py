"""Broken model files are refused with messages naming the file, the JSON path and the problem."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from support.fixtures import MODEL_SCHEMA, needs_vendor_fixtures

from xentara_ws.model.loader import ModelError, load_model


def block(designation: str, name: str, n: int, **props: Any) -> dict[str, Any]:
    return {designation: {"name": name, "UUID": str(uuid.UUID(int=n)), **props}}


def register(name: str, n: int) -> dict[str, Any]:
    return block("@Skill.SignalFlow.Register", name, n, defaultValue=["float64", 0.0])


def load_broken(tmp_path: Path, data: Any, **kwargs: Any) -> ModelError:
    path = tmp_path / "model.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    with pytest.raises(ModelError) as caught:
        load_model(path, **kwargs)
    assert str(path) in str(caught.value)
    return caught.value


def test_duplicate_uuid_names_both_places(tmp_path: Path) -> None:
    error = load_broken(
        tmp_path, {"children": [register("A", 1), block("@Group", "G", 2, children=[register("B", 1)])]}
    )
    (line,) = error.errors
    assert '$.children[1]["@Group"].children[0]["@Skill.SignalFlow.Register"].UUID' in line
    assert "duplicate UUID 00000000-0000-0000-0000-000000000001" in line
    assert '$.children[0]["@Skill.SignalFlow.Register"]' in line


def test_duplicate_sibling_name(tmp_path: Path) -> None:
    error = load_broken(
        tmp_path, {"children": [block("@Group", "G", 1, children=[register("X", 2), register("X", 3)])]}
    )
    (line,) = error.errors
    assert '$.children[0]["@Group"].children[1]' in line and "duplicate name 'X'" in line


def test_same_name_under_different_parents_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text(
        json.dumps(
            {
                "children": [
                    block("@Group", "A", 1, children=[register("X", 2)]),
                    block("@Group", "B", 3, children=[register("X", 4)]),
                ]
            }
        )
    )
    assert len(load_model(path)) == 4


def test_dangling_io_reference(tmp_path: Path) -> None:
    error = load_broken(tmp_path, {"children": [block("@DataPoint", "P", 1, io="Nowhere.Signal")]})
    (line,) = error.errors
    assert '$.children[0]["@DataPoint"].io' in line and "dangling reference 'Nowhere.Signal'" in line


def test_dangling_io_output_in_object_form(tmp_path: Path) -> None:
    error = load_broken(
        tmp_path,
        {"children": [register("R", 2), block("@DataPoint", "P", 1, io={"input": "R", "output": "Q"})]},
    )
    assert any('$.children[1]["@DataPoint"].io.output' in line and "'Q'" in line for line in error.errors)


def test_io_may_name_the_value_attribute(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text(json.dumps({"children": [register("R", 2), block("@DataPoint", "P", 1, io="R.value")]}))
    assert load_model(path).element("P").value == 0.0


def test_dangling_pipeline_task_and_trigger(tmp_path: Path) -> None:
    pipeline = block(
        "@Pipeline",
        "Pipe",
        3,
        triggers=["Track.Nope.expired"],
        checkpoints=[{}, {}],
        segments=[{"start": 0, "end": 1, "tasks": [{"function": "Ghost.generate"}]}],
    )
    error = load_broken(tmp_path, {"children": [block("@Track", "Track", 1, children=[pipeline])]})
    paths = " ".join(error.errors)
    assert '["@Pipeline"].triggers[0]' in paths
    assert '["@Pipeline"].segments[0].tasks[0].function' in paths


def test_bad_name_with_a_period(tmp_path: Path) -> None:
    error = load_broken(tmp_path, {"children": [register("a.b", 1)]})
    (line,) = error.errors
    assert '$.children[0]["@Skill.SignalFlow.Register"].name' in line and "bad name 'a.b'" in line


def test_bad_uuid_text(tmp_path: Path) -> None:
    data = {"children": [{"@Group": {"name": "G", "UUID": "not-a-uuid"}}]}
    (line,) = load_broken(tmp_path, data).errors
    assert '$.children[0]["@Group"].UUID' in line and "bad UUID 'not-a-uuid'" in line


def test_child_that_is_not_an_object(tmp_path: Path) -> None:
    data = {"children": [block("@Group", "G", 1, children=["#CoE.Bus:EtherCAT Terminal"])]}
    (line,) = load_broken(tmp_path, data).errors
    assert '$.children[0]["@Group"].children[0]' in line and "must be an object" in line and "a string" in line


def test_invalid_json_reports_line_and_column(tmp_path: Path) -> None:
    error = load_broken(tmp_path, '{\n  "children": [\n    {"@Group": {"name": "G",}}\n  ]\n}\n')
    (line,) = error.errors
    assert "line 3 column" in line and "invalid JSON" in line


def test_children_on_a_type_that_cannot_have_any(tmp_path: Path) -> None:
    data = {"children": [block("@Timer", "T", 1, period="1s", children=[])]}
    (line,) = load_broken(tmp_path, data).errors
    assert '$.children[0]["@Timer"].children' in line and "cannot have children" in line


def test_signal_outside_a_sampler_is_refused(tmp_path: Path) -> None:
    signal = block("@Skill.SignalGenerator.Signal", "S", 1, dataType="float64", waveForm={"@Noise": {}})
    (line,) = load_broken(tmp_path, {"children": [signal]}).errors
    assert "$.children[0]" in line and "not allowed here" in line


def test_register_default_that_does_not_fit_its_type(tmp_path: Path) -> None:
    data = {"children": [block("@Skill.SignalFlow.Register", "R", 1, defaultValue=["uint8", 300])]}
    (line,) = load_broken(tmp_path, data).errors
    assert '["@Skill.SignalFlow.Register"].defaultValue' in line and "300" in line


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    data = {
        "children": [
            register("a.b", 1),
            register("X", 2),
            register("X", 3),
            block("@DataPoint", "P", 4, io="Missing"),
            42,
        ]
    }
    error = load_broken(tmp_path, data)
    assert len(error.errors) == 4
    assert str(error).startswith("4 problems in model file")


@needs_vendor_fixtures
def test_vendor_schema_problems_are_reported_when_the_schema_is_given(tmp_path: Path) -> None:
    # The vendor schema closes built-in types: an unknown member on a group is a schema error only.
    data = {"children": [block("@Group", "G", 1, colour="red")]}
    error = load_broken(tmp_path, data, schema_path=MODEL_SCHEMA)
    assert any("$.children[0]" in line and "(schema)" in line for line in error.errors)


@needs_vendor_fixtures
def test_schema_from_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XENTARA_MODEL_SCHEMA", str(MODEL_SCHEMA.resolve()))
    error = load_broken(tmp_path, {"children": [block("@Group", "G", 1, colour="red")]})
    assert any("(schema)" in line for line in error.errors)


def test_missing_file_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot read"):
        load_model(tmp_path / "absent.json")


def test_timer_with_a_bad_period(tmp_path: Path) -> None:
    data = {"children": [block("@Timer", "T", 1, period="soon")]}
    (line,) = load_broken(tmp_path, data).errors
    assert '$.children[0]["@Timer"].period' in line and "'soon' is not a time interval" in line

"""Loading real Xentara model files: every element is there, with the right identity and attributes."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from support.fixtures import DEMO_SIGNALS, MODEL_SCHEMA, SAMPLE_MODEL, WAGO_MODEL, needs_vendor_fixtures
from support.fixtures import FIXTURE_MODELS as ALL_FIXTURE_MODELS

from xentara_ws.model.element import Element
from xentara_ws.model.loader import load_model, load_model_data, schema_errors
from xentara_ws.protocol.identifiers import NIL_UUID, Access, Attribute, DataType, ElementCategory


def json_elements(path: Path) -> list[tuple[str, str, str]]:
    """(primary key, UUID, designation) of every element block, computed without the loader."""
    out: list[tuple[str, str, str]] = []

    def walk(children: list[Any], prefix: str) -> None:
        for block in children:
            ((designation, props),) = block.items()
            key = prefix + props["name"]
            out.append((key, props["UUID"], designation))
            walk(props.get("children", []), key + ".")

    walk(json.loads(path.read_text())["children"], "")
    return out


def attribute_names(element: Element) -> set[str]:
    return {spec.name for spec in element.attributes.values()}


@needs_vendor_fixtures
@pytest.mark.parametrize("path", ALL_FIXTURE_MODELS, ids=lambda p: p.name)
def test_fixture_models_pass_the_vendor_schema(path: Path) -> None:
    assert schema_errors(json.loads(path.read_text()), MODEL_SCHEMA, str(path)) == []


@needs_vendor_fixtures
@pytest.mark.parametrize("path", ALL_FIXTURE_MODELS, ids=lambda p: p.name)
def test_every_element_of_a_fixture_is_found_by_key_and_by_uuid(path: Path) -> None:
    model = load_model(path, schema_path=MODEL_SCHEMA)
    expected = json_elements(path)
    assert len(model) == len(expected)
    for key, text, designation in expected:
        by_key = model.lookup(key)
        assert by_key is not None, key
        assert model.find(uuid.UUID(text)) is by_key
        assert by_key.primary_key == key
        assert by_key.model_type == designation
    assert model.find(NIL_UUID) is model.root


@needs_vendor_fixtures
def test_fixture_counts_match_the_reference() -> None:
    assert len(load_model(DEMO_SIGNALS)) == 18
    assert len(load_model(WAGO_MODEL)) == 38
    assert len(load_model(SAMPLE_MODEL)) == 19


@needs_vendor_fixtures
@pytest.mark.parametrize(
    ("key", "type_name", "category"),
    [
        ("Signals", "element group", ElementCategory.ELEMENT_GROUP),
        ("Signals.Sine Wave", "data point", ElementCategory.DATA_POINT),
        ("Sampler Track", "execution track", ElementCategory.EXECUTION_TRACK),
        ("Sampler Track.Timer", "timer", ElementCategory.TIMER),
        ("Sampler Track.Pipeline", "execution pipeline", ElementCategory.EXECUTION_PIPELINE),
        ("Sampler", "signal generator sampler", ElementCategory.DEVICE),
        ("Sampler.Noise", "signal generator signal", ElementCategory.DATA_POINT),
        ("Inspector", "debugging inspector", ElementCategory.SPECIAL_PURPOSE),
    ],
)
def test_demo_signals_types_and_categories_match_appendix_a(
    key: str, type_name: str, category: ElementCategory
) -> None:
    element = load_model(DEMO_SIGNALS).element(key)
    assert element.type_name == type_name
    assert element.category is category
    assert element.read(element.attribute(int(Attribute.TYPE))) == type_name
    assert element.read(element.attribute(int(Attribute.CATEGORY))) == category.text


@needs_vendor_fixtures
def test_groups_timers_and_tracks_have_only_the_five_identity_attributes() -> None:
    model = load_model(DEMO_SIGNALS)
    for key in ("Signals", "Sampler Track", "Sampler Track.Timer", "Sampler Track.Pipeline", "Inspector"):
        assert attribute_names(model.element(key)) == {"key", "name", "UUID", "type", "category"}


@needs_vendor_fixtures
def test_signal_has_value_times_and_quality_but_nothing_writable() -> None:
    signal = load_model(DEMO_SIGNALS).element("Sampler.Saw-Tooth")
    assert attribute_names(signal) == {
        "key",
        "name",
        "UUID",
        "type",
        "category",
        "value",
        "updateTime",
        "changeTime",
        "quality",
    }
    assert all(spec.access is Access.READ_ONLY for spec in signal.attributes.values())
    assert signal.attribute(int(Attribute.VALUE)).data_type is DataType.SIGNED_INTEGER_64


@needs_vendor_fixtures
def test_sampler_has_update_time_and_quality_but_no_value() -> None:
    sampler = load_model(DEMO_SIGNALS).element("Sampler")
    assert attribute_names(sampler) - {"key", "name", "UUID", "type", "category"} == {"updateTime", "quality"}


@needs_vendor_fixtures
def test_register_value_is_read_write_with_its_default_type_and_value() -> None:
    register = load_model(SAMPLE_MODEL).element("Semantic Sampler.Test Register")
    assert register.type_name == "register"
    value = register.attribute(int(Attribute.VALUE))
    assert (value.access, value.data_type) == (Access.READ_WRITE, DataType.SIGNED_INTEGER_64)
    assert register.read(value) == 0
    assert attribute_names(register) - {"key", "name", "UUID", "type", "category"} == {
        "value",
        "updateTime",
        "changeTime",
        "writeTime",
        "quality",
    }


@needs_vendor_fixtures
def test_data_point_over_a_signal_is_read_only_with_the_signal_type_units_and_display_name() -> None:
    point = load_model(SAMPLE_MODEL).element("Semantic Sampler.Triangle")
    value = point.attribute(int(Attribute.VALUE))
    assert (value.access, value.data_type) == (Access.READ_ONLY, DataType.FLOAT_32)
    by_name = {spec.name: spec for spec in point.attributes.values()}
    assert point.read(by_name["displayName"]) == "A synthetic triangle wave"
    assert point.read(by_name["units"]) == ""
    assert "writeTime" not in by_name and "deviceState" not in by_name
    # Custom attributes are addressed by a UUID that does not change between loads.
    again = load_model(SAMPLE_MODEL).element("Semantic Sampler.Triangle")
    assert {s.uuid for s in again.attributes.values()} == {s.uuid for s in point.attributes.values()}


@needs_vendor_fixtures
def test_display_name_defaults_to_the_primary_key() -> None:
    point = load_model(DEMO_SIGNALS).element("Signals.Pulse")
    spec = next(s for s in point.attributes.values() if s.name == "displayName")
    displayed = point.read(spec)
    assert displayed in (
        "Signals.Pulse",
        json.loads(DEMO_SIGNALS.read_text())["children"][0]["@Group"]["children"][0]["@DataPoint"].get("displayName"),
    )


@needs_vendor_fixtures
def test_wago_outputs_are_writable_boolean_data_points_and_inputs_read_only() -> None:
    model = load_model(WAGO_MODEL)
    entry_out = model.element("EtherCAT Terminal.WAGO 750-1506.Out1")
    entry_in = model.element("EtherCAT Terminal.WAGO 750-1506.In1")
    assert entry_out.type_name == "EtherCAT device entry"
    assert entry_out.category is ElementCategory.DATA_POINT
    assert entry_out.attribute(int(Attribute.VALUE)).access is Access.READ_WRITE
    assert entry_in.attribute(int(Attribute.VALUE)).access is Access.READ_ONLY
    assert entry_out.data_type is DataType.BOOLEAN and entry_out.value is False
    assert model.element("WagoIO.Out1").attribute(int(Attribute.VALUE)).access is Access.READ_WRITE
    assert model.element("WagoIO.In1").attribute(int(Attribute.VALUE)).access is Access.READ_ONLY
    assert model.element("EtherCAT Terminal").category is ElementCategory.DEVICE_GROUP
    device = model.element("EtherCAT Terminal.WAGO 750-1506")
    assert device.category is ElementCategory.DEVICE
    assert device.read(device.attribute(int(Attribute.DEVICE_STATE))) is True


def block(designation: str, name: str, n: int, **props: Any) -> dict[str, Any]:
    return {designation: {"name": name, "UUID": str(uuid.UUID(int=n)), **props}}


def test_bracketed_names_keep_their_brackets_in_keys_and_references() -> None:
    data = {
        "children": [
            block(
                "@Group",
                "[v1.2]",
                1,
                children=[block("@Skill.SignalFlow.Register", "R", 2, defaultValue=["bool", True])],
            ),
            block("@DataPoint", "P", 3, io="[v1.2].R"),
        ]
    }
    model = load_model_data(data)
    register = model.element("[v1.2].R")
    assert model.element("[v1.2]").name == "[v1.2]"
    assert model.element("P").value is True and model.element("P").data_type is DataType.BOOLEAN
    assert register.primary_key == "[v1.2].R"


def test_v1_id_and_uuid_members_are_accepted_as_aliases() -> None:
    data = {
        "children": [
            {
                "@Group": {
                    "id": "Old",
                    "uuid": str(uuid.UUID(int=7)),
                    "children": [
                        {
                            "@IOComponents.SignalGenerator.Sampler": {
                                "id": "Gen",
                                "uuid": str(uuid.UUID(int=8)),
                            }
                        }
                    ],
                }
            }
        ]
    }
    model = load_model_data(data)
    assert model.element("Old").uuid == uuid.UUID(int=7)
    assert model.element("Old.Gen").type_name == "signal generator sampler"


def test_root_acl_and_element_acls_are_kept_raw() -> None:
    acl = {"inherit": False, "entries": [{"role": "Operator", "allow": ["read"]}]}
    data = {"ACL": {"entries": []}, "children": [block("@Group", "G", 1, ACL=acl)]}
    model = load_model_data(data)
    assert model.root.acl == {"entries": []}
    assert model.element("G").acl == acl


def test_unknown_plugin_skill_loads_as_a_generic_element() -> None:
    data = {
        "children": [
            block("@Skill.Acme.Controller", "Ctl", 1),
            block("@Skill.Acme.Sensor", "Temp", 2, dataType="int32"),
            block("@Skill.Acme.Client", "Cloud", 3),
        ]
    }
    model = load_model_data(data)
    assert model.element("Ctl").category is ElementCategory.MICROSERVICE
    assert model.element("Ctl").type_name == "Controller (Acme)"
    assert model.element("Temp").category is ElementCategory.DATA_POINT
    assert model.element("Temp").data_type is DataType.SIGNED_INTEGER_32
    assert model.element("Cloud").category is ElementCategory.EXTERNAL_INTERFACE

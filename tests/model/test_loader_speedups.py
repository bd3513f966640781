"""What the faster loader must keep: shared attribute specs, lookups by UUID, resolved references, the collector."""

from __future__ import annotations

import gc
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xentara_ws.model.element import custom_attribute, standard_attribute
from xentara_ws.model.formats import split_key
from xentara_ws.model.loader import ModelError, load_model_data
from xentara_ws.model.skills import DataPoint
from xentara_ws.protocol.errors import ProtocolError
from xentara_ws.protocol.identifiers import Access, Attribute, DataType

NAMESPACE = uuid.UUID("6f1c9a52-1b8e-4f4e-9c55-2b7f1f0c9a01")


def uid(text: str) -> str:
    return str(uuid.uuid5(NAMESPACE, text))


def register(name: str, data_type: str, value: Any) -> dict[str, Any]:
    return {"@Skill.SignalFlow.Register": {"name": name, "UUID": uid(name), "defaultValue": [data_type, value]}}


def point(name: str, io: Any) -> dict[str, Any]:
    return {"@DataPoint": {"name": name, "UUID": uid(name), "io": io}}


def group(name: str, children: list[dict[str, Any]]) -> dict[str, Any]:
    return {"@Group": {"name": name, "UUID": uid(name), "children": children}}


def grid(groups: int, per_group: int) -> dict[str, Any]:
    """Groups of registers, each with a data point attached to it (the shape of the benchmark's big model)."""
    children = []
    for g in range(groups):
        members = []
        for r in range(per_group):
            members.append(register(f"R{g}x{r}", "int64", g * 1000 + r))
            members.append(point(f"P{g}x{r}", f"G{g}.R{g}x{r}"))
        children.append(group(f"G{g}", members))
    return {"children": children}


@pytest.fixture
def collector_enabled() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_every_data_point_of_a_grid_reads_its_own_register() -> None:
    model = load_model_data(grid(5, 20))
    assert len(model) == 5 + 5 * 20 * 2
    for g in range(5):
        for r in range(20):
            data_point = model.element(f"G{g}.P{g}x{r}")
            assert isinstance(data_point, DataPoint)
            assert data_point.input is model.element(f"G{g}.R{g}x{r}")
            assert data_point.read(data_point.attribute(11)) == g * 1000 + r


def test_references_through_bracketed_names_and_attribute_members_resolve_as_before() -> None:
    data = {
        "children": [
            group("[v1.2]", [register("Level", "float64", 1.5), register("Flag", "bool", True)]),
            point("ByKey", "[v1.2].Level"),
            point("Split", {"input": "[v1.2].Flag", "output": "[v1.2].Level"}),
            point("Repeat", "[v1.2].Level"),
        ]
    }
    model = load_model_data(data)
    level, flag = model.element("[v1.2].Level"), model.element("[v1.2].Flag")
    by_key, split, repeat = (model.element(k) for k in ("ByKey", "Split", "Repeat"))
    assert isinstance(by_key, DataPoint) and isinstance(split, DataPoint) and isinstance(repeat, DataPoint)
    assert by_key.input is level and by_key.output is level
    assert repeat.input is level
    assert split.input is flag and split.output is level


def test_a_dangling_reference_is_still_reported() -> None:
    with pytest.raises(ModelError, match=r"dangling reference 'Nowhere\.Missing'"):
        load_model_data({"children": [group("G0", [point("P", "Nowhere.Missing")])]})


def test_elements_of_one_type_share_their_specs_but_keep_their_own_attribute_tables() -> None:
    model = load_model_data({"children": [register("A", "float64", 1.0), register("B", "float64", 2.0)]})
    a, b = model.element("A"), model.element("B")
    assert a.attribute(11) is b.attribute(11)
    a.add_attribute(custom_attribute("extra", Access.READ_ONLY, DataType.STRING))
    extra = custom_attribute("extra", Access.READ_ONLY, DataType.STRING).key
    assert a.attribute(extra).name == "extra"
    with pytest.raises(ProtocolError):
        b.attribute(extra)


def test_specs_differ_where_their_access_or_type_differ() -> None:
    model = load_model_data({"children": [register("A", "float64", 1.0), register("B", "int32", 2)]})
    assert model.element("A").attribute(11).data_type is DataType.FLOAT_64
    assert model.element("B").attribute(11).data_type is DataType.SIGNED_INTEGER_32
    assert standard_attribute(Attribute.VALUE, Access.READ_WRITE, DataType.FLOAT_64) != standard_attribute(
        Attribute.VALUE, Access.READ_ONLY, DataType.FLOAT_64
    )


def test_attributes_are_found_by_standard_and_custom_uuid() -> None:
    model = load_model_data({"children": [register("R", "float64", 1.0), point("P", "R")]})
    data_point = model.element("P")
    assert data_point.attribute(Attribute.VALUE.uuid) is data_point.attribute(11)
    assert data_point.attribute(Attribute.NAME.uuid).key == 1
    units = custom_attribute("units", Access.READ_ONLY, DataType.STRING)
    assert data_point.attribute(units.uuid) is units
    with pytest.raises(ProtocolError):
        model.element("R").attribute(units.uuid)  # a register has no units


@pytest.mark.parametrize("key", [True, 1.0, "1", None])
def test_a_key_that_merely_equals_an_id_is_no_attribute(key: object) -> None:
    element = load_model_data({"children": [register("R", "float64", 1.0)]}).element("R")
    with pytest.raises(ProtocolError):
        element.attribute(key)


@pytest.mark.usefixtures("collector_enabled")
def test_loading_leaves_the_collector_running() -> None:
    load_model_data(grid(1, 2))
    assert gc.isenabled()
    with pytest.raises(ModelError):
        load_model_data({"children": [register("R", "nonsense", 1)]})
    assert gc.isenabled()


def test_loading_does_not_start_a_collector_that_was_off() -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        load_model_data(grid(1, 2))
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


names = st.text(alphabet=st.characters(blacklist_characters=".[]"), min_size=1, max_size=8)


@given(st.lists(st.one_of(names, names.map(lambda n: f"[{n}.x]")), min_size=1, max_size=6))
def test_split_key_gives_back_the_components_it_was_built_from(parts: list[str]) -> None:
    assert split_key(".".join(parts)) == parts

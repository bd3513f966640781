"""The built-in demo configuration is valid and alive out of the box."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from support.clocks import at
from support.fixtures import FIXTURES, MODEL_SCHEMA, needs_vendor_fixtures

from xentara_ws.demo import DEMO_DIR, DEMO_PASSWORD, DEMO_USER
from xentara_ws.model import values
from xentara_ws.model.loader import load_model, schema_errors
from xentara_ws.model.simulation import Simulation
from xentara_ws.protocol.identifiers import Access, Attribute, DataType
from xentara_ws.security.passwords import verify_password

SCHEMAS = FIXTURES / "xentara-schemas"


def read(name: str) -> Any:
    return json.loads((DEMO_DIR / name).read_text(encoding="utf-8"))


@needs_vendor_fixtures
def test_demo_model_is_valid_against_the_vendor_schema() -> None:
    assert schema_errors(read("model.json"), MODEL_SCHEMA, "demo") == []
    assert len(load_model(DEMO_DIR / "model.json", schema_path=MODEL_SCHEMA)) > 20


@needs_vendor_fixtures
@pytest.mark.parametrize("name", ["config", "users", "security", "passwords"])
def test_demo_security_files_are_valid_against_the_vendor_schemas(name: str) -> None:
    schema = json.loads((SCHEMAS / f"schema-xentara-{name}.json").read_text())
    jsonschema.validate(read(f"{name}.json"), schema)


def test_demo_config_serves_basic_auth_on_8080() -> None:
    server = read("config.json")["httpServer"]
    assert server["port"] == 8080
    assert server["authentication"] == {"schemes": ["Basic"], "realm": "Xentara"}


@pytest.mark.parametrize(
    ("user", "password", "role"),
    [(DEMO_USER, DEMO_PASSWORD, "Administrator"), ("operator", "operator", "Operator")],
)
def test_demo_users_log_in_with_their_documented_passwords(user: str, password: str, role: str) -> None:
    (entry,) = [u for u in read("users.json")["users"] if u["userName"] == user]
    assert role in entry["roles"]
    assert verify_password(password, read("passwords.json")[entry["UUID"]])


def test_demo_roles_grant_connect_to_everyone_read_to_operators_and_write_to_admins() -> None:
    security = read("security.json")
    assert {r["name"] for r in security["roles"]} == {"Administrator", "Operator"}
    grants = {e["role"]: set(e["allow"]) for e in security["ACL"]["entries"]}
    assert grants == {
        "Everyone": {"websocket.connect"},
        "Administrator": {"read", "write", "suspend", "shutdown"},
        "Operator": {"read"},
    }


def test_demo_model_has_every_wave_form_and_writable_registers_of_four_types() -> None:
    model = load_model(DEMO_DIR / "model.json")
    forms = {next(iter(e.config["waveForm"])) for e in model if e.model_type == "@Skill.SignalGenerator.Signal"}
    assert forms == {"@SineWave", "@Pulse", "@Triangle", "@SawTooth", "@Noise"}
    register_types = {e.data_type for e in model if e.model_type == "@Skill.SignalFlow.Register"}
    assert {
        DataType.FLOAT_64,
        DataType.BOOLEAN,
        DataType.SIGNED_INTEGER_32,
        DataType.STRING,
    } <= register_types
    for element in model:
        if element.model_type == "@Skill.SignalFlow.Register":
            assert element.attribute(int(Attribute.VALUE)).access is Access.READ_WRITE


def test_demo_values_move_and_registers_accept_writes() -> None:
    model = load_model(DEMO_DIR / "model.json")
    simulation = Simulation(model, seed=3)
    simulation.step(at(0.0))
    first = model.element("Plant.Line.Counter").value
    simulation.step(at(7.5))
    assert model.element("Plant.Line.Counter").value != first
    assert simulation.next_due(at(7.55)) == at(7.6)  # the demo samples every 100 ms
    setpoint = model.element("Plant.Line.Setpoint")
    spec = setpoint.attribute(int(Attribute.VALUE))
    setpoint.write(spec, values.convert(spec.data_type, 60), at(8))
    assert model.element("Plant.Registers.Setpoint").value == 60.0


def test_demo_level_is_fed_by_publish() -> None:
    model = load_model(DEMO_DIR / "model.json")
    model.element("Plant.Tank.Level").publish(42.0)
    assert model.element("Plant.Tank.Level").value == 42.0

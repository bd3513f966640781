"""Loading and validating a Xentara configuration folder."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from support.fixtures import SAMPLE_CONFIG as SAMPLE
from support.fixtures import SCHEMAS, needs_vendor_fixtures

from xentara_ws.security.config import ConfigurationError, load_configuration


@needs_vendor_fixtures
def test_vendor_sample_loads_and_validates_against_vendor_schemas() -> None:
    config = load_configuration(SAMPLE, SCHEMAS)
    assert config.http_server is not None
    assert config.http_server.port == 8080
    assert config.http_authentication.schemes == ("Basic",)
    assert config.http_authentication.realm == "Xentara"
    assert config.users["xentara"].roles == ("Administrator",)
    assert config.passwords[uuid.UUID("012a00fb-26f3-4d63-840b-85cf5ea0eb44")].startswith("$6$")
    assert config.global_acl.inherit is False
    assert "Administrator" in config.roles
    assert config.server_certificate is None  # the sample ships no certs/ folder


@needs_vendor_fixtures
def test_schema_dir_can_come_from_environment(monkeypatch: pytest.MonkeyPatch, config_dir) -> None:
    folder = config_dir(config={"httpServer": {"port": 8080, "bogus": 1}})
    load_configuration(folder)  # our own checks ignore unknown httpServer members...
    monkeypatch.setenv("XENTARA_SCHEMA_DIR", str(SCHEMAS))
    with pytest.raises(ConfigurationError) as err:  # ...but the vendor schema does not
        load_configuration(folder)
    assert "config.json: $.httpServer: schema" in str(err.value)


def test_missing_files_give_the_documented_defaults(config_dir) -> None:
    config = load_configuration(config_dir())
    assert config.http_server is None  # no httpServer: a real Xentara serves no WebSocket
    assert any("httpServer" in w for w in config.warnings)
    assert config.users == {} and config.oauth2.issuers == () and config.client_certs.rules == ()
    assert config.global_acl.inherit is True


def test_http_server_without_authentication_uses_default_realm_and_both_schemes(config_dir) -> None:
    config = load_configuration(config_dir(config={"httpServer": {"port": 9000}}))
    assert config.http_server is not None and config.http_server.port == 9000
    assert config.http_authentication.realm == "Xentara"
    assert config.http_authentication.schemes == ("Bearer", "Basic")


def test_invalid_json_names_file_line_and_column(config_dir) -> None:
    folder = config_dir(users='{\n  "users": [\n    {"userName": "a",, }\n  ]\n}')
    with pytest.raises(ConfigurationError) as err:
        load_configuration(folder)
    assert "users.json: line 3, column 22: invalid JSON" in str(err.value)


def test_errors_name_file_and_json_path_and_all_are_collected(config_dir) -> None:
    folder = config_dir(
        config={"httpServer": {"port": 70000}},
        users={"users": [{"userName": "a", "UUID": "not-a-uuid"}]},
        security={"roles": {"Admin": {}}, "ACL": {"entries": [{"allow": ["read"]}]}},
    )
    with pytest.raises(ConfigurationError) as err:
        load_configuration(folder)
    problems = err.value.problems
    assert any(p.startswith("config.json: $.httpServer.port: must be an integer 1-65535") for p in problems)
    assert any(p.startswith("users.json: $.users[0].UUID:") for p in problems)
    assert any(p.startswith("security.json: $.roles: roles must be an array") for p in problems)
    assert any(p.startswith("security.json: $.ACL.entries[0]:") for p in problems)
    assert isinstance(err.value, ValueError)


@needs_vendor_fixtures
def test_schema_errors_carry_the_json_path(config_dir) -> None:
    folder = config_dir(passwords={"012a00fb-26f3-4d63-840b-85cf5ea0eb44": "{SHA}abc"})
    with pytest.raises(ConfigurationError) as err:
        load_configuration(folder, SCHEMAS)
    assert "passwords.json: $.012a00fb-26f3-4d63-840b-85cf5ea0eb44: schema:" in str(err.value)


def test_duplicate_user_names_and_entitlement_clashing_with_builtin_are_refused(config_dir) -> None:
    u = "11111111-1111-1111-1111-111111111111"
    folder = config_dir(
        users={"users": [{"userName": "a", "UUID": u}, {"userName": "a", "UUID": str(uuid.uuid4())}]},
        security={"entitlements": [{"name": "write", "UUID": str(uuid.uuid4())}]},
    )
    with pytest.raises(ConfigurationError) as err:
        load_configuration(folder)
    assert "users.json: $.users[1].userName: duplicate user name 'a'" in str(err.value)
    assert "security.json: $.entitlements[0].name: 'write' clashes with a built-in entitlement" in str(err.value)


def test_undefined_role_of_a_user_is_ignored_with_a_warning(config_dir) -> None:
    folder = config_dir(users={"users": [{"userName": "a", "UUID": str(uuid.uuid4()), "roles": ["Ghost"]}]})
    config = load_configuration(folder)
    assert config.users["a"].roles == ()
    assert any("undefined role 'Ghost'" in w for w in config.warnings)


def test_tls_paths_resolve_against_certs_and_private_folders(config_dir) -> None:
    folder = config_dir(
        security={"TLS": {"serverCertificate": {"certificatePath": "srv.pem", "privateKeyPath": "srv.key"}}}
    )
    (folder / "certs").mkdir()
    (folder / "private").mkdir()
    (folder / "certs" / "srv.pem").write_text("x")
    (folder / "private" / "srv.key").write_text("x")
    config = load_configuration(folder)
    assert config.server_certificate is not None
    assert config.server_certificate.certificate_path == folder / "certs" / "srv.pem"
    assert config.server_certificate.private_key_path == folder / "private" / "srv.key"


def test_missing_tls_file_is_a_configuration_error(config_dir) -> None:
    folder = config_dir(
        security={
            "TLS": {
                "serverCertificate": {"certificatePath": "/nonexistent/a.pem", "privateKeyPath": "/nonexistent/a.key"}
            }
        }
    )
    with pytest.raises(ConfigurationError) as err:
        load_configuration(folder)
    assert "security.json: $.TLS.serverCertificate.certificatePath: file not found" in str(err.value)


def test_default_server_certificate_location_is_used(config_dir) -> None:
    folder = config_dir()
    for rel in ("certs/xentara.pem", "private/xentara.key.pem"):
        (folder / rel).parent.mkdir(exist_ok=True)
        (folder / rel).write_text("x")
    config = load_configuration(folder)
    assert config.server_certificate is not None
    assert config.server_certificate.certificate_path == Path(folder / "certs/xentara.pem")

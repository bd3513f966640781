"""Password hash verification and the passwords.json updater."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest
from passlib.hash import sha256_crypt, sha512_crypt
from support.fixtures import SAMPLE_CONFIG as SAMPLE
from support.fixtures import SCHEMAS, needs_vendor_fixtures, sample_password

from xentara_ws.security.config import ConfigurationError, load_configuration
from xentara_ws.security.passwords import PasswordFileError, hash_password, set_password, verify_password

SAMPLE_UUID = "012a00fb-26f3-4d63-840b-85cf5ea0eb44"


@needs_vendor_fixtures
def test_vendor_sample_sha512_crypt_hash_verifies_with_sample_password() -> None:
    hashed = json.loads((SAMPLE / "passwords.json").read_text())[SAMPLE_UUID]
    assert verify_password(sample_password(), hashed)
    assert not verify_password(sample_password() + "x", hashed)
    assert not verify_password("", hashed)


@pytest.mark.parametrize(
    "hashed",
    [
        sha512_crypt.hash("s3cret"),
        sha512_crypt.using(rounds=10000).hash("s3cret"),
        sha256_crypt.hash("s3cret"),
        sha256_crypt.using(rounds=6000).hash("s3cret"),
        hash_password("s3cret"),
        hash_password("s3cret", "sha512_crypt"),
    ],
    ids=["sha512", "sha512-rounds", "sha256", "sha256-rounds", "argon2id", "tool-default"],
)
def test_supported_hashes_verify_right_password_only(hashed: str) -> None:
    assert verify_password("s3cret", hashed)
    assert not verify_password("s3cret ", hashed)


def test_bcrypt_hashes_verify() -> None:
    bcrypt = pytest.importorskip("bcrypt")
    for prefix in (b"2a", b"2b"):
        hashed = bcrypt.hashpw(b"s3cret", bcrypt.gensalt(rounds=4, prefix=prefix)).decode()
        assert verify_password("s3cret", hashed)
        assert not verify_password("wrong", hashed)
    y = bcrypt.hashpw(b"s3cret", bcrypt.gensalt(rounds=4)).decode().replace("$2b$", "$2y$", 1)
    assert verify_password("s3cret", y)


def test_unknown_or_broken_hash_is_no_usable_password(caplog: pytest.LogCaptureFixture) -> None:
    assert not verify_password("x", "{SHA}abcdef")
    assert "unsupported password hash format" in caplog.text
    assert not verify_password("x", "$6$broken")
    assert not verify_password("x", "$argon2id$garbage")


def test_hash_password_defaults_to_sha512_crypt_and_still_offers_argon2id() -> None:
    assert hash_password("pw").startswith("$6$")
    assert hash_password("pw", "argon2id").startswith("$argon2id$")


def _copy_sample(tmp_path: Path) -> Path:
    folder = tmp_path / "cfg"
    shutil.copytree(SAMPLE, folder)
    for f in folder.iterdir():
        f.chmod(0o644)
    folder.chmod(0o755)
    return folder


@needs_vendor_fixtures
def test_set_password_round_trip_keeps_other_entries_and_stays_schema_valid(tmp_path: Path) -> None:
    folder = _copy_sample(tmp_path)
    users = json.loads((folder / "users.json").read_text())
    other = str(uuid.uuid4())
    users["users"].append({"userName": "operator", "UUID": other})
    (folder / "users.json").write_text(json.dumps(users))
    set_password(folder, "operator", "op-pass", scheme="sha512_crypt")
    set_password(folder, "xentara", "new-pass", scheme="sha512_crypt")

    config = load_configuration(folder, SCHEMAS)  # a real Xentara could read the file too
    assert verify_password("new-pass", config.passwords[uuid.UUID(SAMPLE_UUID)])
    assert not verify_password(sample_password(), config.passwords[uuid.UUID(SAMPLE_UUID)])
    assert verify_password("op-pass", config.passwords[uuid.UUID(other)])
    assert config.passwords[uuid.UUID(other)].startswith("$6$")
    assert not list(folder.glob(".passwords.json.*"))  # no temp file left behind

    set_password(folder, "operator", None)
    config = load_configuration(folder, SCHEMAS)
    assert uuid.UUID(other) not in config.passwords
    assert uuid.UUID(SAMPLE_UUID) in config.passwords


@needs_vendor_fixtures
def test_set_password_writes_sha512_crypt_by_default_which_the_vendor_schema_accepts(tmp_path: Path) -> None:
    folder = _copy_sample(tmp_path)
    set_password(folder, "xentara", "new-pass")
    config = load_configuration(folder, SCHEMAS)
    stored = config.passwords[uuid.UUID(SAMPLE_UUID)]
    assert stored.startswith("$6$") and verify_password("new-pass", stored)


@needs_vendor_fixtures
def test_a_schema_error_in_passwords_json_names_the_path_but_never_the_hash(tmp_path: Path) -> None:
    folder = _copy_sample(tmp_path)
    set_password(folder, "xentara", "new-pass", scheme="argon2id")
    stored = json.loads((folder / "passwords.json").read_text())[SAMPLE_UUID]
    with pytest.raises(ConfigurationError) as refused:
        load_configuration(folder, SCHEMAS)
    message = str(refused.value)
    assert f"$.{SAMPLE_UUID}" in message and "passwords.json" in message and "sha512-crypt" in message
    assert stored not in message and "$argon2id$" not in message


@needs_vendor_fixtures
def test_set_password_refuses_unknown_user(tmp_path: Path) -> None:
    folder = _copy_sample(tmp_path)
    before = (folder / "passwords.json").read_text()
    with pytest.raises(PasswordFileError, match="no user named 'nobody'"):
        set_password(folder, "nobody", "pw")
    assert (folder / "passwords.json").read_text() == before

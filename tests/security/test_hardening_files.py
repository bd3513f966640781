"""Issue 14: passwd under a lock, the self-signed TLS state under a lock, secrets kept out of logs."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from support.fixtures import SAMPLE_CONFIG as SAMPLE
from support.fixtures import sample_password
from support.security import make_cert, name, pem

from xentara_ws.security.config import load_configuration
from xentara_ws.security.passwords import set_password, verify_password
from xentara_ws.security.tls import SELF_SIGNED_CERT, SELF_SIGNED_KEY, server_ssl_context

SAMPLE_UUID = "012a00fb-26f3-4d63-840b-85cf5ea0eb44"


def _config_with_users(tmp_path: Path, count: int) -> tuple[Path, list[str]]:
    folder = tmp_path / "cfg"
    shutil.copytree(SAMPLE, folder)
    for f in folder.iterdir():
        f.chmod(0o644)
    folder.chmod(0o755)
    users = json.loads((folder / "users.json").read_text())
    names = [f"operator{i}" for i in range(count)]
    for user in names:
        users["users"].append({"userName": user, "UUID": str(uuid.uuid4())})
    (folder / "users.json").write_text(json.dumps(users))
    return folder, names


def _passwd(folder: Path, user: str, line: bytes) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "xentara_ws", "passwd", user, "--config", str(folder), "--scheme", "sha512-crypt"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_concurrent_passwd_runs_keep_every_change(tmp_path: Path) -> None:
    folder, names = _config_with_users(tmp_path, 6)
    runs = [_passwd(folder, user, b"") for user in names]
    for user, run in zip(names, runs, strict=True):
        run.stdin.write(f"pw-{user}\n".encode())  # type: ignore[union-attr]
        run.stdin.close()  # type: ignore[union-attr]
    for run in runs:
        assert run.wait(timeout=120) == 0, run.stderr.read()  # type: ignore[union-attr]
    config = load_configuration(folder)
    for user in names:
        hashed = config.passwords[config.users[user].uuid]
        assert verify_password(f"pw-{user}", hashed), f"the change for {user} was lost"
    assert verify_password(sample_password(), config.passwords[uuid.UUID(SAMPLE_UUID)])
    assert (folder / "passwords.json").stat().st_mode & 0o777 == 0o600
    assert not list(folder.glob(".passwords.json.*"))


def test_passwd_strips_a_windows_line_ending(tmp_path: Path) -> None:
    folder, names = _config_with_users(tmp_path, 1)
    run = _passwd(folder, names[0], b"")
    _, err = run.communicate(b"s3cret\r\n", timeout=60)
    assert run.returncode == 0, err
    config = load_configuration(folder)
    hashed = config.passwords[config.users[names[0]].uuid]
    assert verify_password("s3cret", hashed)
    assert not verify_password("s3cret\r", hashed)


def test_a_temp_file_left_by_a_crash_is_removed_by_the_next_run(tmp_path: Path) -> None:
    folder, names = _config_with_users(tmp_path, 1)
    leftover = folder / ".passwords.json.tmp"
    leftover.write_text('{"every": "hash"}')
    set_password(folder, names[0], "pw", scheme="sha512_crypt")
    assert not leftover.exists()
    assert not list(folder.glob(".passwords.json.*"))


def test_a_failed_write_leaves_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, names = _config_with_users(tmp_path, 1)
    before = (folder / "passwords.json").read_bytes()

    def broken_replace(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        set_password(folder, names[0], "pw", scheme="sha512_crypt")
    assert not list(folder.glob(".passwords.json.*"))
    assert (folder / "passwords.json").read_bytes() == before


_TLS_SCRIPT = """
import sys
from xentara_ws.security.tls import server_ssl_context
server_ssl_context(None, sys.argv[1])
"""


def _pair_matches(state: Path) -> bool:
    cert = x509.load_pem_x509_certificate((state / SELF_SIGNED_CERT).read_bytes())
    key = serialization.load_pem_private_key((state / SELF_SIGNED_KEY).read_bytes(), password=None)
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return bool(cert.public_key().public_bytes(*spki) == key.public_key().public_bytes(*spki))


def test_servers_starting_together_on_an_empty_state_folder_agree_on_one_pair(tmp_path: Path) -> None:
    for round_ in range(4):
        state = tmp_path / f"state{round_}"
        runs = [
            subprocess.Popen([sys.executable, "-c", _TLS_SCRIPT, str(state)], stderr=subprocess.PIPE) for _ in range(5)
        ]
        for run in runs:
            assert run.wait(timeout=120) == 0, run.stderr.read()  # type: ignore[union-attr]
        assert _pair_matches(state)
        assert not list(state.glob(".*.tmp"))


def test_a_truncated_self_signed_key_is_regenerated(tmp_path: Path) -> None:
    state = tmp_path / "state"
    _, first, _ = server_ssl_context(None, state)
    key = state / SELF_SIGNED_KEY
    key.write_bytes(key.read_bytes()[:40])
    _, second, _ = server_ssl_context(None, state)
    assert second != first
    assert _pair_matches(state)


def test_a_configured_pair_that_does_not_match_is_refused_clearly(tmp_path: Path) -> None:
    cert, _ = make_cert(name(CN="xentara.example"))
    _, other_key = make_cert(name(CN="other"))
    folder = tmp_path / "cfg"
    (folder / "certs").mkdir(parents=True)
    (folder / "private").mkdir()
    (folder / "certs" / "xentara.pem").write_bytes(pem(cert))
    (folder / "private" / "xentara.key.pem").write_bytes(
        other_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    config = load_configuration(folder)
    with pytest.raises(ValueError, match="does not belong to certificate"):
        server_ssl_context(config, tmp_path / "state")


def test_a_plaintext_password_in_passwords_json_never_reaches_the_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for value in ("hunter2-plaintext", "$6$hunter2-broken", "$argon2id$hunter2"):
        assert not verify_password("guess", value)
    assert "hunt" not in caplog.text
    assert "unsupported password hash format (not a crypt hash)" in caplog.text

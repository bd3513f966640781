"""`xentara-ws serve` as a user runs it: a real process, its output, signals and refusals."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from support.fixtures import SAMPLE_CONFIG, needs_vendor_fixtures
from support.servers import banner_port, serve_argv, serve_process

from xentara_ws import __version__
from xentara_ws.cli import main


def serve(*argv: str, tmp_path) -> subprocess.Popen[str]:
    return serve_process(*serve_argv("--state-dir", str(tmp_path / "state"), *argv))


def first_lines(process: subprocess.Popen[str], count: int) -> list[str]:
    assert process.stdout is not None
    return [process.stdout.readline().strip() for _ in range(count)]


def test_the_demo_prints_its_url_fingerprint_and_credentials_and_stops_cleanly_on_sigterm(tmp_path):
    process = serve(tmp_path=tmp_path)
    try:
        lines = first_lines(process, 3)
        assert lines[0].startswith("xentara-ws serving ") and "wss://127.0.0.1:" in lines[0]
        assert "SHA-256 fingerprint" in lines[1]
        assert lines[2] == "demo user: demo  password: demo"
        port = banner_port(lines[0])
        from xentara_ws.cli import main as cli

        assert (
            cli(
                [
                    "info",
                    "--url",
                    f"wss://127.0.0.1:{port}/api/ws",
                    "--user",
                    "demo",
                    "--password",
                    "demo",
                    "--insecure",
                    "--json",
                ]
            )
            == 0
        )
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0


def test_sigint_also_stops_cleanly(tmp_path):
    process = serve("--no-tls", tmp_path=tmp_path)
    lines = first_lines(process, 2)
    assert "ws://127.0.0.1:" in lines[0] and "TLS is off" in "".join(lines)
    process.send_signal(signal.SIGINT)
    assert process.wait(15) == 0


def test_an_invalid_model_is_refused_naming_the_file_path_and_problem(tmp_path, capsys):
    broken = tmp_path / "model.json"
    broken.write_text(json.dumps({"children": [{"@Group": {"name": "A", "UUID": "not-a-uuid"}}]}))
    assert main(["serve", "--model", str(broken), "--no-tls", "--port", "0"]) == 2
    error = capsys.readouterr().err
    assert str(broken) in error and "$.children[0]" in error and "UUID" in error


def test_a_missing_configuration_folder_is_refused(tmp_path, capsys):
    assert main(["serve", "--config", str(tmp_path / "nowhere"), "--no-tls"]) == 2
    assert "no such directory" in capsys.readouterr().err


@needs_vendor_fixtures
def test_broken_security_files_are_refused_naming_the_file(tmp_path, capsys):
    import shutil

    folder = tmp_path / "config"
    shutil.copytree(SAMPLE_CONFIG, folder)
    (folder / "users.json").write_text('{"users": [ {"userName": 5} ]}')
    assert main(["serve", "--config", str(folder), "--no-tls", "--port", "0"]) == 2
    assert "users.json" in capsys.readouterr().err


@needs_vendor_fixtures
def test_the_port_comes_from_config_json(tmp_path):
    from xentara_ws.cli import build_parser, serve_options
    from xentara_ws.server.bootstrap import plan

    args = build_parser().parse_args(["serve", "--config", str(SAMPLE_CONFIG)])
    assert plan(serve_options(args)).port == 8080
    args = build_parser().parse_args(["serve", "--config", str(SAMPLE_CONFIG), "--port", "9001"])
    assert plan(serve_options(args)).port == 9001


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and __version__ in capsys.readouterr().out


@needs_vendor_fixtures
def test_passwd_sets_a_sha512_crypt_hash_by_default_and_argon2id_on_request(tmp_path, monkeypatch):
    import io
    import shutil

    from xentara_ws.security import load_configuration, verify_password

    folder = tmp_path / "config"
    shutil.copytree(SAMPLE_CONFIG, folder)
    monkeypatch.setattr(sys, "stdin", io.StringIO("fresh-password\n"))
    assert main(["passwd", "--config", str(folder), "xentara"]) == 0
    stored = next(iter(load_configuration(folder, SAMPLE_CONFIG.parent / "xentara-schemas").passwords.values()))
    assert stored.startswith("$6$") and verify_password("fresh-password", stored)
    monkeypatch.setattr(sys, "stdin", io.StringIO("other-password\n"))
    assert main(["passwd", "--config", str(folder), "--scheme", "argon2id", "xentara"]) == 0
    stored = next(iter(load_configuration(folder).passwords.values()))
    assert stored.startswith("$argon2id$") and verify_password("other-password", stored)
    monkeypatch.setattr(sys, "stdin", io.StringIO("x\n"))
    assert main(["passwd", "--config", str(folder), "nobody"]) == 2


def test_serve_waits_for_nothing_when_started_twice_on_one_port(tmp_path, capsys):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        assert main(["serve", "--no-tls", "--host", "127.0.0.1", "--port", str(port)]) == 2
        assert time.monotonic() - started < 10
    assert "cannot listen" in capsys.readouterr().err


@needs_vendor_fixtures
def test_schema_dir_validates_the_files_against_the_vendor_schemas(tmp_path, capsys):
    import shutil

    schemas = SAMPLE_CONFIG.parent / "xentara-schemas"
    folder = tmp_path / "config"
    shutil.copytree(SAMPLE_CONFIG, folder)
    model = json.loads((folder / "model.json").read_text())
    model["children"][0]["@Group"]["colour"] = "red"  # our own checks allow it; the vendor schema does not
    (folder / "model.json").write_text(json.dumps(model))
    argv = ["serve", "--config", str(folder), "--no-tls", "--port", "0", "--schema-dir", str(schemas)]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert "model.json" in error and "colour" in error


def test_limits_come_from_the_command_line_and_bad_ones_are_refused(capsys):
    from xentara_ws.cli import build_parser, serve_options
    from xentara_ws.server.bootstrap import limits_from
    from xentara_ws.server.serve_plan import ServeError

    args = build_parser().parse_args(
        ["serve", "--max-subscriptions", "5", "--max-packets", "10", "--hello-timeout", "2"]
    )
    limits = limits_from(serve_options(args))
    assert (limits.max_subscriptions, limits.max_packets_per_message, limits.client_hello_timeout) == (5, 10, 2.0)
    with pytest.raises(ServeError, match="--max-connections must be positive"):
        limits_from(serve_options(build_parser().parse_args(["serve", "--max-connections", "0"])))

"""A running server picks up changed security files: on disk (polled) and on SIGHUP; invalid files keep the old."""

from __future__ import annotations

import io
import signal
import sys

from support.servers import copy_demo, serving

from xentara_ws.cli import main


def info(url: str, user: str, password: str) -> int:
    return main(["info", "--url", url, "--user", user, "--password", password])


def passwd(folder, user: str, password: str, monkeypatch, capsys) -> str:
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    assert main(["passwd", "--config", str(folder), user]) == 0
    return capsys.readouterr().out


def test_a_password_set_with_passwd_works_at_once_and_the_old_one_is_refused(tmp_path, monkeypatch, capsys):
    folder = copy_demo(tmp_path)
    with serving(tmp_path, "--config", str(folder), "--host", "127.0.0.1", "--no-tls") as server:
        assert info(server.url, "demo", "demo") == 0
        mark = len(server.log_text())
        out = passwd(folder, "demo", "brand-new-secret", monkeypatch, capsys)
        assert "a running server with this --config picks the change up" in out
        assert server.wait_for_log("reloaded the security configuration", after=mark), server.log_text()
        assert info(server.url, "demo", "brand-new-secret") == 0
        capsys.readouterr()
        assert info(server.url, "demo", "demo") == 2
        assert "HTTP 401" in capsys.readouterr().err


def test_an_invalid_file_keeps_the_old_configuration_and_names_the_file(tmp_path):
    folder = copy_demo(tmp_path)
    with serving(tmp_path, "--config", str(folder), "--host", "127.0.0.1", "--no-tls") as server:
        (folder / "users.json").write_text('{"users": [{"userName": "demo"')
        assert server.wait_for_log("keeping the previous one"), server.log_text()
        log = server.log_text()
        assert "users.json" in log and "invalid JSON" in log
        assert info(server.url, "demo", "demo") == 0


def test_sighup_reloads_when_polling_is_off(tmp_path, monkeypatch, capsys):
    folder = copy_demo(tmp_path)
    argv = ("--config", str(folder), "--host", "127.0.0.1", "--no-tls", "--reload-interval", "0")
    with serving(tmp_path, *argv) as server:
        passwd(folder, "operator", "changed-by-hup", monkeypatch, capsys)
        assert info(server.url, "operator", "operator") == 0  # not polled: the old password still holds
        mark = len(server.log_text())
        server.process.send_signal(signal.SIGHUP)
        assert server.wait_for_log("reloaded the security configuration", after=mark), server.log_text()
        assert "(SIGHUP)" in server.log_text()[mark:]
        assert info(server.url, "operator", "changed-by-hup") == 0
        assert info(server.url, "operator", "operator") == 2

"""What a newcomer trips over in the command-line client, run through cli.main against a real server."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import subprocess

from support.models import COUNTER_UUID
from support.servers import url

from xentara_ws.cli import main


async def cli(*argv: str) -> int:
    # main() runs its own event loop, so it runs in a thread while the server serves on ours.
    return await asyncio.wait_for(asyncio.to_thread(main, list(argv)), 30)


async def test_write_without_attr_writes_the_value(server, capsys):
    assert await cli("write", "Group 1.Counter", "17", "--url", url(server)) == 0
    assert "wrote 17 to Group 1.Counter value" in capsys.readouterr().out
    counter = server.model.find(COUNTER_UUID)
    assert counter.read(counter.attribute(11)) == 17
    assert await cli("write", "Group 1.Counter", "value", "18", "--url", url(server)) == 0
    assert counter.read(counter.attribute(11)) == 18


async def test_log_level_is_accepted_after_the_sub_command(server, capsys):
    assert await cli("browse", "--log-level", "ERROR", "--url", url(server)) == 0
    assert "Group 1" in capsys.readouterr().out


async def test_insecure_prints_one_short_notice_and_no_logged_warning(tls_server, capsys, caplog):
    caplog.set_level(logging.WARNING)
    assert await cli("info", "--url", url(tls_server, "wss"), "--insecure") == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["xentara-ws: note: not verifying the server's certificate (--insecure)"]
    assert not [r for r in caplog.records if r.name == "xentara_ws.client.tls"]


async def test_never_written_times_read_never_but_json_keeps_the_raw_value(server, capsys):
    assert await cli("read", "Group 1.Pending", "changeTime", "--url", url(server)) == 0
    assert capsys.readouterr().out.split() == ["changeTime", "never"]
    assert await cli("read", "Group 1.Pending", "changeTime", "--url", url(server), "--json") == 0
    assert json.loads(capsys.readouterr().out)["values"]["changeTime"].startswith("1677-09-21T00:12:43")


async def test_info_says_which_account_the_server_runs_as(server, capsys):
    assert await cli("info", "--url", url(server)) == 0
    out = capsys.readouterr().out
    assert "server runs as: " in out and "user name" not in out


async def test_a_read_with_errors_says_what_failed_and_exits_1(server, capsys):
    assert await cli("read", "Group 1.Flag", "deviceState", "--url", url(server)) == 1
    captured = capsys.readouterr()
    assert "missing attribute" in captured.out
    assert "could not read deviceState (exit code 1)" in captured.err


async def test_a_filtered_browse_shows_each_line_under_its_parents(server, capsys):
    assert await cli("browse", "--url", url(server), "--category", "data-point") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Group 1"
    assert lines[1].startswith("  Data Point 1  (data point)")
    assert all(line.startswith("  ") for line in lines[1:])


async def test_a_wrong_sub_session_password_says_the_login_failed(login_server, capsys):
    code = await cli("login", "--login-user", "operator", "--login-password", "nope", "--url", url(login_server))
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the login of operator failed" in err[0] and "roles" not in err[0]


async def test_plain_ws_against_a_tls_server_says_use_wss(tls_server, capsys):
    assert await cli("info", "--url", url(tls_server, "ws"), "--timeout", "5") == 2
    err = capsys.readouterr().err
    assert "speaks TLS, use wss://" in err


async def test_wss_against_a_plain_server_says_use_ws(server, capsys):
    assert await cli("info", "--url", url(server, "wss"), "--insecure") == 2
    assert "use ws:// instead of wss://" in capsys.readouterr().err


async def test_a_bad_ca_file_is_named(tls_server, tmp_path, capsys):
    bad = tmp_path / "not-a-cert.pem"
    bad.write_text("hello\n")
    assert await cli("info", "--url", url(tls_server, "wss"), "--ca-file", str(bad)) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "PEM" in err


def test_help_texts_describe_serve_and_passwd(capsys):
    for command, words in (("serve", "Serve a Xentara configuration folder"), ("passwd", "Set (or --remove)")):
        try:
            main([command, "--help"])
        except SystemExit as done:
            assert done.code == 0
        assert words in capsys.readouterr().out


def test_completion_bash_is_valid_bash_and_knows_each_commands_options(capsys):
    assert main(["completion", "bash"]) == 0
    script = capsys.readouterr().out
    assert "complete -o default -F _xentara_ws xentara-ws" in script
    assert "write) COMPREPLY" in script and "--login-user" in script and "--reload-interval" in script
    bash = shutil.which("bash")
    assert bash is not None
    words = "COMP_WORDS=(xentara-ws --log-level INFO write --ur); COMP_CWORD=4"
    probe = f'{script}{words}; _xentara_ws; echo "${{COMPREPLY[@]}}"'
    result = subprocess.run([bash, "-c", probe], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and result.stdout.split() == ["--url"], result.stderr


async def test_xentara_url_is_the_default_url(server, monkeypatch, capsys):
    monkeypatch.setenv("XENTARA_URL", url(server))
    assert await cli("lookup", "Group 1.Counter") == 0
    assert capsys.readouterr().out.strip() == str(COUNTER_UUID)


def test_no_command_prints_the_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_browse_puts_children_under_their_parents_whatever_order_they_come_in():
    from types import SimpleNamespace

    from xentara_ws.client.formatting import tree_order

    breadth_first = [SimpleNamespace(primary_key=key) for key in ("A", "B", "A.x", "B.y", "A.x.deep", "A.z")]
    assert [e.primary_key for e in tree_order(breadth_first)] == ["A", "A.x", "A.x.deep", "A.z", "B", "B.y"]

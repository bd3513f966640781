"""What a newcomer trips over when serving: addresses, certificates, missing files, refusals that explain."""

from __future__ import annotations

import socket

from cryptography import x509
from support.fixtures import SCHEMAS, needs_vendor_fixtures
from support.security import make_cert, name, pem
from support.servers import copy_demo, serving

from xentara_ws.cli import main
from xentara_ws.security.tls import server_ssl_context


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


def port_free_on_both_families() -> int:
    """A port that is free for IPv4 and IPv6 alike (a dual-stack probe holds both while it picks)."""
    if not has_ipv6_loopback():
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])
    with socket.socket(socket.AF_INET6) as probe:
        probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        probe.bind(("::", 0))
        return int(probe.getsockname()[1])


def info(url: str, *argv: str) -> int:
    return main(["info", "--url", url, "--user", "demo", "--password", "demo", *argv])


def test_by_default_the_server_listens_on_ipv4_and_ipv6_and_says_how_to_reach_it(tmp_path, capsys):
    port = port_free_on_both_families()
    with serving(tmp_path, "--no-tls", "--port", str(port), banner_lines=4) as server:
        assert server.banner[0].endswith(f"ws://127.0.0.1:{port}/api/ws")
        assert (
            f"listening on every IPv4 and IPv6 address; from other machines: ws://{socket.gethostname()}:"
            in (server.banner[3])
        )
        assert info(f"ws://127.0.0.1:{port}/api/ws") == 0
        if has_ipv6_loopback():
            assert info(f"ws://[::1]:{port}/api/ws") == 0
    capsys.readouterr()


def test_the_tls_banner_tells_other_machines_to_pin_the_fingerprint(tmp_path):
    port = port_free_on_both_families()
    with serving(tmp_path, "--port", str(port), banner_lines=4) as server:
        assert "SHA-256 fingerprint" in server.banner[1]
        assert "--fingerprint" in server.banner[3] and f"wss://{socket.gethostname()}:{port}" in server.banner[3]


def test_the_self_signed_certificate_names_this_host_and_an_old_one_without_it_is_replaced(tmp_path):
    _, first, _ = server_ssl_context(None, tmp_path)
    stored = x509.load_pem_x509_certificate((tmp_path / "xentara-ws-selfsigned.pem").read_bytes())
    names = stored.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert socket.gethostname() in names.get_values_for_type(x509.DNSName)
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    _, again, _ = server_ssl_context(None, tmp_path)
    assert again == first  # kept across restarts
    old, key = make_cert(name(CN="old"), not_before=0, not_after=4_000_000_000)
    from cryptography.hazmat.primitives import serialization

    (tmp_path / "xentara-ws-selfsigned.pem").write_bytes(pem(old))
    (tmp_path / "xentara-ws-selfsigned.key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    _, replaced, _ = server_ssl_context(None, tmp_path)
    assert replaced != first


def test_repeated_failed_logins_say_retry_after(tmp_path, capsys):
    folder = copy_demo(tmp_path)
    with serving(tmp_path, "--config", str(folder), "--host", "127.0.0.1", "--no-tls") as server:
        codes = [main(["info", "--url", server.url, "--user", "demo", "--password", "wrong"]) for _ in range(6)]
        assert codes == [2] * 6
        last = capsys.readouterr().err.strip().splitlines()[-1]
        assert "too many failed logins from this address: the server says retry after" in last
        assert "check --url" not in last


def test_a_missing_passwords_file_is_named_at_start(tmp_path):
    folder = copy_demo(tmp_path)
    (folder / "passwords.json").unlink()
    with serving(tmp_path, "--config", str(folder), "--host", "127.0.0.1", "--no-tls", banner_lines=3) as server:
        warning = server.banner[2]
        assert str(folder / "passwords.json") in warning and "xentara-ws passwd" in warning
        assert "passwords.json" in server.log_text()


def test_a_certificate_without_its_key_is_not_used_silently(tmp_path):
    folder = copy_demo(tmp_path)
    certificate, _ = make_cert(name(CN="plant"), not_before=0, not_after=4_000_000_000)
    (folder / "certs").mkdir()
    (folder / "certs" / "xentara.pem").write_bytes(pem(certificate))
    with serving(tmp_path, "--config", str(folder), "--host", "127.0.0.1", banner_lines=3) as server:
        assert "self-signed" in server.banner[1]
        assert "xentara.pem is not used because its key" in server.banner[2]
        assert "xentara.key.pem is missing" in server.banner[2]


def test_config_naming_a_file_says_a_folder_is_expected(tmp_path, capsys):
    folder = copy_demo(tmp_path)
    assert main(["serve", "--config", str(folder / "model.json"), "--no-tls"]) == 2
    err = capsys.readouterr().err
    assert "is a file; it expects the configuration folder" in err and f"--config {folder}?" in err


@needs_vendor_fixtures
def test_the_demo_passes_the_vendor_schemas(tmp_path):
    from xentara_ws.cli import build_parser, serve_options
    from xentara_ws.server.bootstrap import build_server

    argv = ["serve", "--no-tls", "--schema-dir", str(SCHEMAS), "--state-dir", str(tmp_path)]
    _server, plan = build_server(serve_options(build_parser().parse_args(argv)))
    assert plan.demo and plan.gatekeeper is not None


def test_an_unreadable_server_certificate_is_named(tmp_path, capsys):
    folder = copy_demo(tmp_path)
    (folder / "certs").mkdir()
    (folder / "private").mkdir()
    (folder / "certs" / "xentara.pem").write_text("not a certificate\n")
    (folder / "private" / "xentara.key.pem").write_text("not a key\n")
    assert main(["serve", "--config", str(folder), "--host", "127.0.0.1", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert str(folder / "certs" / "xentara.pem") in err and ("must be PEM files" in err or "cannot be read" in err)

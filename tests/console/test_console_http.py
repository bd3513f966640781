"""The console over a real server and real HTTP: headers on the wire, no traversal, no cross-site WebSocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.servers import served
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from xentara_ws.cli import build_parser, serve_options
from xentara_ws.console.login import COOKIE_NAME
from xentara_ws.demo import DEMO_PASSWORD, DEMO_USER
from xentara_ws.server.app import XentaraServer
from xentara_ws.server.bootstrap import build_server
from xentara_ws.server.serve_plan import ServeError


@pytest.fixture
async def hmi_server(tmp_path: Path) -> AsyncIterator[XentaraServer]:
    folder = tmp_path / "www"
    folder.mkdir()
    (folder / "index.html").write_text("<h1>HMI</h1>")
    (tmp_path / "secret.txt").write_text("outside the folder")
    async with served("--no-tls", "--www", str(folder)) as server:
        yield server


async def http(
    port: int, method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    """One raw HTTP/1.1 exchange: the target goes on the wire exactly as given (no client-side normalising)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, content = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        parsed.setdefault(name.strip().lower(), value.strip())
    return int(status_line.split()[1]), parsed, content


async def log_in(port: int) -> str:
    status, headers, _ = await http(
        port,
        "POST",
        "/console/login",
        {"Content-Type": "application/json", "Origin": f"http://127.0.0.1:{port}"},
        json.dumps({"user": DEMO_USER, "password": DEMO_PASSWORD}).encode(),
    )
    assert status == 200
    return headers["set-cookie"].split(";", 1)[0]


async def test_pages_come_with_security_headers_over_the_wire(hmi_server: XentaraServer) -> None:
    for target in ("/", "/console/", "/console/app.js", "/missing"):
        status, headers, _ = await http(hmi_server.port, "GET", target)
        assert status in (200, 404)
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert f"ws://127.0.0.1:{hmi_server.port}" in headers["content-security-policy"]


@pytest.mark.parametrize(
    "target", ["/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/..%2fsecret.txt", "/.%2e/secret.txt"]
)
async def test_no_traversal_over_the_wire(hmi_server: XentaraServer, target: str) -> None:
    status, _, body = await http(hmi_server.port, "GET", target)
    assert status in (400, 404)
    assert b"outside the folder" not in body


async def test_the_hmi_is_at_the_root_and_the_console_beside_it(hmi_server: XentaraServer) -> None:
    assert (await http(hmi_server.port, "GET", "/"))[2] == b"<h1>HMI</h1>"
    assert b"Xentara console" in (await http(hmi_server.port, "GET", "/console/"))[2]


async def test_the_cookie_opens_the_api_only_from_the_servers_own_origin(hmi_server: XentaraServer) -> None:
    port = hmi_server.port
    cookie = await log_in(port)
    url = f"ws://127.0.0.1:{port}/api/ws"
    async with connect(url, additional_headers={"Cookie": cookie, "Origin": f"http://127.0.0.1:{port}"}) as ws:
        await ws.send(b"\x81\x84\x00\x01\x0e\xa2\x00\x01\x01\x01")  # [[0, 1, 14, {0: 1, 1: 1}]]
        assert await ws.recv() == b"\x81\x83\x01\x01\xa1\x00\x01"
    for origin in (f"http://127.0.0.1:{port + 1}", "http://evil.example", None):
        headers = {"Cookie": cookie} | ({"Origin": origin} if origin else {})
        with pytest.raises(InvalidStatus) as refused:
            await connect(url, additional_headers=headers)
        assert refused.value.response.status_code == 403


async def test_a_forged_cookie_is_no_login(hmi_server: XentaraServer) -> None:
    port = hmi_server.port
    with pytest.raises(InvalidStatus) as refused:
        await connect(
            f"ws://127.0.0.1:{port}/api/ws",
            additional_headers={"Cookie": f"{COOKIE_NAME}=forged", "Origin": f"http://127.0.0.1:{port}"},
        )
    assert refused.value.response.status_code == 401


async def test_head_and_conditional_get_over_the_wire(hmi_server: XentaraServer) -> None:
    status, headers, body = await http(hmi_server.port, "HEAD", "/")
    assert (status, headers["content-length"], body) == (200, str(len(b"<h1>HMI</h1>")), b"")
    status, _, body = await http(hmi_server.port, "GET", "/", {"If-None-Match": headers["etag"]})
    assert (status, body) == (304, b"")


def test_www_must_name_a_folder(tmp_path: Path) -> None:
    args = build_parser().parse_args(["serve", "--no-tls", "--www", str(tmp_path / "missing")])
    with pytest.raises(ServeError, match="--www"):
        build_server(serve_options(args))

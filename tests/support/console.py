"""Helpers for the console's tests: HttpRequest objects as a browser would send them, and a demo gatekeeper."""

from __future__ import annotations

import json
from typing import Any

from xentara_ws.edge.http import HttpRequest, HttpResponse

HOST = "127.0.0.1:8080"
ORIGIN = f"http://{HOST}"


def request(
    method: str,
    target: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    secure: bool = False,
    host: str | None = HOST,
    origin: str | None = None,
    cookie: str | None = None,
) -> HttpRequest:
    path, _, query = target.partition("?")
    pairs: list[tuple[str, str]] = []
    if host is not None:
        pairs.append(("host", host))
    if origin is not None:
        pairs.append(("origin", origin))
    if cookie is not None:
        pairs.append(("cookie", cookie))
    pairs.extend((name.lower(), value) for name, value in (headers or {}).items())
    return HttpRequest(
        method=method,
        target=target,
        path=path,
        query=query,
        headers=tuple(pairs),
        body=body,
        peer="127.0.0.1:50000",
        peer_host="127.0.0.1",
        secure=secure,
    )


def login_request(credentials: dict[str, Any], *, origin: str | None = ORIGIN, secure: bool = False) -> HttpRequest:
    return request(
        "POST",
        "/console/login",
        headers={"content-type": "application/json"},
        body=json.dumps(credentials).encode(),
        origin=origin,
        secure=secure,
    )


def header(response: HttpResponse, name: str) -> str | None:
    for key, value in response.headers:
        if key.lower() == name.lower():
            return value
    return None


def cookie_value(response: HttpResponse) -> str:
    """The console cookie's value from a Set-Cookie answer."""
    set_cookie = header(response, "set-cookie")
    assert set_cookie is not None, response
    return set_cookie.split(";", 1)[0].split("=", 1)[1]


class DemoGate:
    """The demo configuration's real gatekeeper, built exactly as `xentara-ws serve` builds it."""

    def __init__(self) -> None:
        from xentara_ws.cli import build_parser, serve_options
        from xentara_ws.server.bootstrap import plan
        from xentara_ws.server.security_setup import configure_security

        args = build_parser().parse_args(["serve", "--no-tls"])
        serve_plan = plan(serve_options(args))
        configure_security(serve_plan, serve_options(args))
        assert serve_plan.gatekeeper is not None
        self.gate = serve_plan.gatekeeper

    def admit(self, request: HttpRequest) -> Any:
        return self.gate.admit(request)


# -- browser tests: Debian's Chromium driven by playwright, never a downloaded browser ---------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REQUIRE_BROWSER = "XENTARA_REQUIRE_BROWSER"


def browser_unavailable(reason: str) -> None:
    """Skip with one reason where Chromium cannot run; under XENTARA_REQUIRE_BROWSER=1 fail instead."""
    import os

    import pytest

    if os.environ.get(REQUIRE_BROWSER) == "1":
        pytest.fail(f"{reason} ({REQUIRE_BROWSER}=1: the browser tests must run)")
    pytest.skip(reason)


async def serve_html(html: str) -> tuple[Any, int]:
    """A throw-away web server on a loopback port that answers every request with one page (another origin)."""
    import asyncio

    body = html.encode()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            head = f"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
            writer.write(head.encode() + b"Connection: close\r\n\r\n" + body)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]

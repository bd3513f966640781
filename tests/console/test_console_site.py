"""The console's routes: the page at / (or /console/ beside an HMI folder), its assets, and security headers."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import pytest
from support.console import ORIGIN, DemoGate, cookie_value, header, request

from xentara_ws.console import CONSOLE_DIR
from xentara_ws.console.login import COOKIE_NAME
from xentara_ws.console.routes import ConsoleSite, Route
from xentara_ws.demo import DEMO_PASSWORD, DEMO_USER, OPERATOR_PASSWORD, OPERATOR_USER
from xentara_ws.edge.http import HttpResponse


def route_for(routes: list[Route], path: str) -> Route:
    """Which route the edge would pick: exact paths win, then the longest prefix (CONTRACTS §1)."""
    exact = [route for route in routes if not route.prefix and route.path == path]
    if exact:
        return exact[0]
    prefixes = [route for route in routes if route.prefix and path.startswith(route.path)]
    assert prefixes, f"no route for {path}"
    return max(prefixes, key=lambda route: len(route.path))


async def fetch(site: ConsoleSite, method: str, target: str, **kwargs: object) -> HttpResponse:
    path = target.split("?")[0]
    try:
        route = route_for(site.routes(), path)
    except AssertionError:
        return HttpResponse.text("Not Found\n", 404)
    result = route.handler(request(method, target, **kwargs))  # type: ignore[arg-type]
    assert not isinstance(result, HttpResponse)
    return await result


@pytest.fixture
def console() -> ConsoleSite:
    return ConsoleSite(DemoGate())


@pytest.fixture
def guarded() -> ConsoleSite:
    from xentara_ws.demo import DEMO_DIR
    from xentara_ws.model import load_model
    from xentara_ws.security import AccessControl, load_configuration

    model = load_model(DEMO_DIR / "model.json")
    return ConsoleSite(DemoGate(), model=model, access=AccessControl(load_configuration(DEMO_DIR)))


@pytest.fixture
def hmi(tmp_path: Path) -> ConsoleSite:
    (tmp_path / "index.html").write_text("<h1>My HMI</h1>")
    (tmp_path / "app.js").write_text("1")
    return ConsoleSite(DemoGate(), www=tmp_path)


def import_map_hash() -> str:
    page = (CONSOLE_DIR / "static" / "index.html").read_bytes()
    content = re.search(rb'<script type="importmap">(.*?)</script>', page, re.DOTALL)
    assert content is not None
    return base64.b64encode(hashlib.sha256(content.group(1)).digest()).decode()


async def test_the_console_is_the_page_at_the_root(console: ConsoleSite) -> None:
    response = await fetch(console, "GET", "/")
    assert response.status == 200
    assert b"Xentara console" in response.body
    assert header(response, "content-type") == "text/html; charset=utf-8"
    assert (await fetch(console, "GET", "/console/")).body == response.body


async def test_every_answer_carries_the_security_headers(console: ConsoleSite) -> None:
    for target in (
        "/",
        "/console/",
        "/console/app.js",
        "/console/missing.js",
        "/console/vendor/VERSIONS",
        "/console/session",
        "/console",
    ):
        response = await fetch(console, "GET", target)
        assert header(response, "x-content-type-options") == "nosniff", target
        assert header(response, "referrer-policy") == "same-origin", target
        assert header(response, "content-security-policy"), target


async def test_the_policy_allows_only_this_server_and_its_websocket(console: ConsoleSite) -> None:
    await fetch(console, "GET", "/")
    response = await fetch(console, "GET", "/")
    policy = header(response, "content-security-policy") or ""
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["connect-src"] == "'self' ws://127.0.0.1:8080"
    assert directives["script-src"] == f"'self' 'sha256-{import_map_hash()}'"  # the import map, nothing else inline
    assert "unsafe" not in directives["script-src"] and "unsafe" not in directives["style-src"]
    assert directives["object-src"] == "'none'"
    tls = await fetch(console, "GET", "/", secure=True)
    assert "connect-src 'self' wss://127.0.0.1:8080;" in (header(tls, "content-security-policy") or "")


async def test_a_strange_host_header_is_not_repeated_in_the_policy(console: ConsoleSite) -> None:
    response = await fetch(console, "GET", "/", host="evil; script-src *")
    policy = header(response, "content-security-policy") or ""
    assert "evil" not in policy and "connect-src 'self';" in policy


@pytest.mark.parametrize(
    ("target", "content_type"),
    [
        ("/console/app.js", "text/javascript; charset=utf-8"),
        ("/console/xentara.js", "text/javascript; charset=utf-8"),
        ("/console/style.css", "text/css; charset=utf-8"),
        ("/console/vendor/preact/preact.mjs", "text/javascript; charset=utf-8"),
        ("/console/vendor/preact/hooks/hooks.mjs", "text/javascript; charset=utf-8"),
        ("/console/vendor/htm/htm.mjs", "text/javascript; charset=utf-8"),
        ("/console/vendor/uplot/uPlot.esm.js", "text/javascript; charset=utf-8"),
        ("/console/vendor/uplot/uPlot.min.css", "text/css; charset=utf-8"),
        ("/console/vendor/cbor-x/cbor-x.min.js", "text/javascript; charset=utf-8"),
    ],
)
async def test_the_console_assets_are_served(console: ConsoleSite, target: str, content_type: str) -> None:
    response = await fetch(console, "GET", target)
    assert response.status == 200 and response.body
    assert header(response, "content-type") == content_type


async def test_the_console_serves_none_of_its_python_modules(console: ConsoleSite) -> None:
    for target in (
        "/console/login.py",
        "/console/../login.py",
        "/console/%2e%2e/login.py",
        "/console/vendor/../routes.py",
    ):
        assert (await fetch(console, "GET", target)).status == 404, target


async def test_console_without_slash_redirects(console: ConsoleSite) -> None:
    response = await fetch(console, "GET", "/console")
    assert response.status == 308 and header(response, "location") == "/console/"


async def test_with_an_hmi_folder_the_folder_is_at_the_root_and_the_console_moves(hmi: ConsoleSite) -> None:
    root = await fetch(hmi, "GET", "/")
    assert root.body == b"<h1>My HMI</h1>"
    assert (await fetch(hmi, "GET", "/app.js")).body == b"1"
    assert b"Xentara console" in (await fetch(hmi, "GET", "/console/")).body
    assert (await fetch(hmi, "GET", "/console/app.js")).status == 200
    # The HMI page may run inline code and WebAssembly (the vendor's client), but from nowhere else.
    policy = header(root, "content-security-policy") or ""
    assert "script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval';" in policy
    assert "connect-src 'self' ws://127.0.0.1:8080;" in policy
    assert header(root, "x-content-type-options") == "nosniff"


async def test_without_an_hmi_folder_only_the_root_page_is_served_at_the_root(console: ConsoleSite) -> None:
    assert (await fetch(console, "GET", "/app.js")).status == 404


async def test_the_console_page_is_not_posted_to(console: ConsoleSite) -> None:
    assert (await fetch(console, "POST", "/")).status == 405


async def log_in(site: ConsoleSite, user: str, password: str) -> str:
    response = await fetch(
        site, "POST", "/console/login", body=json.dumps({"user": user, "password": password}).encode(), origin=ORIGIN
    )
    assert response.status == 200
    return f"{COOKIE_NAME}={cookie_value(response)}"


@pytest.mark.parametrize(
    ("user", "password", "write"), [(DEMO_USER, DEMO_PASSWORD, True), (OPERATOR_USER, OPERATOR_PASSWORD, False)]
)
async def test_the_console_learns_whether_the_login_may_write(
    guarded: ConsoleSite, user: str, password: str, write: bool
) -> None:
    cookie = await log_in(guarded, user, password)
    response = await fetch(guarded, "GET", "/console/access?element=Plant.Line.Setpoint", cookie=cookie)
    assert response.status == 200
    assert json.loads(response.body) == {"read": True, "write": write}


async def test_access_needs_a_login_and_a_known_element(guarded: ConsoleSite) -> None:
    assert (await fetch(guarded, "GET", "/console/access?element=Plant.Line.Setpoint")).status == 401
    cookie = await log_in(guarded, DEMO_USER, DEMO_PASSWORD)
    assert (await fetch(guarded, "GET", "/console/access?element=No.Such", cookie=cookie)).status == 404
    assert (await fetch(guarded, "GET", "/console/access", cookie=cookie)).status == 400

"""Console logins: a session cookie for good credentials, and the cookie admits only this server's pages."""

from __future__ import annotations

import inspect
import json

import pytest
from support.console import ORIGIN, DemoGate, cookie_value, header, login_request, request

from xentara_ws.console.login import COOKIE_NAME, ConsoleLogin, CookieGate, session_cookie
from xentara_ws.console.sessions import MemoryConsoleSessions
from xentara_ws.demo import DEMO_PASSWORD, DEMO_USER, OPERATOR_PASSWORD, OPERATOR_USER
from xentara_ws.edge import UpgradeRefused


@pytest.fixture
def sessions() -> MemoryConsoleSessions:
    return MemoryConsoleSessions()


@pytest.fixture
def gate() -> DemoGate:
    return DemoGate()


@pytest.fixture
def login(gate: DemoGate, sessions: MemoryConsoleSessions) -> ConsoleLogin:
    return ConsoleLogin(gate, sessions)


def upgrade(cookie: str | None, origin: str | None = ORIGIN, **kwargs: object) -> object:
    return request("GET", "/api/ws", origin=origin, cookie=cookie, **kwargs)  # type: ignore[arg-type]


async def settled(value):
    """A gatekeeper may answer at once or later (it verifies passwords in a worker pool)."""
    return await value if inspect.isawaitable(value) else value


async def test_good_credentials_get_a_strict_http_only_session_cookie(login: ConsoleLogin) -> None:
    response = await login.login(login_request({"user": DEMO_USER, "password": DEMO_PASSWORD}))
    assert response.status == 200
    assert json.loads(response.body) == {"user": DEMO_USER}
    set_cookie = header(response, "set-cookie") or ""
    attributes = [part.strip() for part in set_cookie.split(";")]
    assert attributes[0].startswith(f"{COOKIE_NAME}=")
    assert {"HttpOnly", "SameSite=Strict", "Path=/"} <= set(attributes)
    assert "Secure" not in attributes  # plain http: a Secure cookie would never come back


async def test_the_cookie_is_secure_over_tls(login: ConsoleLogin) -> None:
    response = await login.login(
        login_request({"user": DEMO_USER, "password": DEMO_PASSWORD}, origin="https://127.0.0.1:8080", secure=True)
    )
    assert response.status == 200
    assert "Secure" in [part.strip() for part in (header(response, "set-cookie") or "").split(";")]


async def test_a_wrong_password_gets_401_and_no_cookie(login: ConsoleLogin, sessions: MemoryConsoleSessions) -> None:
    response = await login.login(login_request({"user": DEMO_USER, "password": "wrong"}))
    assert response.status == 401
    assert "wrong" in json.loads(response.body)["error"]
    assert header(response, "set-cookie") is None
    assert len(sessions) == 0


async def test_a_bad_token_gets_401(login: ConsoleLogin) -> None:
    response = await login.login(login_request({"token": "not.a.jwt"}))
    assert response.status == 401


async def test_repeated_failures_are_throttled_with_retry_after(login: ConsoleLogin) -> None:
    statuses = []
    for _ in range(12):
        response = await login.login(login_request({"user": DEMO_USER, "password": "wrong"}))
        statuses.append(response.status)
        if response.status == 429:
            break
    assert statuses[-1] == 429
    assert header(response, "retry-after") is not None
    good = await login.login(login_request({"user": DEMO_USER, "password": DEMO_PASSWORD}))
    assert good.status == 429  # even good credentials wait out the back-off


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[]", b'{"user": 1, "password": "x"}', b'{"user": "a:b", "password": "x"}', b"{}"],
)
async def test_a_malformed_login_gets_400(login: ConsoleLogin, body: bytes) -> None:
    response = await login.login(request("POST", "/console/login", body=body, origin=ORIGIN))
    assert response.status == 400


@pytest.mark.parametrize("origin", [None, "http://evil.example", "http://127.0.0.1:9999", "null"])
async def test_login_and_logout_from_another_origin_are_refused(login: ConsoleLogin, origin: str | None) -> None:
    response = await login.login(login_request({"user": DEMO_USER, "password": DEMO_PASSWORD}, origin=origin))
    assert response.status == 403
    assert header(response, "set-cookie") is None
    logout = await login.logout(request("POST", "/console/logout", origin=origin))
    assert logout.status == 403


async def test_login_needs_post(login: ConsoleLogin) -> None:
    response = await login.login(request("GET", "/console/login", origin=ORIGIN))
    assert response.status == 405


async def test_the_cookie_admits_a_same_origin_upgrade_as_the_user(
    login: ConsoleLogin, gate: DemoGate, sessions: MemoryConsoleSessions
) -> None:
    cookie = cookie_value(await login.login(login_request({"user": OPERATOR_USER, "password": OPERATOR_PASSWORD})))
    principal = await settled(CookieGate(gate, sessions).admit(upgrade(f"{COOKIE_NAME}={cookie}")))  # type: ignore[arg-type]
    assert principal.name == OPERATOR_USER


@pytest.mark.parametrize(
    "origin", [None, "http://evil.example", "http://127.0.0.1:9999", "https://127.0.0.1:8080", "null"]
)
async def test_the_cookie_from_another_origin_is_refused(
    login: ConsoleLogin, gate: DemoGate, sessions: MemoryConsoleSessions, origin: str | None
) -> None:
    cookie = cookie_value(await login.login(login_request({"user": DEMO_USER, "password": DEMO_PASSWORD})))
    with pytest.raises(UpgradeRefused) as refused:
        await settled(CookieGate(gate, sessions).admit(upgrade(f"{COOKIE_NAME}={cookie}", origin=origin)))  # type: ignore[arg-type]
    assert refused.value.status == 403


async def test_an_unknown_cookie_falls_back_to_the_configured_gatekeeper(
    gate: DemoGate, sessions: MemoryConsoleSessions
) -> None:
    cookie_gate = CookieGate(gate, sessions)
    with pytest.raises(UpgradeRefused) as refused:
        await settled(cookie_gate.admit(upgrade(f"{COOKIE_NAME}=forged")))  # type: ignore[arg-type]
    assert refused.value.status == 401
    basic = request("GET", "/api/ws", headers={"authorization": "Basic ZGVtbzpkZW1v"}, cookie=f"{COOKIE_NAME}=forged")
    assert (await settled(cookie_gate.admit(basic))).name == DEMO_USER


async def test_logout_ends_the_session_and_clears_the_cookie(
    login: ConsoleLogin, gate: DemoGate, sessions: MemoryConsoleSessions
) -> None:
    cookie = cookie_value(await login.login(login_request({"user": DEMO_USER, "password": DEMO_PASSWORD})))
    response = await login.logout(request("POST", "/console/logout", origin=ORIGIN, cookie=f"{COOKIE_NAME}={cookie}"))
    assert response.status == 200 and json.loads(response.body) == {"loggedOut": True}
    assert "Max-Age=0" in (header(response, "set-cookie") or "")
    with pytest.raises(UpgradeRefused):
        await settled(CookieGate(gate, sessions).admit(upgrade(f"{COOKIE_NAME}={cookie}")))  # type: ignore[arg-type]


async def test_the_session_endpoint_says_who_is_logged_in(login: ConsoleLogin) -> None:
    anonymous = await login.session(request("GET", "/console/session"))
    assert json.loads(anonymous.body) == {"user": None, "loginRequired": True}
    cookie = cookie_value(await login.login(login_request({"user": DEMO_USER, "password": DEMO_PASSWORD})))
    known = await login.session(request("GET", "/console/session", cookie=f"{COOKIE_NAME}={cookie}"))
    assert json.loads(known.body) == {"user": DEMO_USER, "loginRequired": True}


async def test_without_security_no_login_is_required(sessions: MemoryConsoleSessions) -> None:
    class Open:
        def admit(self, request: object) -> None:
            return None

    response = await ConsoleLogin(Open(), sessions).session(request("GET", "/console/session"))
    assert json.loads(response.body) == {"user": None, "loginRequired": False}


@pytest.mark.parametrize(
    ("header_value", "expected"),
    [
        (f"{COOKIE_NAME}=abc", "abc"),
        (f"other=1; {COOKIE_NAME}=abc; more=2", "abc"),
        ("other=1", None),
        (f"{COOKIE_NAME}=", None),
        ('bad"cookie', None),
    ],
)
def test_the_session_cookie_is_found_among_others(header_value: str, expected: str | None) -> None:
    assert session_cookie(request("GET", "/", cookie=header_value)) == expected


def _jwt(claims: dict[str, object]) -> str:
    import base64

    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part(claims)}.sig"


class BearerGate:
    """Stands for a configured gatekeeper that accepted the token (its verification is tested elsewhere)."""

    def admit(self, request: object) -> object:
        authorization = request.header("authorization") or ""  # type: ignore[attr-defined]
        if not authorization.startswith("Bearer "):
            raise UpgradeRefused(401, "Unauthorized")

        class TokenPrincipal:
            name = "robot"
            kind = "token"

        return TokenPrincipal()


async def test_a_token_login_ends_when_the_token_does(sessions: MemoryConsoleSessions) -> None:
    import time

    login = ConsoleLogin(BearerGate(), sessions)
    response = await login.login(login_request({"token": _jwt({"sub": "robot", "exp": int(time.time()) + 120})}))
    assert response.status == 200 and json.loads(response.body) == {"user": "robot"}
    session = sessions.find(cookie_value(response))
    assert session is not None
    assert 100 <= session.ends - session.created <= 121
    without_expiry = await login.login(login_request({"token": _jwt({"sub": "robot"})}))
    found = sessions.find(cookie_value(without_expiry))
    assert found is not None and found.ends - found.created == sessions.max_age

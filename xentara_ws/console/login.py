"""Browser logins for the console: a session cookie instead of an Authorization header.

Browsers cannot set `Authorization` on a WebSocket, so the console posts the credentials once
(`POST /console/login`) and the server answers with a session cookie. `CookieGate` admits a
WebSocket upgrade that carries that cookie, but only from a page of this server's own origin:
another site's page cannot use a visitor's console login (cross-site WebSocket hijacking).
Everything else goes to the configured gatekeeper, which also checks the login's credentials, so
failed-login accounting and `websocket.connect` work exactly as for any other client.
"""

from __future__ import annotations

import base64
import inspect
import json
import logging
import time
from http.cookies import CookieError, SimpleCookie
from typing import Any, Protocol

from ..edge.admission import UpgradeRefused
from ..edge.http import HttpRequest, HttpResponse
from .headers import is_same_origin
from .sessions import ConsoleSessionsFull, ConsoleSessionStore

logger = logging.getLogger(__name__)

COOKIE_NAME = "xentara_console"
MAX_LOGIN_BODY = 16 * 1024


class RequestGatekeeper(Protocol):
    """The gatekeeper of `/api/ws`, given the whole upgrade request (CONTRACTS §1)."""

    def admit(self, request: HttpRequest) -> Any: ...


def session_cookie(request: HttpRequest) -> str | None:
    """The console's cookie value in the request, if any."""
    for header in request.header_values("cookie"):
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(header)
        except CookieError:
            continue
        morsel = jar.get(COOKIE_NAME)
        if morsel is not None and morsel.value:
            return morsel.value
    return None


def _set_cookie(request: HttpRequest, value: str, *, max_age: int | None) -> tuple[str, str]:
    parts = [f"{COOKIE_NAME}={value}", "Path=/", "HttpOnly", "SameSite=Strict"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if request.secure:
        parts.append("Secure")
    return ("Set-Cookie", "; ".join(parts))


class CookieGate:
    """The `/api/ws` gatekeeper with console logins: a same-origin cookie, else the configured gatekeeper."""

    def __init__(self, fallback: RequestGatekeeper, sessions: ConsoleSessionStore) -> None:
        self.fallback = fallback
        self.sessions = sessions

    def admit(self, request: HttpRequest) -> Any:
        cookie = session_cookie(request)
        if cookie is not None:
            session = self.sessions.find(cookie)
            if session is not None:
                if not is_same_origin(request):
                    logger.warning(
                        "refused upgrade from %s: console session cookie sent from origin %r",
                        request.peer_host,
                        request.header("origin"),
                    )
                    raise UpgradeRefused(403, "Forbidden: the console session is valid only on this server's pages")
                return session.principal
        return self.fallback.admit(request)


async def _settle(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _principal_name(principal: Any, fallback: str) -> str:
    name = getattr(principal, "name", None)
    return name if isinstance(name, str) and name else fallback


class ConsoleLogin:
    """`POST /console/login`, `POST /console/logout`, `GET /console/session`."""

    def __init__(self, gatekeeper: RequestGatekeeper, sessions: ConsoleSessionStore) -> None:
        self.gatekeeper = gatekeeper
        """The configured gatekeeper (not the CookieGate): it judges the posted credentials."""
        self.sessions = sessions

    async def login(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse.json({"error": "use POST"}, 405, [("Allow", "POST")])
        refusal = _refuse_foreign(request)
        if refusal is not None:
            return refusal
        credentials = _credentials(request.body)
        if credentials is None:
            return HttpResponse.json(
                {"error": 'send JSON: {"user": ..., "password": ...} or {"token": ...}'},
                400,
            )
        authorization, label, lifetime = credentials
        probe = _upgrade_request(request, authorization)
        try:
            principal = await _settle(self.gatekeeper.admit(probe))
        except UpgradeRefused as refusal_:
            headers = [(name, value) for name, value in refusal_.headers if name.lower() == "retry-after"]
            message = {
                401: "wrong user name, password or token",
                403: "this login may not use the WebSocket API (websocket.connect is not granted)",
                429: "too many failed logins: try again later",
            }.get(refusal_.status, refusal_.reason)
            return HttpResponse.json({"error": message}, refusal_.status, headers)
        user = _principal_name(principal, label)
        try:
            cookie = self.sessions.open(principal, user, lifetime)
        except ConsoleSessionsFull as full:
            logger.warning("console login of %s refused: %s", user, full)
            return HttpResponse.json({"error": "the server cannot take more logins now"}, 503)
        logger.info("console login of %s from %s", user, request.peer_host)
        return HttpResponse.json({"user": user}, 200, [_set_cookie(request, cookie, max_age=None)])

    async def logout(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse.json({"error": "use POST"}, 405, [("Allow", "POST")])
        refusal = _refuse_foreign(request)
        if refusal is not None:
            return refusal
        cookie = session_cookie(request)
        ended = cookie is not None and self.sessions.close(cookie)
        return HttpResponse.json({"loggedOut": ended}, 200, [_set_cookie(request, "", max_age=0)])

    async def principal(self, request: HttpRequest) -> tuple[bool, Any]:
        """(whether the browser is admitted, as whom): by its console cookie, or as any client without credentials."""
        cookie = session_cookie(request)
        found = self.sessions.find(cookie) if cookie is not None else None
        if found is not None:
            return True, found.principal
        try:
            return True, await _settle(self.gatekeeper.admit(_upgrade_request(request, None)))
        except UpgradeRefused:
            return False, None

    async def session(self, request: HttpRequest) -> HttpResponse:
        """Who the browser is logged in as, and whether the server needs a login at all."""
        if request.method not in ("GET", "HEAD"):
            return HttpResponse.json({"error": "use GET"}, 405, [("Allow", "GET, HEAD")])
        cookie = session_cookie(request)
        found = self.sessions.find(cookie) if cookie is not None else None
        if found is not None:
            return HttpResponse.json({"user": found.user, "loginRequired": True}, 200, [("Cache-Control", "no-store")])
        try:
            await _settle(self.gatekeeper.admit(_upgrade_request(request, None)))
        except UpgradeRefused:
            return HttpResponse.json({"user": None, "loginRequired": True}, 200, [("Cache-Control", "no-store")])
        return HttpResponse.json({"user": None, "loginRequired": False}, 200, [("Cache-Control", "no-store")])


def _refuse_foreign(request: HttpRequest) -> HttpResponse | None:
    # A form on another site cannot log a visitor in or out here (login CSRF).
    if not is_same_origin(request):
        return HttpResponse.json({"error": "cross-origin request refused"}, 403)
    return None


def _credentials(body: bytes) -> tuple[str, str, float | None] | None:
    """(the Authorization header the credentials stand for, a name for the log, how long they stay
    good in seconds when they say so) or None when malformed."""
    if len(body) > MAX_LOGIN_BODY:
        return None
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    token = data.get("token")
    if isinstance(token, str) and token.strip():
        return f"Bearer {token.strip()}", "token", _token_lifetime(token.strip())
    user, password = data.get("user"), data.get("password")
    if isinstance(user, str) and user and ":" not in user and isinstance(password, str):
        encoded = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        return f"Basic {encoded}", user, None
    return None


def _token_lifetime(token: str) -> float | None:
    """Seconds until a JWT's `exp` (read only after the gatekeeper verified the token): a console login
    made with a token ends when the token does."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        expiry = claims["exp"]
    except (IndexError, ValueError, KeyError, TypeError):
        return None
    if isinstance(expiry, bool) or not isinstance(expiry, int | float):
        return None
    return max(0.0, float(expiry) - time.time())


def _upgrade_request(request: HttpRequest, authorization: str | None) -> HttpRequest:
    """The upgrade request a client with these credentials would send (what the gatekeeper judges)."""
    headers: tuple[tuple[str, str], ...] = (("host", request.header("host") or ""),)
    if authorization is not None:
        headers += (("authorization", authorization),)
    return HttpRequest(
        method="GET",
        target="/api/ws",
        path="/api/ws",
        query="",
        headers=headers,
        body=b"",
        peer=request.peer,
        peer_host=request.peer_host,
        secure=request.secure,
    )

"""The console's HTTP routes, and a user's HMI folder (`--www`), registered on a server's edge.

Without `--www` the console is the page at `/`; with it the folder is served at `/` and the console
moves to `/console/`. The console's assets, its login endpoints and its session cookie always live
under `/console/`.
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from ..edge.http import HttpHandler, HttpRequest, HttpResponse
from ..model.tree import Model
from ..server.access import AccessPolicy
from . import CONSOLE_DIR
from .headers import add_security_headers
from .login import ConsoleLogin, CookieGate, RequestGatekeeper
from .sessions import ConsoleSessionStore, MemoryConsoleSessions
from .static import StaticFolder

CONSOLE_MOUNT = "/console/"
_CONSOLE_CACHE_BYTES = 4 * 1024 * 1024
_INLINE_SCRIPT = re.compile(rb"<script\b[^>]*>(.*?)</script>", re.DOTALL)


def inline_script_hashes(html: bytes) -> tuple[str, ...]:
    """CSP hashes of a page's inline scripts (the console's import map is one)."""
    return tuple(
        base64.b64encode(hashlib.sha256(match.group(1)).digest()).decode("ascii")
        for match in _INLINE_SCRIPT.finditer(html)
        if match.group(1).strip()
    )


@dataclass(frozen=True, slots=True)
class Route:
    path: str
    handler: HttpHandler
    prefix: bool = False


class ConsoleSite:
    """Every HTTP route of the console (and of the HMI folder), each answer with the security headers."""

    def __init__(
        self,
        gatekeeper: RequestGatekeeper,
        *,
        sessions: ConsoleSessionStore | None = None,
        www: Path | None = None,
        model: Model | None = None,
        access: AccessPolicy | None = None,
    ) -> None:
        self.model = model
        self.access = access
        self.sessions: ConsoleSessionStore = sessions if sessions is not None else MemoryConsoleSessions()
        self.login = ConsoleLogin(gatekeeper, self.sessions)
        self.gate = CookieGate(gatekeeper, self.sessions)
        """The gatekeeper to give `/api/ws`: console cookies from this server's pages, else `gatekeeper`."""
        self.assets = StaticFolder(CONSOLE_DIR / "static", CONSOLE_MOUNT, cache_bytes=_CONSOLE_CACHE_BYTES)
        self.vendor = StaticFolder(CONSOLE_DIR / "vendor", CONSOLE_MOUNT + "vendor/", cache_bytes=_CONSOLE_CACHE_BYTES)
        self.www = StaticFolder(www, "/") if www is not None else None
        self._index_hashes: tuple[str, ...] | None = None

    def routes(self) -> list[Route]:
        routes = [
            Route(CONSOLE_MOUNT + "login", self._guarded(self.login.login)),
            Route(CONSOLE_MOUNT + "logout", self._guarded(self.login.logout)),
            Route(CONSOLE_MOUNT + "session", self._guarded(self.login.session)),
            Route(CONSOLE_MOUNT + "access", self._guarded(self.element_access)),
            Route(CONSOLE_MOUNT.rstrip("/"), self._guarded(_redirect_to(CONSOLE_MOUNT))),
            Route(CONSOLE_MOUNT, self._guarded(self.index)),
            Route(CONSOLE_MOUNT, self._guarded(self.assets.respond), prefix=True),
            Route(CONSOLE_MOUNT + "vendor/", self._guarded(self.vendor.respond), prefix=True),
        ]
        if self.www is not None:
            routes.append(Route("/", self._guarded(self.www.respond, hmi=True), prefix=True))
        else:
            routes.append(Route("/", self._guarded(self.index)))
        return routes

    async def index(self, request: HttpRequest) -> HttpResponse:
        """The console's page (at `/console/`, and at `/` without an HMI folder)."""
        if request.method not in ("GET", "HEAD"):
            return HttpResponse.text("Method Not Allowed\n", 405, [("Allow", "GET, HEAD")])
        page = await self.assets.load(["index.html"])
        if self._index_hashes is None:
            self._index_hashes = inline_script_hashes(page.body)
        headers = [("Content-Type", page.content_type), ("Cache-Control", "no-cache")]
        return HttpResponse(200, headers, page.body)  # for HEAD the edge leaves the body out

    async def element_access(self, request: HttpRequest) -> HttpResponse:
        """`GET /console/access?element=PK`: may the logged-in principal read and write it (the console hides
        write forms from those who may not; the server refuses their writes anyway)."""
        if request.method != "GET":
            return HttpResponse.json({"error": "use GET"}, 405, [("Allow", "GET")])
        keys = parse_qs(request.query).get("element", [])
        if len(keys) != 1 or self.model is None or self.access is None:
            return HttpResponse.json({"error": "give one element=PRIMARY-KEY"}, 400)
        admitted, principal = await self.login.principal(request)
        if not admitted:
            return HttpResponse.json({"error": "log in first"}, 401)
        element = self.model.lookup(keys[0])
        if element is None:
            return HttpResponse.json({"error": "unknown element"}, 404)
        body = {"read": self.access.can_read(principal, element), "write": self.access.can_write(principal, element)}
        return HttpResponse.json(body, 200, [("Cache-Control", "no-store")])

    def _guarded(self, handler: HttpHandler, *, hmi: bool = False) -> Callable[[HttpRequest], Awaitable[HttpResponse]]:
        async def respond(request: HttpRequest) -> HttpResponse:
            response: Any = handler(request)
            if inspect.isawaitable(response):
                response = await response
            hashes = self._index_hashes or () if not hmi else ()
            return add_security_headers(response, request, script_hashes=hashes, hmi=hmi)

        return respond


def _redirect_to(location: str) -> HttpHandler:
    def redirect(request: HttpRequest) -> HttpResponse:
        return HttpResponse.text(f"The console is at {location}\n", 308, [("Location", location)])

    return redirect

"""The server's own origin as a browser sees it, and the security headers every page is served with."""

from __future__ import annotations

import re

from ..edge.http import HttpRequest, HttpResponse

# A Host header we are willing to repeat in a header: a DNS name or an IP literal, with an optional port.
_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$")


def request_host(request: HttpRequest) -> str | None:
    """The Host header, when it is a plain host[:port] (anything else is not worth trusting or repeating)."""
    host = request.header("host")
    if host is None or not _HOST.match(host):
        return None
    return host.lower()


_DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def _without_default_port(origin: str) -> str:
    scheme = origin.partition("://")[0]
    suffix = _DEFAULT_PORTS.get(scheme)
    return origin[: -len(suffix)] if suffix and origin.endswith(suffix) else origin


def own_origin(request: HttpRequest) -> str | None:
    """The origin of the page that would have been loaded from this server under the requested host."""
    host = request_host(request)
    if host is None:
        return None
    return _without_default_port(f"{'https' if request.secure else 'http'}://{host}")


def is_same_origin(request: HttpRequest) -> bool:
    """Whether the request carries an `Origin` header naming this server (browsers always send one on
    WebSocket upgrades and on POSTs, so a missing or foreign origin is not ours)."""
    origin = request.header("origin")
    own = own_origin(request)
    return origin is not None and own is not None and _without_default_port(origin.strip().lower()) == own


def content_security_policy(request: HttpRequest, *, script_hashes: tuple[str, ...] = (), hmi: bool = False) -> str:
    """Only this server's origin and its WebSocket; the console runs without inline code or eval.

    A user's HMI folder (`hmi`) gets inline scripts and styles and WebAssembly (the vendor's
    client library is WebAssembly), but still loads nothing from anywhere else.
    """
    host = request_host(request)
    sockets = f" {'wss' if request.secure else 'ws'}://{host}" if host else ""
    if hmi:
        script = "'self' 'unsafe-inline' 'wasm-unsafe-eval'"
        style = "'self' 'unsafe-inline'"
    else:
        script = " ".join(("'self'", *(f"'sha256-{digest}'" for digest in script_hashes)))
        style = "'self'"
    return (
        f"default-src 'self'; script-src {script}; style-src {style}; img-src 'self' data: blob:; "
        f"connect-src 'self'{sockets}; object-src 'none'; base-uri 'self'; frame-ancestors 'self'; "
        "form-action 'self'"
    )


def add_security_headers(
    response: HttpResponse, request: HttpRequest, *, script_hashes: tuple[str, ...] = (), hmi: bool = False
) -> HttpResponse:
    present = {name.lower() for name, _ in response.headers}
    for name, value in (
        ("Content-Security-Policy", content_security_policy(request, script_hashes=script_hashes, hmi=hmi)),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "SAMEORIGIN"),
    ):
        if name.lower() not in present:
            response.headers.append((name, value))
    return response

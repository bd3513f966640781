"""What the edge hands to HTTP handlers and WebSocket apps, and what they give back: pure data, no I/O."""

from __future__ import annotations

import json as _json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One complete HTTP/1.1 request (the body read whole, within --max-message-size)."""

    method: str
    target: str
    """As received, e.g. "/api?x=1"."""
    path: str
    """The target without the query string; percent-decoding is not applied."""
    query: str
    """After "?", "" when none."""
    headers: tuple[tuple[str, str], ...]
    """Names lower-case, values as received (latin-1 decoded)."""
    body: bytes
    peer: str
    """"127.0.0.1:54321" or "[::1]:54321"."""
    peer_host: str
    """"127.0.0.1" / "::1"."""
    secure: bool
    """Whether the request came over TLS."""

    def header(self, name: str) -> str | None:
        """The single value of a header; None when absent (the first one when repeated)."""
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        """Every value of a header, in the order received."""
        name = name.lower()
        return [value for key, value in self.headers if key == name]


@dataclass(slots=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def json(cls, value: object, status: int = 200, headers: Iterable[tuple[str, str]] = ()) -> HttpResponse:
        body = _json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
        return cls(status, [("Content-Type", "application/json"), *headers], body)

    @classmethod
    def text(cls, text: str, status: int, headers: Iterable[tuple[str, str]] = ()) -> HttpResponse:
        return cls(status, [("Content-Type", "text/plain; charset=utf-8"), *headers], text.encode())


HttpHandler = Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]]


class WebSocketChannel(Protocol):
    """What the edge hands a WebSocket app for one connection."""

    peer: str

    def send_text(self, text: str) -> None:
        """Queued in order, under the back-pressure rules of the edge."""

    def send_binary(self, data: bytes) -> None: ...

    def close(self, code: int = 1000, reason: str = "") -> None: ...


class WebSocketSession(Protocol):
    """What an app returns for one accepted connection."""

    def on_message(self, data: bytes | str) -> bytes | str | Awaitable[bytes | str | None] | None:
        """A reply (or an awaitable of it) is sent before any later message of the connection is handled."""

    def on_close(self) -> None: ...


WebSocketApp = Callable[
    [HttpRequest, WebSocketChannel],
    WebSocketSession | HttpResponse | Awaitable[WebSocketSession | HttpResponse],
]
"""Called at the upgrade; returning an HttpResponse refuses the upgrade with that response."""


def format_peer(address: object) -> tuple[str, str]:
    """("host:port" or "[v6]:port", "host") for a socket's peer name."""
    if isinstance(address, tuple) and len(address) >= 2:
        host, port = str(address[0]), address[1]
        return (f"[{host}]:{port}" if ":" in host else f"{host}:{port}"), host
    text = "" if address is None else str(address)
    return text, text

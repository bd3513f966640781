"""Pure HTTP request/response types shared by the edge and the apps it serves (no I/O)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    """"GET", "POST", ..."""
    target: str
    """As received, e.g. "/api?x=1"."""
    path: str
    """The target without the query string; percent-decoding NOT applied."""
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
    """Whether it came over TLS."""

    def header(self, name: str) -> str | None:
        """The single value of a header; None when absent."""
        wanted = name.lower()
        for key, value in self.headers:
            if key == wanted:
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key == wanted]


@dataclass(slots=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def json(cls, value: object, status: int = 200, headers: Iterable[tuple[str, str]] = ()) -> HttpResponse:
        body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return cls(status, [("content-type", "application/json"), *headers], body)

    @classmethod
    def text(cls, text: str, status: int, headers: Iterable[tuple[str, str]] = ()) -> HttpResponse:
        return cls(status, [("content-type", "text/plain; charset=utf-8"), *headers], text.encode("utf-8"))


HttpHandler = Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]]


class WebSocketChannel(Protocol):
    """What the edge hands a WebSocket app for one connection."""

    peer: str

    def send_text(self, text: str) -> None: ...

    def send_binary(self, data: bytes) -> None: ...

    def close(self, code: int = 1000, reason: str = "") -> None: ...


class WebSocketSession(Protocol):
    """What the app returns for one accepted connection."""

    def on_message(self, data: bytes | str) -> bytes | str | Awaitable[bytes | str | None] | None: ...

    def on_close(self) -> None: ...


WebSocketApp = Callable[
    [HttpRequest, WebSocketChannel], WebSocketSession | HttpResponse | Awaitable[WebSocketSession | HttpResponse]
]
"""Called at the upgrade; returning an HttpResponse refuses it with that response."""

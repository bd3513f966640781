"""Pure HTTP request/response types shared by the edge and the apps it serves (no I/O)."""

from __future__ import annotations

import json as _json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    target: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    peer: str
    peer_host: str
    secure: bool

    def header(self, name: str) -> str | None:
        """The single value of a header; None when absent (names are matched case-insensitively)."""
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key == name]


@dataclass(slots=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def json(cls, value: object, status: int = 200, headers: Iterable[tuple[str, str]] = ()) -> HttpResponse:
        body = _json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        return cls(status, [("Content-Type", "application/json"), *headers], body)

    @classmethod
    def text(cls, text: str, status: int, headers: Iterable[tuple[str, str]] = ()) -> HttpResponse:
        return cls(status, [("Content-Type", "text/plain; charset=utf-8"), *headers], text.encode())


HttpHandler = Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]]


class WebSocketChannel(Protocol):
    peer: str

    def send_text(self, text: str) -> None: ...

    def send_binary(self, data: bytes) -> None: ...

    def close(self, code: int = 1000, reason: str = "") -> None: ...


class WebSocketSession(Protocol):
    def on_message(self, data: bytes | str) -> bytes | str | Awaitable[bytes | str | None] | None: ...

    def on_close(self) -> None: ...


WebSocketApp = Callable[
    [HttpRequest, WebSocketChannel],
    WebSocketSession | HttpResponse | Awaitable[WebSocketSession | HttpResponse],
]

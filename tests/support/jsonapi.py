"""Helpers for the jsonAction tests: a JsonApi without sockets, and requests as the edge would hand them over."""

from __future__ import annotations

import asyncio
import http.client
import inspect
import json
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support.clocks import FakeClock
from support.security import basic_authorization
from support.servers import built
from xentara_ws.demo import DEMO_DIR
from xentara_ws.edge.http import HttpRequest, HttpResponse
from xentara_ws.jsonapi.http import JsonHttpHandler
from xentara_ws.jsonapi.service import JsonApi
from xentara_ws.model.tree import Model
from xentara_ws.server.state import ServerState


def open_api(model: Model, clock: FakeClock | None = None) -> JsonApi:
    """A JsonApi on a server without a security configuration."""
    return JsonApi(ServerState(model=model, wall_clock=clock or FakeClock()))


def served_api(config_dir: Path, clock: FakeClock | None = None) -> JsonApi:
    """The JsonApi of a server built from a configuration folder exactly as `serve` builds it (not started)."""
    return built("--config", str(config_dir), "--no-tls", wall_clock=clock or FakeClock()).jsonapi


def demo_api(clock: FakeClock | None = None) -> JsonApi:
    """A JsonApi on the built-in demo (users demo/demo = Administrator, operator/operator = Operator)."""
    return served_api(DEMO_DIR, clock)


def http_request(
    body: bytes | str | Any, *, method: str = "POST", headers: tuple[tuple[str, str], ...] = ()
) -> HttpRequest:
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    return HttpRequest(
        method=method,
        target="/api",
        path="/api",
        query="",
        headers=headers,
        body=body,
        peer="127.0.0.1:40000",
        peer_host="127.0.0.1",
        secure=False,
    )


def basic(user: str, password: str) -> tuple[str, str]:
    return ("authorization", basic_authorization(user, password))


async def respond(handler: JsonHttpHandler, request: HttpRequest) -> HttpResponse:
    response = handler(request)
    if inspect.isawaitable(response):
        response = await response
    return response


async def post(api: JsonApi, body: Any, **kwargs: Any) -> dict[str, Any]:
    """POST a request through the /api handler; the reply object (asserting HTTP 200)."""
    response = await respond(JsonHttpHandler(api, 1 << 20), http_request(body, **kwargs))
    assert response.status == 200, response.body
    reply: dict[str, Any] = json.loads(response.body)
    return reply


async def session(api: JsonApi, user: str = "demo", password: str = "demo", **params: Any) -> str:
    reply = await post(
        api,
        {"api": "admin", "action": "createSession", "params": {"username": user, "password": password, **params}},
    )
    assert reply["errorCode"] == 0, reply
    token: str = reply["authToken"]
    return token


@dataclass
class RecordingChannel:
    """A WebSocketChannel that keeps what is sent."""

    peer: str = "127.0.0.1:40001"
    texts: list[str] = field(default_factory=list)
    closed: tuple[int, str] | None = None

    def send_text(self, text: str) -> None:
        self.texts.append(text)

    def send_binary(self, data: bytes) -> None:
        raise AssertionError("the JSON WebSocket never sends binary frames")

    def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed = (code, reason)

    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(text) for text in self.texts]


# -- over the network -----------------------------------------------------------------------------


@dataclass
class HttpReply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value


def _exchange(
    port: int, requests: list[tuple[str, bytes, dict[str, str]]], tls: bool, timeout: float
) -> list[HttpReply]:
    """Several requests on one kept-alive HTTP connection (http.client, so run it in a thread)."""
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=timeout, context=context
        )
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    replies = []
    try:
        for method, body, headers in requests:
            connection.request(method, "/api", body=body if method not in ("GET", "HEAD") else None, headers=headers)
            response = connection.getresponse()
            replies.append(
                HttpReply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
            )
    finally:
        connection.close()
    return replies


async def exchange(
    port: int, *requests: tuple[str, bytes, dict[str, str]], tls: bool = False, timeout: float = 10
) -> list[HttpReply]:
    return await asyncio.to_thread(_exchange, port, list(requests), tls, timeout)


async def call(port: int, body: Any, *, tls: bool = False, **headers: str) -> dict[str, Any]:
    """POST one jsonAction request over a real HTTP connection; the reply object (asserting 200)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    reply = (await exchange(port, ("POST", data, headers), tls=tls))[0]
    assert reply.status == 200, (reply.status, reply.body)
    return reply.json()

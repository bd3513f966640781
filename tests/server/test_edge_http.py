"""The edge's HTTP side and route table over real sockets: keep-alive, 404, 413, custom routes."""

from __future__ import annotations

import asyncio

import pytest
from support.edge import HttpClient
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from xentara_ws.edge import HttpRequest, HttpResponse, WebSocketChannel
from xentara_ws.server.app import XentaraServer
from xentara_ws.server.limits import Limits


def echo_request(request: HttpRequest) -> HttpResponse:
    return HttpResponse.json(
        {"method": request.method, "path": request.path, "query": request.query, "body": request.body.decode()}
    )


async def test_an_unknown_path_is_404_with_a_hint_where_the_api_is(server):
    client = await HttpClient.open(server.port)
    response, body = await client.request("GET", "/nothing/here")
    assert response.status_code == 404
    assert b"/api/ws" in body and b"/nothing/here" in body
    client.close()


async def test_http_keep_alive_serves_several_requests_on_one_connection(server):
    server.edge.add_http_route("/echo", echo_request)
    client = await HttpClient.open(server.port)
    first, body = await client.request("GET", "/echo?x=1")
    assert first.status_code == 200 and b'"query":"x=1"' in body
    second, body = await client.request("POST", "/echo", body=b"hello")
    assert second.status_code == 200 and b'"body":"hello"' in body and b'"method":"POST"' in body
    missing, _ = await client.request("GET", "/missing")
    assert missing.status_code == 404
    third, _ = await client.request("GET", "/echo")
    assert third.status_code == 200
    client.close()


async def test_exact_routes_win_over_prefixes_and_the_longest_prefix_wins(server):
    server.edge.add_http_route("/static/", lambda r: HttpResponse.text("short", 200), prefix=True)
    server.edge.add_http_route("/static/app/", lambda r: HttpResponse.text("long", 200), prefix=True)
    server.edge.add_http_route("/static/app/index.html", lambda r: HttpResponse.text("exact", 200))
    client = await HttpClient.open(server.port)
    assert (await client.request("GET", "/static/x.css"))[1] == b"short"
    assert (await client.request("GET", "/static/app/x.js"))[1] == b"long"
    assert (await client.request("GET", "/static/app/index.html"))[1] == b"exact"
    client.close()


async def test_an_awaitable_handler_is_awaited_and_pipelined_requests_keep_their_order(server):
    release = asyncio.Event()

    async def slow(request: HttpRequest) -> HttpResponse:
        await release.wait()
        return HttpResponse.text("slow", 200)

    server.edge.add_http_route("/slow", slow)
    server.edge.add_http_route("/fast", lambda r: HttpResponse.text("fast", 200))
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.read(1), 0.2)
    release.set()
    client = HttpClient(reader, writer)
    client.conn.send(__import__("h11").Request(method="GET", target="/slow", headers=[("Host", "x")]))
    client.conn.send(__import__("h11").EndOfMessage())
    assert (await client.response())[1] == b"slow"
    client.conn.start_next_cycle()
    client.conn.send(__import__("h11").Request(method="GET", target="/fast", headers=[("Host", "x")]))
    client.conn.send(__import__("h11").EndOfMessage())
    assert (await client.response())[1] == b"fast"
    client.close()


async def test_a_body_over_the_message_size_limit_is_413(model):
    server = XentaraServer(model, limits=Limits(max_message_size=100))
    server.edge.add_http_route("/echo", echo_request)
    await server.start("127.0.0.1", 0)
    try:
        client = await HttpClient.open(server.port)
        response, body = await client.request("POST", "/echo", body=b"x" * 101)
        assert response.status_code == 413 and b"100 bytes" in body
        client.close()
    finally:
        await server.close()


async def test_a_failing_handler_is_500_and_the_server_goes_on(server):
    def broken(request: HttpRequest) -> HttpResponse:
        raise RuntimeError("boom")

    server.edge.add_http_route("/broken", broken)
    client = await HttpClient.open(server.port)
    assert (await client.request("GET", "/broken"))[0].status_code == 500
    assert (await client.request("GET", "/nothing"))[0].status_code == 404
    client.close()


class Echo:
    def __init__(self, channel: WebSocketChannel) -> None:
        self.channel = channel
        self.closed = False

    def on_message(self, data: bytes | str) -> bytes | str:
        return data.upper() if isinstance(data, str) else data[::-1]

    def on_close(self) -> None:
        self.closed = True


async def test_a_websocket_route_serves_its_app_with_text_and_binary_and_may_refuse(server):
    sessions: list[Echo] = []

    def app(request: HttpRequest, channel: WebSocketChannel) -> Echo | HttpResponse:
        if request.query == "deny":
            return HttpResponse.text("no\n", 403, [("X-Why", "because")])
        session = Echo(channel)
        sessions.append(session)
        channel.send_text("welcome " + request.peer_host)
        return session

    server.edge.add_websocket_route("/echo", app)
    async with asyncio.timeout(10), connect(f"ws://127.0.0.1:{server.port}/echo") as ws:
        assert await ws.recv() == "welcome 127.0.0.1"
        await ws.send("abc")
        assert await ws.recv() == "ABC"
        await ws.send(b"\x01\x02")
        assert await ws.recv() == b"\x02\x01"
    await asyncio.wait_for(_until(lambda: sessions[0].closed), 5)
    with pytest.raises(InvalidStatus) as refused:
        await connect(f"ws://127.0.0.1:{server.port}/echo?deny")
    assert refused.value.response.status_code == 403
    assert refused.value.response.headers["X-Why"] == "because"


async def _until(condition) -> None:
    while not condition():
        await asyncio.sleep(0.01)

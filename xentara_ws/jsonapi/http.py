"""POST /api (extensions §8): one jsonAction request per HTTP request, HTTP 200 whenever a reply can be formed."""

from __future__ import annotations

from collections.abc import Awaitable

from ..edge.http import HttpRequest, HttpResponse
from .envelope import encode_reply
from .service import JsonApi

_JSON_HEADERS = (("content-type", "application/json; charset=utf-8"), ("cache-control", "no-store"))


class JsonHttpHandler:
    """The HttpHandler of `/api` (CONTRACTS §1)."""

    def __init__(self, api: JsonApi, max_message_size: int) -> None:
        self.api = api
        self.max_message_size = max_message_size

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if request.method != "POST":
            return HttpResponse.text(
                f"405 Method Not Allowed: {request.method} is not a jsonAction request; POST a JSON object to /api\n",
                405,
                [("allow", "POST")],
            )
        if len(request.body) > self.max_message_size:
            return HttpResponse.text(
                f"413 Content Too Large: the request has {len(request.body)} bytes, "
                f"more than --max-message-size {self.max_message_size}\n",
                413,
            )
        return self._answer(request)

    async def _answer(self, request: HttpRequest) -> HttpResponse:
        reply = await self.api.handle(
            request.body, transport="http", peer=request.peer_host, authorization=request.header("authorization")
        )
        return HttpResponse(200, list(_JSON_HEADERS), encode_reply(reply).encode("utf-8"))

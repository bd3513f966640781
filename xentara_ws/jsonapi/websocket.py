"""The /api WebSocket (extensions §8): one JSON request per text frame, one reply each, events pushed."""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Awaitable
from typing import Any

from ..edge.http import HttpRequest, WebSocketChannel
from ..protocol.errors import ErrorCode
from .envelope import ActionError, JsonRequest, build_reply, encode_reply
from .service import JsonApi

logger = logging.getLogger(__name__)

MAX_HELD_EVENTS = 10_000
"""Events held back while a request of this connection runs (they follow its reply)."""
_BINARY = "binary frames are not supported on /api: send each JSON request in a text frame"


class JsonWebSocketSession:
    """One /api WebSocket connection (a WebSocketSession of CONTRACTS §1)."""

    def __init__(self, api: JsonApi, channel: WebSocketChannel, peer_host: str, peer_address: str) -> None:
        self.api = api
        self.channel = channel
        self.peer_host = peer_host
        self.peer_address = peer_address
        self.running = 0
        self.held: deque[str] = deque()
        self.held_dropped = 0
        self.closed = False

    def on_message(self, data: bytes | str) -> str | Awaitable[str | None] | None:
        if not isinstance(data, str):
            return encode_reply(build_reply(JsonRequest(), error=ActionError(int(ErrorCode.PARSE_ERROR), _BINARY)))
        return self._answer(data)

    async def _answer(self, data: str) -> str | None:
        self.running += 1
        try:
            reply = await self.api.handle(
                data, transport="websocket", peer=self.peer_host, sink=self, peer_address=self.peer_address
            )
        finally:
            self.running -= 1
        if self.closed:
            return None
        # The reply goes out before the events that arrived while it was made (a subscription's
        # initial events follow its subscriptionId).
        self.channel.send_text(encode_reply(reply))
        if not self.running:
            held, self.held = self.held, deque()
            for text in held:
                self.channel.send_text(text)
        return None

    def push_event(self, event: dict[str, Any]) -> None:
        if self.closed:
            return
        text = json.dumps(event, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        if self.running:
            if len(self.held) >= MAX_HELD_EVENTS:
                self.held.popleft()
                self.held_dropped += 1
            self.held.append(text)
            return
        self.channel.send_text(text)

    def on_close(self) -> None:
        self.closed = True
        self.held.clear()
        self.api.detach(self)


class JsonWebSocketApp:
    """The WebSocketApp of `/api`: the upgrade needs no authentication (§9.16); requests carry authTokens."""

    def __init__(self, api: JsonApi) -> None:
        self.api = api

    def __call__(self, request: HttpRequest, channel: WebSocketChannel) -> JsonWebSocketSession:
        return JsonWebSocketSession(self.api, channel, request.peer_host, request.peer)

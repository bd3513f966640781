"""The network edge: bytes → h11 (HTTP/1.1) / websockets' sans-I/O ServerProtocol → routes and the dispatcher."""

from .admission import Gatekeeper, OpenGate, UpgradeRefused
from .api import API_PATH, SUBPROTOCOL
from .http import (
    HttpHandler,
    HttpRequest,
    HttpResponse,
    WebSocketApp,
    WebSocketChannel,
    WebSocketSession,
)
from .server import Edge

__all__ = [
    "API_PATH",
    "SUBPROTOCOL",
    "Edge",
    "Gatekeeper",
    "HttpHandler",
    "HttpRequest",
    "HttpResponse",
    "OpenGate",
    "UpgradeRefused",
    "WebSocketApp",
    "WebSocketChannel",
    "WebSocketSession",
]

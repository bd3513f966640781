"""The HTTP/WebSocket edge (I/O only); `http` holds the pure request/response types."""

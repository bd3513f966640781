"""xentara-ws: a server for the Xentara WebSocket API v2."""

__version__ = "0.1.0"

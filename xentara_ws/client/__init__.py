"""An asyncio client for the Xentara WebSocket API."""

"""The server: dispatcher, command handlers, subscriptions, sub-sessions and the WebSocket edge."""

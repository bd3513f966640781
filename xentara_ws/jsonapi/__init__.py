"""The jsonAction rendition of the API (extensions §8): POST /api and JSON over the /api WebSocket.

`envelope` parses requests and builds replies, `values` converts values between CBOR and JSON,
`actions` maps every action onto the same command handlers as the CBOR dispatcher, `sessions`
keeps the JSON sessions, `events` queues their subscription events, and `http` / `websocket`
are the two transports' handlers (pure: the edge does the I/O).
"""

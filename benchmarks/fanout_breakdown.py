"""Where the time of a fan-out goes: the server's own Python work per delivery, without sockets.

Runs the real change notification, event scheduling, flush and WebSocket framing of the edge for
1000 subscribed connections whose transports discard what they are given, and prints the
microseconds per delivery. Compare with the deliveries/s of `run_all.py` (real sockets): the
difference is the kernel's work of one `write` system call per subscriber connection.
Run: `python benchmarks/fanout_breakdown.py`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any

from websockets.client import ClientProtocol
from websockets.protocol import OPEN
from websockets.uri import parse_uri

sys.path.insert(0, os.path.dirname(__file__))
from servers import SETPOINT_UUID, bench_model

from xentara_ws.edge import Edge
from xentara_ws.edge.connection import EdgeConnection
from xentara_ws.protocol.codec import encode
from xentara_ws.server.state import ServerState

SUBSCRIBERS = int(os.environ.get("SUBSCRIBERS", "1000"))
CHANGES = int(os.environ.get("CHANGES", "300"))


class NullTransport:
    """Takes every write and forgets it (counts them)."""

    written = 0

    def write(self, data: bytes) -> None:
        NullTransport.written += 1

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 1) if name == "peername" else default

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


def opening_bytes() -> bytes:
    """The upgrade request, client_hello and one subscription, as a client would send them."""
    client = ClientProtocol(parse_uri("ws://127.0.0.1/api/ws"))
    client.send_request(client.connect())
    framer = ClientProtocol(parse_uri("ws://127.0.0.1/api/ws"), state=OPEN)  # frames that travel with the request
    framer.send_binary(encode([[0, 1, 14, {0: 1, 1: 1}], [0, 2, 6, {0: [{0: SETPOINT_UUID, 1: [11]}]}]]))
    return b"".join(client.data_to_send() + framer.data_to_send())


async def main() -> None:
    model = bench_model()
    edge = Edge(ServerState(model=model))
    element = model.find(SETPOINT_UUID)
    assert element is not None
    for _ in range(SUBSCRIBERS):
        connection = EdgeConnection(edge)
        connection.connection_made(NullTransport())  # type: ignore[arg-type]
        connection.data_received(opening_bytes())
    await asyncio.sleep(0.01)
    spec = element.attribute(11)
    before = NullTransport.written
    started = time.process_time()  # CPU time: other processes on a shared machine do not count
    for change in range(CHANGES):
        element.write(spec, float(change), model.clock())
        await asyncio.sleep(0)  # the edge flushes every dirty connection in one loop callback
    elapsed = time.process_time() - started
    deliveries = NullTransport.written - before
    assert deliveries == SUBSCRIBERS * CHANGES, deliveries
    per_delivery = elapsed / deliveries * 1e6
    print(f"{SUBSCRIBERS} subscribers, {CHANGES} changes: {per_delivery:.2f} us of Python work (CPU) per delivery")
    print(f"at most {1e6 / per_delivery:,.0f} deliveries/s if writing to sockets cost nothing")


if __name__ == "__main__":
    asyncio.run(main())

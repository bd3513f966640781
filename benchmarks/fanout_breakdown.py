"""Where the time of a fan-out goes: the server's own Python work per delivery, without sockets.

Runs the real change notification, event scheduling and flush for 1000 subscribed connections
whose transports discard what they are given, and prints the microseconds per delivery. Compare
with the deliveries/s of `run_all.py` (real sockets): the difference is the kernel's work of one
`write` system call per subscriber connection. Run: `python benchmarks/fanout_breakdown.py`.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sys
import time
import uuid

from websockets.protocol import OPEN

sys.path.insert(0, os.path.dirname(__file__))
from servers import SETPOINT_UUID, bench_model

from xentara_ws.server.edge import Outbound, WebSocketEdge
from xentara_ws.server.session import Session
from xentara_ws.server.state import ServerState
from xentara_ws.server.subscriptions import EventScheduler

SUBSCRIBERS = 1000
CHANGES = 300


class NullTransport:
    written = 0

    def write(self, data: bytes) -> None:
        NullTransport.written += 1

    def is_closing(self) -> bool:
        return False


class NullProtocol:
    state = OPEN


class NullConnection:
    paused = False
    send_in_progress = None
    protocol = NullProtocol()
    transport = NullTransport()


async def main() -> None:
    model = bench_model()
    state = ServerState(model=model)
    edge = WebSocketEdge(state)
    element = model.find(SETPOINT_UUID)
    assert element is not None
    for _ in range(SUBSCRIBERS):
        session = Session()
        outbound = Outbound(edge, NullConnection(), session)  # type: ignore[arg-type]
        session.events = EventScheduler(
            state.monotonic, state.access, None, functools.partial(edge._mark_dirty, outbound)
        )
        session.events.add(uuid.uuid4(), [(element, (11,))], None, None)
    edge._flush()
    spec = element.attribute(11)
    before = NullTransport.written
    started = time.perf_counter()
    for change in range(CHANGES):
        element.write(spec, float(change), model.clock())
        edge._flush()
    elapsed = time.perf_counter() - started
    deliveries = NullTransport.written - before
    assert deliveries == SUBSCRIBERS * CHANGES
    per_delivery = elapsed / deliveries * 1e6
    print(f"{SUBSCRIBERS} subscribers, {CHANGES} changes: {per_delivery:.2f} us of Python work per delivery")
    print(f"at most {1e6 / per_delivery:,.0f} deliveries/s if writing to sockets cost nothing")


if __name__ == "__main__":
    asyncio.run(main())

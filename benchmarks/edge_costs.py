"""Where a read request's server CPU goes, without sockets: `python benchmarks/edge_costs.py`.

Prints microseconds per request for
- websockets' sans-I/O `ServerProtocol` alone: parsing one client frame (`receive_data` +
  `events_received`) and building one reply frame (`send_binary` + `data_to_send`);
- the dispatcher alone: decoding, running and encoding one read message (`handle_bytes`);
- the whole edge: bytes of one frame into `EdgeConnection.data_received` to the reply written to a
  transport that only counts (one frame per call, and 100 frames per call as a pipelining client sends).
What a real run adds on top of the whole edge is the kernel's share (reading, writing, epoll) and the
event loop; `run_all.py` measures that end to end.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import cbor2
from servers import LEVEL_UUID, READ_ATTRIBUTES, bench_model
from websockets.client import ClientProtocol
from websockets.protocol import OPEN
from websockets.server import ServerProtocol
from websockets.uri import parse_uri

READ = cbor2.dumps([[0, 2, 4, {0: LEVEL_UUID, 1: READ_ATTRIBUTES}]])
HELLO = cbor2.dumps([[0, 1, 14, {0: 1, 1: 1}]])


def best_of(function: Callable[[], Any], count: int, per_call: int = 1, rounds: int = 5) -> float:
    """Microseconds per item, the best of `rounds` timed loops of `count` calls."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(count):
            function()
        best = min(best, (time.perf_counter() - started) / (count * per_call))
    return best * 1e6


def client_frames() -> tuple[bytes, ClientProtocol]:
    """The upgrade request and a client able to frame messages (websockets' own client, masked)."""
    uri = parse_uri("ws://127.0.0.1/api/ws")
    handshake = ClientProtocol(uri)
    handshake.send_request(handshake.connect())
    framer = ClientProtocol(uri, state=OPEN)
    return b"".join(handshake.data_to_send()), framer


def frame(framer: ClientProtocol, message: bytes) -> bytes:
    framer.send_binary(message)
    return b"".join(framer.data_to_send())


class CountingTransport(asyncio.Transport):
    """Takes what the edge writes and forgets it."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: Any) -> None:
        self.writes += 1

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 40000) if name == "peername" else default

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        pass

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def websockets_costs(count: int) -> dict[str, float]:
    _, framer = client_frames()
    data = frame(framer, READ)
    reply = cbor2.dumps([[1, 2, {11: 42.5, 9: 0, 7: 0}]])
    protocol = ServerProtocol(state=OPEN, max_size=2**20)

    def receive() -> None:
        protocol.receive_data(data)
        protocol.events_received()

    def send() -> None:
        protocol.send_binary(reply)
        protocol.data_to_send()

    return {"parse one frame": best_of(receive, count), "build one frame": best_of(send, count)}


async def edge_costs(count: int) -> dict[str, float]:
    from xentara_ws.edge.connection import EdgeConnection
    from xentara_ws.server.app import XentaraServer
    from xentara_ws.server.connection_state import ConnectionState
    from xentara_ws.server.dispatcher import Dispatcher
    from xentara_ws.server.limits import Limits

    server = XentaraServer(bench_model(), limits=Limits(client_hello_timeout=600))
    dispatcher = Dispatcher(server.state)
    state = ConnectionState()
    dispatcher.handle_bytes(state, HELLO)
    figures = {"dispatcher, one read message": best_of(lambda: dispatcher.handle_bytes(state, READ), count)}

    connection = EdgeConnection(server.edge)
    transport = CountingTransport()
    connection.connection_made(transport)
    handshake, framer = client_frames()
    connection.data_received(handshake)
    await asyncio.sleep(0.05)  # the upgrade is admitted off the fast path
    connection.data_received(frame(framer, HELLO))
    await asyncio.sleep(0.05)
    one = frame(framer, READ)
    hundred = one * 100
    before = transport.writes
    figures["whole edge, one frame per read"] = best_of(lambda: connection.data_received(one), count)
    figures["whole edge, 100 frames per read"] = best_of(
        lambda: connection.data_received(hundred), count // 100, per_call=100
    )
    assert transport.writes > before, "the edge wrote no replies"
    return figures


def main() -> None:
    count = 100_000
    figures = websockets_costs(count)
    figures.update(asyncio.run(edge_costs(count)))
    width = max(len(name) for name in figures)
    for name, micros in figures.items():
        print(f"{name:{width}}  {micros:6.2f} µs")


if __name__ == "__main__":
    main()

"""The servers the benchmarks measure, each runnable on its own: `python servers.py KIND PORT [ARGS]`.

KIND is
- `ours`: xentara-ws over a small model; `ours-tls CERT KEY` the same over TLS;
  `ours-model FILE` a model file with its simulation running (and a 64 MiB message-size limit,
  so a whole-tree browse of a big model can be timed);
- `ceiling` (bare websockets) and `picows` (bare picows): each decodes the CBOR requests, answers
  reads from a dict, and in broadcast mode answers a write by encoding one event and sending it
  to every connection that subscribed (opcode 6), then replying to the writer: the least work
  any server must do per change;
- `asyncua`: an OPC UA server with one variable.
Each prints `READY` on stdout once it listens. Every server runs on uvloop when it is installed.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import cbor2

LEVEL_UUID = uuid.UUID("0b6a1b7e-3c55-4f0e-9d8e-5f1b0c2d3e41")
SETPOINT_UUID = uuid.UUID("0b6a1b7e-3c55-4f0e-9d8e-5f1b0c2d3e42")
READ_ATTRIBUTES = [11, 9, 7]


def use_uvloop() -> None:
    try:
        import uvloop
    except ImportError:
        return
    uvloop.install()


def bench_model():  # type: ignore[no-untyped-def]
    """Two float64 registers under a group, loaded like any model file."""
    from xentara_ws.model import load_model_data

    def register(name: str, element_uuid: uuid.UUID) -> dict[str, object]:
        return {
            "@Skill.SignalFlow.Register": {"name": name, "UUID": str(element_uuid), "defaultValue": ["float64", 42.5]}
        }

    group_uuid = "0b6a1b7e-3c55-4f0e-9d8e-5f1b0c2d3e40"
    children = [register("Level", LEVEL_UUID), register("Setpoint", SETPOINT_UUID)]
    return load_model_data({"children": [{"@Group": {"name": "Plant", "UUID": group_uuid, "children": children}}]})


async def serve_ours(port: int) -> None:
    from xentara_ws.server.app import XentaraServer
    from xentara_ws.server.limits import Limits

    server = XentaraServer(bench_model(), limits=Limits(max_connections=20000, client_hello_timeout=600))
    await server.start("127.0.0.1", port)
    print("READY", flush=True)
    await server.serve_until_stopped()


async def serve_ours_tls(port: int, cert: str, key: str) -> None:
    import ssl

    from xentara_ws.server.app import XentaraServer
    from xentara_ws.server.limits import Limits

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = XentaraServer(bench_model(), limits=Limits(max_connections=20000, client_hello_timeout=600))
    await server.start("127.0.0.1", port, context)
    print("READY", flush=True)
    await server.serve_until_stopped()


async def serve_ours_model(port: int, path: str) -> None:
    from xentara_ws.model import Simulation, load_model
    from xentara_ws.server.app import XentaraServer
    from xentara_ws.server.limits import Limits

    model = load_model(path)
    gc.freeze()  # as `xentara-ws serve` does: the model lives as long as the process
    limits = Limits(
        max_connections=20000, client_hello_timeout=600, max_message_size=64 << 20, max_subscription_attributes=200_000
    )
    server = XentaraServer(model, simulation=Simulation(model), limits=limits)
    await server.start("127.0.0.1", port)
    print("READY", flush=True)
    await server.serve_until_stopped()


class CeilingLogic:
    """What both bare ceilings do with a message: reads from a dict, subscribe, write = broadcast."""

    def __init__(self) -> None:
        self.values = {LEVEL_UUID: {11: cbor2.CBORTag(121, 42.5), 9: cbor2.CBORTag(121, 0), 7: cbor2.CBORTag(121, 0)}}
        self.subscription = uuid.UUID("0b6a1b7e-3c55-4f0e-9d8e-5f1b0c2d3e4f")

    def handle(self, message: bytes, subscribe: Callable[[], None], broadcast: Callable[[bytes], None]) -> bytes:
        replies = []
        for packet in cbor2.loads(message):
            params = packet[3] if len(packet) > 3 else {}
            opcode = packet[2]
            if opcode == 6:
                subscribe()
                replies.append([1, packet[1], self.subscription])
            elif opcode == 5:
                # One event per change, encoded once, sent to every subscriber.
                event = [[8, 0, {0: self.subscription, 1: params[0], 2: {11: cbor2.CBORTag(121, params[2])}}]]
                broadcast(cbor2.dumps(event))
                replies.append([1, packet[1]])
            else:
                element = self.values.get(params.get(0)) if isinstance(params, dict) else None
                if element is None:
                    replies.append([1, packet[1], {0: 1}])
                else:
                    replies.append([1, packet[1], {key: element[key] for key in params[1]}])
        return cbor2.dumps(replies)


async def serve_ceiling(port: int) -> None:
    from websockets import broadcast
    from websockets.asyncio.server import ServerConnection, serve
    from websockets.exceptions import ConnectionClosed

    logic = CeilingLogic()
    subscribers: set[ServerConnection] = set()

    async def handler(connection: ServerConnection) -> None:
        try:
            async for message in connection:
                reply = logic.handle(
                    message,  # type: ignore[arg-type]
                    lambda: subscribers.add(connection),
                    lambda event: broadcast(subscribers, event),
                )
                await connection.send(reply)
        except ConnectionClosed:
            pass
        finally:
            subscribers.discard(connection)

    async with serve(handler, "127.0.0.1", port, compression=None, max_queue=4, max_size=64 << 20):
        print("READY", flush=True)
        await asyncio.Future()


async def serve_picows(port: int) -> None:
    from picows import WSFrame, WSListener, WSMsgType, WSTransport, WSUpgradeRequest, ws_create_server

    logic = CeilingLogic()
    subscribers: set[WSTransport] = set()

    def broadcast(event: bytes) -> None:
        for transport in subscribers:
            transport.send(WSMsgType.BINARY, event)

    class Listener(WSListener):  # picows's documented way to handle a connection
        def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
            if frame.msg_type == WSMsgType.BINARY:
                reply = logic.handle(frame.get_payload_as_bytes(), lambda: subscribers.add(transport), broadcast)
                transport.send(WSMsgType.BINARY, reply)
            elif frame.msg_type == WSMsgType.CLOSE:
                transport.send_close(frame.get_close_code(), frame.get_close_message())
                transport.disconnect()

        def on_ws_disconnected(self, transport: WSTransport) -> None:
            subscribers.discard(transport)

    def factory(request: WSUpgradeRequest) -> WSListener:
        return Listener()

    server = await ws_create_server(factory, "127.0.0.1", port, max_frame_size=64 << 20)
    print("READY", flush=True)
    async with server:
        await server.serve_forever()


async def serve_asyncua(port: int) -> None:
    import logging

    from asyncua import Server

    logging.getLogger("asyncua").setLevel(logging.ERROR)
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/bench/")
    namespace = await server.register_namespace("urn:xentara-ws:bench")
    plant = await server.nodes.objects.add_object(namespace, "Plant")
    await plant.add_variable(namespace, "Level", 42.5)
    async with server:
        print("READY", flush=True)
        await asyncio.Future()


SERVERS: dict[str, Callable[..., Coroutine[Any, Any, None]]] = {
    "ours": serve_ours,
    "ours-tls": serve_ours_tls,
    "ours-model": serve_ours_model,
    "ceiling": serve_ceiling,
    "picows": serve_picows,
    "asyncua": serve_asyncua,
}


def main() -> None:
    kind, port, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    use_uvloop()
    try:
        asyncio.run(SERVERS[kind](port, *extra))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

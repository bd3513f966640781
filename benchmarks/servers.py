"""The servers the benchmarks measure, each runnable on its own: `python servers.py KIND PORT`.

KIND is `ours` (xentara-ws over a small model), `ceiling` (a bare websockets server that decodes
each CBOR request, looks a value up in a dict and encodes a reply) or `asyncua` (an OPC UA server
with one variable). Each prints `READY` on stdout once it listens.
"""

from __future__ import annotations

import asyncio
import sys
import uuid

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


async def serve_ceiling(port: int) -> None:
    from websockets.asyncio.server import serve

    values = {LEVEL_UUID: {11: cbor2.CBORTag(121, 42.5), 9: cbor2.CBORTag(121, 0), 7: cbor2.CBORTag(121, 0)}}

    from websockets.exceptions import ConnectionClosed

    async def handler(connection):  # type: ignore[no-untyped-def]
        try:
            await serve_connection(connection)
        except ConnectionClosed:
            pass

    async def serve_connection(connection):  # type: ignore[no-untyped-def]
        async for message in connection:
            packets = cbor2.loads(message)
            replies = []
            for packet in packets:
                params = packet[3] if len(packet) > 3 else {}
                element = values.get(params.get(0)) if isinstance(params, dict) else None
                if element is None:
                    replies.append([1, packet[1], {0: 1}])
                else:
                    replies.append([1, packet[1], {key: element[key] for key in params[1]}])
            await connection.send(cbor2.dumps(replies))

    async with serve(handler, "127.0.0.1", port, compression=None, max_queue=4):
        print("READY", flush=True)
        await asyncio.Future()


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


def main() -> None:
    kind, port = sys.argv[1], int(sys.argv[2])
    use_uvloop()
    runner = {"ours": serve_ours, "ceiling": serve_ceiling, "asyncua": serve_asyncua}[kind]
    try:
        asyncio.run(runner(port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

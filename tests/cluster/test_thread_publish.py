"""A value a gateway thread publishes on one node reaches a subscriber of another node."""

from __future__ import annotations

import asyncio
import threading

from support.cluster import NatsServer
from support.models import REGISTER_UUID, small_model

from xentara_ws.client import XentaraClient
from xentara_ws.cluster import ClusterNode, ClusterOptions
from xentara_ws.server.app import XentaraServer


async def test_a_value_published_from_a_thread_reaches_a_subscriber_of_another_node(tmp_path):
    nats = NatsServer(tmp_path / "jetstream").start()
    servers = [XentaraServer(small_model()), XentaraServer(small_model())]
    nodes = []
    try:
        for name, server in zip(("gateway", "hmi"), servers, strict=True):
            nodes.append(await ClusterNode.join(server, ClusterOptions(nats.url, node_name=name)))
            await server.start("127.0.0.1", 0)
        hmi = await XentaraClient(f"ws://127.0.0.1:{servers[1].port}/api/ws", reconnect=False).connect()
        try:
            subscription = await hmi.subscribe([REGISTER_UUID])
            await subscription.next(5)  # the initial event
            point = servers[0].model.element("Group 1.Data Point 1")
            thread = threading.Thread(target=point.publish, args=(6.25,))
            thread.start()
            await asyncio.to_thread(thread.join, 10)
            change = await subscription.next(5)
            assert change.values.value == 6.25
        finally:
            await hmi.close()
    finally:
        for server in servers:
            await server.close()
        for node in nodes:
            await node.close()
        nats.stop()

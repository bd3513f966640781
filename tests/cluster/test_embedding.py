"""Embedding: two servers in one program joined to one cluster; a value one publishes reaches the other."""

from __future__ import annotations

from support.cluster import NatsServer, eventually
from support.models import REGISTER_UUID, small_model

from xentara_ws.client import XentaraClient
from xentara_ws.cluster import ClusterNode, ClusterOptions
from xentara_ws.protocol.identifiers import Quality
from xentara_ws.server.app import XentaraServer


async def test_a_value_an_embedding_program_publishes_on_one_node_reaches_a_subscriber_of_another(tmp_path):
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
            servers[0].model.element("Group 1.Data Point 1").publish(7.5, Quality.ACCEPTABLE)
            change = await subscription.next(5)
            assert change.values.value == 7.5 and change.values.quality is Quality.ACCEPTABLE

            async def counter_is_9() -> bool:
                return servers[0].model.element("Group 1.Counter").value == 9

            servers[1].model.element("Group 1.Counter").publish(9)  # and back the other way
            await eventually(counter_is_9, timeout=5)
        finally:
            await hmi.close()
    finally:
        for server in servers:
            await server.close()
        for node in nodes:
            await node.close()
        nats.stop()

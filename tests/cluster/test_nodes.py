"""Several real server nodes on one real nats-server: values, the simulation lease, stages, outages."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cluster import DEMO_MODEL, NatsServer, Node, eventually

from xentara_ws.client import XentaraClient
from xentara_ws.protocol.identifiers import Attribute, Quality, ServerInformation, Stage

SIMULATED = "Plant.Tank.Temperature"  # a data point on a simulated signal
REGISTER = "Plant.Registers.Tank Level"
REGISTER_POINT = "Plant.Tank.Level"  # a data point reading and writing that register


@pytest.fixture
def nodes(tmp_path: Path, nats: NatsServer) -> Iterator[list[Node]]:
    started: list[Node] = []
    yield started
    for node in started:
        node.stop()


async def client(node: Node) -> XentaraClient:
    return await XentaraClient(node.url, reconnect=False, request_timeout=10).connect()


async def test_a_write_on_one_node_reaches_a_subscriber_on_another(tmp_path, nats, nodes):
    nodes += [Node("a", nats.url, tmp_path), Node("b", nats.url, tmp_path)]
    on_a, on_b = await client(nodes[0]), await client(nodes[1])
    try:
        subscription = await on_b.subscribe([REGISTER_POINT])
        first = await subscription.next(10)
        assert first.values.value != 42.5
        await on_a.write(REGISTER, 42.5)
        for _ in range(20):
            change = await subscription.next(10)
            if change.values.value == 42.5:
                break
        else:
            raise AssertionError("the write on node a never reached the subscriber on node b")
        assert (await on_a.read(REGISTER_POINT)).value == 42.5
    finally:
        await on_a.close()
        await on_b.close()


async def test_a_node_that_joins_later_reads_values_written_before_it_started(tmp_path, nats, nodes):
    nodes.append(Node("a", nats.url, tmp_path))
    on_a = await client(nodes[0])
    await on_a.write(REGISTER, 17.25)
    await on_a.close()
    nodes.append(Node("late", nats.url, tmp_path))
    on_late = await client(nodes[1])
    try:
        values = await on_late.read(REGISTER_POINT)
        assert values.value == 17.25 and values.quality is Quality.GOOD
    finally:
        await on_late.close()


async def test_server_information_names_the_node(tmp_path, nats, nodes):
    nodes.append(Node("north-1", nats.url, tmp_path))
    on_node = await client(nodes[0])
    try:
        info = await on_node.server_information([ServerInformation.VERSION])
        assert info[ServerInformation.VERSION].endswith("(node north-1)")
    finally:
        await on_node.close()
    assert nodes[0].stop() == 0  # SIGTERM: leaves the cluster cleanly


async def test_shutdown_on_one_node_stops_every_node(tmp_path, nats, nodes):
    nodes += [Node("a", nats.url, tmp_path, "--allow-shutdown"), Node("b", nats.url, tmp_path)]
    on_a = await client(nodes[0])
    await on_a.shutdown()
    await on_a.close()
    assert nodes[1].process.wait(15) == 0
    assert nodes[0].process.wait(15) == 0
    assert "node a moved the cluster to stage shutdown" in nodes[1].log_text()


async def test_the_simulation_continues_within_5_s_after_its_leader_is_killed(tmp_path, nats, nodes):
    nodes.append(Node("first", nats.url, tmp_path))
    on_first = await client(nodes[0])
    start = (await on_first.read(SIMULATED, [Attribute.UPDATE_TIME])).update_time
    await eventually(lambda: _updated_after(on_first, start.ns), timeout=10)  # the only node leads and simulates
    await on_first.close()
    nodes.append(Node("second", nats.url, tmp_path))
    assert "first leads the simulation" in nodes[0].log_text()
    on_second = await client(nodes[1])
    try:
        nodes[0].kill()
        killed_at = time.time_ns()
        took = await eventually(lambda: _updated_after(on_second, killed_at), timeout=5)
        assert took <= 5
        assert "second leads the simulation" in nodes[1].log_text()
    finally:
        await on_second.close()


async def _updated_after(connection: XentaraClient, ns: int) -> bool:
    update_time = (await connection.read(SIMULATED, [Attribute.UPDATE_TIME])).update_time
    return update_time is not None and update_time.ns > ns


async def test_suspend_and_resume_on_one_node_apply_to_every_node(tmp_path, nats, nodes):
    nodes += [Node("a", nats.url, tmp_path), Node("b", nats.url, tmp_path)]
    on_a, on_b = await client(nodes[0]), await client(nodes[1])
    try:
        await on_b.suspend()

        async def a_is(stage: Stage) -> bool:
            return await on_a.get_stage() is stage

        await eventually(lambda: a_is(Stage.SUSPENDED), timeout=5)
        nodes.append(Node("c", nats.url, tmp_path))  # a node joining a suspended cluster starts suspended
        on_c = await client(nodes[2])
        assert await on_c.get_stage() is Stage.SUSPENDED
        await on_c.close()
        await on_a.resume()
        await eventually(lambda: _stage_is(on_b, Stage.OPERATIONAL), timeout=5)
    finally:
        await on_a.close()
        await on_b.close()


async def _stage_is(connection: XentaraClient, stage: Stage) -> bool:
    return await connection.get_stage() is stage


async def test_losing_nats_marks_values_unreliable_and_its_return_restores_them(tmp_path, nats, nodes):
    nodes += [Node("a", nats.url, tmp_path), Node("b", nats.url, tmp_path)]
    on_b = await client(nodes[1])
    try:
        assert (await on_b.read(REGISTER_POINT)).quality is Quality.GOOD
        nats.kill()

        async def quality_is(quality: Quality) -> bool:
            return (await on_b.read(REGISTER_POINT)).quality is quality

        await eventually(lambda: quality_is(Quality.UNRELIABLE), timeout=10)
        assert "lost NATS" in nodes[1].log_text()
        nats.start(nats.port)
        await eventually(lambda: quality_is(Quality.GOOD), timeout=20)
        assert "NATS is back" in nodes[1].log_text()
    finally:
        await on_b.close()


def test_without_nats_the_server_does_not_start_in_cluster_mode_and_says_why(tmp_path):
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = subprocess.run(
        [
            *(sys.executable, "-m", "xentara_ws", "serve", "--model", str(DEMO_MODEL), "--no-tls"),
            *("--host", "127.0.0.1", "--port", "0", "--cluster", f"nats://127.0.0.1:{port}"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"cannot reach NATS at nats://127.0.0.1:{port}" in done.stderr
    assert "xentara-ws serving" not in done.stdout


def test_a_nats_server_without_jetstream_is_refused_saying_why(tmp_path):
    plain = NatsServer(tmp_path / "plain", jetstream=False).start()
    try:
        done = subprocess.run(
            [
                *(sys.executable, "-m", "xentara_ws", "serve", "--model", str(DEMO_MODEL), "--no-tls"),
                *("--host", "127.0.0.1", "--port", "0", "--cluster", plain.url),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        plain.stop()
    assert done.returncode == 2
    assert "has no usable JetStream (start nats-server with -js)" in done.stderr

"""The simulation lease and cluster-wide stages, on an in-memory stand-in for a JetStream KV bucket."""

from __future__ import annotations

from support.cluster import MemoryKV
from support.models import small_model

from xentara_ws.cluster.gate import LeaderOnlySimulation
from xentara_ws.cluster.lease import LEADER_KEY, LeaderLease
from xentara_ws.cluster.stages import StageSync, encode_stage
from xentara_ws.protocol.codec import TimePoint
from xentara_ws.protocol.identifiers import Stage
from xentara_ws.server.state import ServerState


async def test_one_node_takes_the_lease_and_keeps_it_by_renewing():
    kv = MemoryKV()
    a, b = LeaderLease(kv, "a"), LeaderLease(kv, "b")
    await a.campaign()
    await b.campaign()
    assert (a.is_leader, b.is_leader) == (True, False)
    for _ in range(3):
        await a.campaign()
        await b.campaign()
    assert (a.is_leader, b.is_leader) == (True, False)
    assert kv.entries[LEADER_KEY].value == b"a"


async def test_another_node_takes_over_when_the_lease_expires_and_the_old_leader_cannot_renew():
    kv = MemoryKV()
    changes: list[bool] = []
    a, b = LeaderLease(kv, "a", on_change=changes.append), LeaderLease(kv, "b")
    await a.campaign()
    kv.expire(LEADER_KEY)  # a stopped renewing (paused, partitioned)
    await b.campaign()
    assert b.is_leader
    await a.campaign()  # its renewal carries a revision that is no longer the key's
    assert not a.is_leader and b.is_leader
    assert changes == [True, False]


async def test_a_leader_that_closes_hands_the_lease_back_at_once():
    kv = MemoryKV()
    a, b = LeaderLease(kv, "a"), LeaderLease(kv, "b")
    await a.campaign()
    await a.close()
    await b.campaign()
    assert b.is_leader and not a.is_leader


class CountingSimulation:
    suspended = False

    def __init__(self) -> None:
        self.steps = 0

    def step(self, now: TimePoint) -> int:
        self.steps += 1
        return 1

    def next_due(self, now: TimePoint) -> TimePoint | None:
        return TimePoint(now.ns + 10**9)

    def pause(self) -> None:
        self.suspended = True

    def resume(self) -> None:
        self.suspended = False


def test_only_the_leader_steps_the_simulation_and_a_follower_polls_for_the_lease():
    leading = False
    simulation = CountingSimulation()
    gated = LeaderOnlySimulation(simulation, lambda: leading, poll_seconds=0.25)
    assert gated.step(TimePoint(0)) == 0 and simulation.steps == 0
    assert gated.next_due(TimePoint(0)) == TimePoint(250_000_000)
    leading = True
    assert gated.step(TimePoint(0)) == 1 and simulation.steps == 1
    assert gated.next_due(TimePoint(0)) == TimePoint(10**9)


def stage_sync(name: str, kv: MemoryKV) -> tuple[ServerState, StageSync, list[bytes]]:
    state = ServerState(model=small_model())
    published: list[bytes] = []

    async def publish(data: bytes) -> None:
        published.append(data)

    return state, StageSync(state, name, publish, kv), published


async def test_a_stage_another_node_announced_is_taken_over_without_announcing_it_again():
    state, sync, published = stage_sync("b", MemoryKV())
    heard: list[Stage] = []
    state.stage_listeners.append(heard.append)
    sync.on_message(encode_stage("a", Stage.SUSPENDED))
    await sync.flush()
    assert state.stage is Stage.SUSPENDED and heard == [Stage.SUSPENDED]
    assert published == []


async def test_a_local_stage_change_is_announced_once_and_kept_for_nodes_that_join_later():
    kv = MemoryKV()
    state, sync, published = stage_sync("a", kv)
    state.change_stage(Stage.OPERATIONAL, Stage.SUSPENDED)
    await sync.flush()
    assert published == [encode_stage("a", Stage.SUSPENDED)]
    later_state, later, _ = stage_sync("c", kv)
    await later.restore()
    assert later_state.stage is Stage.SUSPENDED


async def test_a_node_ignores_its_own_stage_messages():
    state, sync, _ = stage_sync("a", MemoryKV())
    sync.on_message(encode_stage("a", Stage.SUSPENDED))
    assert state.stage is Stage.OPERATIONAL

"""Last wills of sub-sessions whose node died, fired once by the leader (on a stand-in KV bucket)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from support.cluster import MemoryKV

from xentara_ws.cluster.sub_sessions import ClusterSubSessionStore, decode_value, encode_value, principal_info
from xentara_ws.cluster.wills import OrphanWills, rebuild_principal
from xentara_ws.security.authentication import Principal
from xentara_ws.sessions.entry import identity
from xentara_ws.sessions.registry import SubSessionRegistry
from xentara_ws.sessions.will import LastWill

WILL = LastWill(uuid.uuid4(), 11, 0.0, 0)


class Heartbeats:
    def __init__(self, *alive: str) -> None:
        self.names = set(alive)

    async def alive(self) -> set[str]:
        return set(self.names)


class Update:
    """A KV entry as the watch hands it over."""

    def __init__(self, key: str, value: bytes, revision: int) -> None:
        self.key, self.value, self.revision, self.operation = key, value, revision, None


def record(session_id: uuid.UUID) -> dict[str, Any]:
    other = SubSessionRegistry()
    entry, _ = other.create(session_id, owner="user:op", creator="anonymous", method=2, principal=None, attachment=None)
    entry.permanent = True
    entry.last_will = WILL
    return entry.record()


async def setup(*alive: str) -> tuple[OrphanWills, ClusterSubSessionStore, MemoryKV, list[Any], uuid.UUID]:
    kv = MemoryKV()
    fired: list[Any] = []
    registry = SubSessionRegistry(on_will=lambda session_id, will, principal: fired.append((session_id, principal)))
    store = ClusterSubSessionStore(kv, registry, "b", lambda _: None)
    registry.store = store
    session_id = uuid.uuid4()
    value = encode_value(record(session_id), "a", True, ("user", "op", ["Everyone", "Operator"]))
    revision = await kv.create(str(session_id), value)
    store.apply(Update(str(session_id), value, revision))  # node a created it and is attached to it
    return OrphanWills(store, registry, Heartbeats(*alive), lambda: True), store, kv, fired, session_id


async def test_the_will_of_a_sub_session_attached_to_a_dead_node_fires_once_with_its_principals_rights():
    wills, _, _, fired, session_id = await setup("b")
    assert await wills.sweep() == 1
    assert await wills.sweep() == 0  # claimed: the bucket no longer says it is attached to a
    await asyncio.sleep(0.01)
    [(fired_id, principal)] = fired
    assert fired_id == session_id and principal.name == "op" and "Operator" in principal.roles


async def test_nothing_fires_while_the_node_is_alive():
    wills, _, _, fired, _ = await setup("a", "b")
    assert await wills.sweep() == 0
    await asyncio.sleep(0.01)
    assert fired == []


async def test_a_resume_elsewhere_before_the_delay_is_over_cancels_the_will():
    wills, store, kv, fired, session_id = await setup("b")
    assert await wills.sweep() == 1
    value = encode_value(record(session_id), "c", True)  # node c resumed it
    store.apply(Update(str(session_id), value, await kv.put(str(session_id), value)))
    await asyncio.sleep(0.01)
    assert fired == []


async def test_another_node_that_claimed_first_fires_it_and_this_one_does_not():
    wills, _, kv, fired, session_id = await setup("b")
    entry = await kv.get(str(session_id))
    claimed = encode_value(record(session_id), "c", False)
    await kv.update(str(session_id), claimed, last=entry.revision)  # node c's claim won the race
    assert await wills.sweep() == 0
    assert fired == []


def test_the_principal_kept_for_another_nodes_will_keeps_the_token_issuer_and_reads_older_values() -> None:
    alice = Principal("alice", frozenset({"Everyone", "Operator"}), "token", "https://idp.example.com/")
    info = principal_info(alice)
    assert info is not None
    _, _, _, kept = decode_value(encode_value({}, "a", True, info))
    assert kept is not None
    assert identity(rebuild_principal(kept)) == identity(alice) == "token:https://idp.example.com/#alice"
    older = encode_value({}, "a", True, ("user", "bob", ["Everyone"]))  # type: ignore[arg-type]
    assert decode_value(older)[3] == ("user", "bob", ["Everyone"], "")

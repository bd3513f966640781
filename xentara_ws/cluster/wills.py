"""Last wills of sub-sessions whose node died: the simulation leader fires them, once.

A node fires the wills of sub-sessions lost on it (as without a cluster). When a node itself dies
(killed, or cut off from NATS for longer than the heartbeat TTL), the sub-sessions the bucket says
were attached to it would never be lost anywhere: the leader sees the node's heartbeat gone, claims
each such entry that has a last will (a revision-checked update marking it detached; only one node
can succeed), and fires the will `delay_s` later unless the entry changed meanwhile (resumed,
pinged into a new revision, altered or deleted). The write is checked with the rights of the
principal that logged in last (its roles as they were then, the access rules as they are now).
The same claim starts the lease of a temporary sub-session (expiry_s > 0) the dead node held attached:
its connection-closed time is the claim's time.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import Any

from ..sessions.registry import SubSessionRegistry
from ..sessions.will import LastWill
from .liveness import Heartbeat
from .sub_sessions import ClusterSubSessionStore, PrincipalInfo

logger = logging.getLogger(__name__)


def rebuild_principal(info: PrincipalInfo) -> Any:
    from ..security.authentication import Principal

    kind, name, roles, issuer = info
    return Principal(name=name, roles=frozenset(roles), kind=kind, issuer=issuer)


class OrphanWills:
    def __init__(
        self,
        store: ClusterSubSessionStore,
        registry: SubSessionRegistry,
        heartbeat: Heartbeat,
        is_leader: Callable[[], bool],
        *,
        interval_seconds: float = 1.0,
    ) -> None:
        self.store = store
        self.registry = registry
        self.heartbeat = heartbeat
        self.is_leader = is_leader
        self.interval_seconds = interval_seconds
        self.pending: dict[uuid.UUID, asyncio.TimerHandle] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="xentara-ws orphan wills")

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for handle in self.pending.values():
            handle.cancel()
        self.pending.clear()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_seconds)
            if self.is_leader():
                try:
                    await self.sweep()
                except Exception as error:
                    logger.debug("orphan will sweep failed: %s", error)

    async def sweep(self) -> int:
        """Claim the entries with a will whose node is gone; returns how many wills were scheduled."""
        me = self.store.node_name
        candidates = []
        for session_id, node in list(self.store.attached_on.items()):
            entry = self.registry.get(session_id)
            if node == me or session_id in self.pending or entry is None:
                continue
            # With a will, it fires; a temporary one's lease must start running (closed with the node).
            if entry.last_will is not None or not entry.permanent:
                candidates.append((session_id, node))
        if not candidates:
            return 0
        alive = await self.heartbeat.alive()
        scheduled = 0
        for session_id, node in candidates:
            if node in alive:
                continue
            revision = await self.store.claim(session_id, node)
            entry = self.registry.get(session_id)
            if revision is not None and entry is not None and entry.last_will is None:
                logger.info("node %s is gone: the lease of sub-session %s runs from now", node, session_id)
            if revision is None or entry is None or entry.last_will is None:
                continue
            will = entry.last_will
            logger.warning(
                "node %s is gone: the last will of sub-session %s fires in %d s", node, session_id, will.delay_s
            )
            self.pending[session_id] = asyncio.get_running_loop().call_later(
                will.delay_s, self._fire, session_id, revision, will
            )
            scheduled += 1
        return scheduled

    def _fire(self, session_id: uuid.UUID, revision: int, will: LastWill) -> None:
        self.pending.pop(session_id, None)
        if self.store.revisions.get(session_id) != revision:
            logger.info("last will of sub-session %s not written: the sub-session changed meanwhile", session_id)
            return
        info = self.store.principals.get(session_id)
        if info is None:
            logger.warning("last will of sub-session %s not written: nobody logged in to it", session_id)
            return
        self.registry.on_will(session_id, will, rebuild_principal(info))

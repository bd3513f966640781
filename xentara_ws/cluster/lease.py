"""Who runs the simulation: a lease in a JetStream key-value bucket whose TTL is the lease time.

A node becomes leader by creating the `leader` key (a KV create fails if the key exists, so only
one node can); it keeps the lease by updating the key with the revision it last wrote (an update
with a stale revision fails, so a node that lost the lease cannot renew it by accident). The bucket's
TTL removes the key when the leader stops renewing (killed, partitioned), and another node's next
create succeeds. A leader that cannot renew (NATS unreachable, or the revision moved on) stops
leading at once, before its lease has run out anywhere else.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from nats.js.errors import KeyWrongLastSequenceError

logger = logging.getLogger(__name__)

LEADER_KEY = "leader"
DEFAULT_LEASE_SECONDS = 3.0


class LeaderLease:
    """Campaigns for and keeps the simulation lease; `is_leader` says whether this node holds it now."""

    def __init__(
        self,
        kv: Any,
        node_name: str,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        on_change: Callable[[bool], None] | None = None,
    ) -> None:
        self.kv = kv
        self.node_name = node_name
        self.lease_seconds = lease_seconds
        self.on_change = on_change
        self.is_leader = False
        self.revision = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="xentara-ws cluster lease")

    async def close(self) -> None:
        """Stop campaigning; a leader hands the lease back so that another node takes over at once."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self.is_leader:
            self._set(False)
            try:
                await asyncio.wait_for(self.kv.delete(LEADER_KEY, last=self.revision), 2.0)
            except Exception as error:  # the TTL frees the lease anyway
                logger.debug("could not hand back the lease: %s", error)

    def step_down(self) -> None:
        """Stop leading now (NATS was lost: the lease cannot be renewed, another node may take it)."""
        if self.is_leader:
            self._set(False)

    def _set(self, leading: bool) -> None:
        if leading == self.is_leader:
            return
        self.is_leader = leading
        if leading:
            logger.info("node %s leads the simulation", self.node_name)
        else:
            logger.info("node %s no longer leads the simulation", self.node_name)
        if self.on_change is not None:
            self.on_change(leading)

    async def _run(self) -> None:
        while True:
            try:
                await self.campaign()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.debug("lease round failed: %s", error)
                self.step_down()
            # A leader renews three times per lease; a follower tries six times, so that a freed
            # lease is taken within a sixth of the lease time.
            await asyncio.sleep(self.lease_seconds / (3 if self.is_leader else 6))

    async def campaign(self) -> None:
        """One round: renew the lease if held, else try to take it."""
        value = self.node_name.encode()
        if self.is_leader:
            try:
                self.revision = await self.kv.update(LEADER_KEY, value, last=self.revision)
            except KeyWrongLastSequenceError:
                logger.warning("node %s lost the lease to another node", self.node_name)
                self._set(False)
            return
        try:
            self.revision = await self.kv.create(LEADER_KEY, value)
        except KeyWrongLastSequenceError:
            return  # another node holds it
        self._set(True)

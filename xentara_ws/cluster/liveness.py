"""Which nodes are alive: each node keeps a key `node-<name>` fresh in a KV bucket whose TTL is the
time after which a silent node counts as dead (it was killed, or lost NATS for that long).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from nats.js.errors import NoKeysError

logger = logging.getLogger(__name__)

PREFIX = "node-"


class Heartbeat:
    def __init__(self, kv: Any, node_name: str, ttl_seconds: float) -> None:
        self.kv = kv
        self.node_name = node_name
        self.ttl_seconds = ttl_seconds
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.kv.put(PREFIX + self.node_name, b"alive")
        self._task = asyncio.get_running_loop().create_task(self._run(), name="xentara-ws cluster heartbeat")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.ttl_seconds / 4)
            try:
                await self.kv.put(PREFIX + self.node_name, b"alive")
            except Exception as error:  # NATS away: the outage is logged by the node
                logger.debug("heartbeat not written: %s", error)

    async def alive(self) -> set[str]:
        """The names of the nodes whose heartbeat is fresh."""
        try:
            keys = await self.kv.keys()
        except NoKeysError:
            return set()
        return {key[len(PREFIX) :] for key in keys if key.startswith(PREFIX)}

    async def close(self, *, leaving: bool) -> None:
        """Stop beating; a node that leaves cleanly says so at once (its key is deleted)."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if leaving:
            try:
                await asyncio.wait_for(self.kv.delete(PREFIX + self.node_name), 2.0)
            except Exception as error:
                logger.debug("heartbeat not removed: %s", error)

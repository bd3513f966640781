"""suspend, resume and shutdown for the whole cluster: one subject carries every stage change.

A node that changes its stage because a client asked publishes `{0: origin, 1: stage}` on
`xws.<cluster>.stage`; every other node moves to that stage as if a client had asked it (its own
listeners then pause or resume the simulation, or shut it down). The last operational/suspended
stage is also kept in the state bucket, so that a node joining a suspended cluster starts suspended.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ..protocol import codec
from ..protocol.identifiers import Stage
from ..server.state import ServerState

logger = logging.getLogger(__name__)

STAGE_KEY = "stage"
_KEPT = (Stage.OPERATIONAL, Stage.SUSPENDED)


def encode_stage(origin: str, stage: Stage) -> bytes:
    return codec.encode({0: origin, 1: int(stage)})


def decode_stage(data: bytes) -> tuple[str, Stage]:
    item = codec.decode(data)
    if not isinstance(item, dict) or type(item.get(0)) is not str or type(item.get(1)) is not int:
        raise ValueError("a stage message must be {0: origin, 1: stage}")
    return item[0], Stage(item[1])


class StageSync:
    def __init__(
        self,
        state: ServerState,
        node_name: str,
        publish: Callable[[bytes], Awaitable[None]],
        kv: Any,
    ) -> None:
        self.state = state
        self.node_name = node_name
        self.publish = publish
        self.kv = kv
        self._applying = False
        self._tasks: set[asyncio.Task[None]] = set()
        state.stage_listeners.append(self._on_local_stage)

    async def restore(self) -> None:
        """Take over the cluster's kept stage at start (a suspended cluster stays suspended)."""
        try:
            entry = await self.kv.get(STAGE_KEY)
        except Exception:  # no key yet: operational
            return
        try:
            _, stage = decode_stage(entry.value)
        except ValueError:
            return
        self.apply(stage)

    def apply(self, stage: Stage) -> None:
        """Move the local server to a stage another node announced."""
        if stage is self.state.stage or self.state.stage is Stage.SHUTDOWN:
            return
        self._applying = True
        try:
            self.state.change_stage(self.state.stage, stage)
        finally:
            self._applying = False

    def on_message(self, data: bytes) -> None:
        try:
            origin, stage = decode_stage(data)
        except ValueError as error:
            logger.warning("ignored a malformed stage message: %s", error)
            return
        if origin != self.node_name:
            logger.info("node %s moved the cluster to stage %s", origin, stage.name.lower())
            self.apply(stage)

    def _on_local_stage(self, stage: Stage) -> None:
        if self._applying:
            return
        task = asyncio.get_running_loop().create_task(self._announce(stage))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _announce(self, stage: Stage) -> None:
        data = encode_stage(self.node_name, stage)
        try:
            await self.publish(data)
            if stage in _KEPT:
                await self.kv.put(STAGE_KEY, data)
        except Exception as error:
            logger.error("could not announce stage %s to the cluster: %s", stage.name.lower(), error)

    async def flush(self) -> None:
        """Wait for announcements in flight (a shutdown must reach the others before this node exits)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=2.0)

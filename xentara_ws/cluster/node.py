"""One server node of a cluster: connects to NATS and keeps the local model in step with the others.

What it wires together (each part in its own module): value changes out and in (`changes`), the
catch-up at start and after an outage (`snapshot`), the simulation lease (`lease`, `gate`), stage
commands (`stages`), the quality marks while NATS is away (`outage`) and the sub-session registry's
storage (`sub_sessions`). Reads, subscriptions and update-rate coalescing stay local: every node
holds the whole model and applies remote changes to it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import nats
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import APIError

from ..model.element import AttributeKey, Element
from ..model.skills import DataPoint
from . import snapshot
from .changes import ChangeFormatError, ValueChange, apply, capture
from .gate import LeaderOnlySimulation
from .lease import DEFAULT_LEASE_SECONDS, LeaderLease
from .liveness import Heartbeat
from .outage import OutageMarks
from .stages import StageSync
from .sub_sessions import ClusterSubSessionStore
from .subjects import DEFAULT_CLUSTER_NAME, Subjects, check_name
from .wills import OrphanWills

if TYPE_CHECKING:
    from ..server.app import XentaraServer

logger = logging.getLogger(__name__)

MAX_OUTBOX = 100_000
"""Changes waiting to be handed to the NATS client; beyond that new ones are dropped (and counted)."""
MAX_SNAPSHOT_PAGES = 10_000
NODE_TIMEOUT_LEASES = 2
"""A node silent for this many lease times counts as dead (its sub-sessions' last wills fire elsewhere)."""


class ClusterError(Exception):
    """The node cannot join its cluster (NATS unreachable, JetStream off, bad names)."""


def default_node_name() -> str:
    """Host name and process id: unique on one machine and readable in logs."""
    host = re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname())[:40] or "node"
    return f"{host}-{os.getpid()}"


@dataclass(frozen=True, slots=True)
class ClusterOptions:
    url: str
    node_name: str = ""
    cluster_name: str = DEFAULT_CLUSTER_NAME
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    connect_timeout: float = 5.0
    """How long the first connection may take before the node gives up (later outages are retried forever)."""

    def checked(self) -> ClusterOptions:
        """The options with a node name, or ClusterError naming what is wrong."""
        try:
            check_name("cluster name", self.cluster_name)
            name = check_name("node name", self.node_name or default_node_name())
        except ValueError as error:
            raise ClusterError(str(error)) from None
        if not self.url.startswith(("nats://", "tls://", "ws://", "wss://")):
            raise ClusterError(f"--cluster {self.url}: expected a NATS URL such as nats://127.0.0.1:4222")
        if self.lease_seconds <= 0:
            raise ClusterError("the lease time must be positive")
        return ClusterOptions(self.url, name, self.cluster_name, self.lease_seconds, self.connect_timeout)


class ClusterNode:
    """Joins a `XentaraServer` to a cluster. Use `await ClusterNode.join(server, options)` before `server.start`."""

    def __init__(self, server: XentaraServer, options: ClusterOptions, *, clock: Callable[[], int] = time.time_ns):
        self.server = server
        self.options = options.checked()
        self.name = self.options.node_name
        self.subjects = Subjects(self.options.cluster_name)
        self.clock = clock
        self.nc: Any = None
        self.lease: LeaderLease | None = None
        self.stages: StageSync | None = None
        self.sub_sessions: ClusterSubSessionStore | None = None
        self.heartbeat: Heartbeat | None = None
        self.orphan_wills: OrphanWills | None = None
        self.order: dict[uuid.UUID, tuple[int, str]] = {}
        """Per element, (stamp, origin) of the change it holds: bounded by the model's size."""
        self.sources = [
            e for e in server.model if not isinstance(e, DataPoint)
        ]  # data points mirror their io elements: their changes follow from those
        self.marks = OutageMarks(lambda: self.sources)
        self.ready = False
        self.connected = False
        self.dropped = 0
        self._applying = False
        self._closing = False
        self._last_stamp = 0
        self.outbox: list[ValueChange] = []
        """Local changes waiting to be handed to the NATS client (bounded by MAX_OUTBOX)."""
        self._flushing = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_error: BaseException | None = None

    # -- joining and leaving -------------------------------------------------------------------

    @classmethod
    async def join(cls, server: XentaraServer, options: ClusterOptions) -> ClusterNode:
        node = cls(server, options)
        await node.start()
        return node

    async def start(self) -> None:
        await self._connect()
        try:
            js = self.nc.jetstream()
            leader_kv = await _bucket(js, self.subjects.leader_bucket, ttl=self.options.lease_seconds)
            state_kv = await _bucket(js, self.subjects.state_bucket)
        except Exception as error:
            await self._abandon()
            raise ClusterError(
                f"NATS at {self.options.url} has no usable JetStream (start nats-server with -js): {error}"
            ) from None
        self.watch_model()
        await self.nc.subscribe(self.subjects.all_values, cb=self._on_value_message)
        await self.nc.subscribe(self.subjects.snapshot, cb=self._on_snapshot_request)
        self.stages = StageSync(self.server.state, self.name, self._publish_stage, state_kv)
        await self.nc.subscribe(self.subjects.stage, cb=self._on_stage_message)
        await self.catch_up()
        await self.stages.restore()
        await self._share_sub_sessions(js)
        self.lease = LeaderLease(leader_kv, self.name, lease_seconds=self.options.lease_seconds)
        if self.server.simulation is not None:
            self.server.simulation = LeaderOnlySimulation(self.server.simulation, lambda: self.is_leader)
        self.lease.start()
        self.server.state.version = f"{self.server.state.version} (node {self.name})"
        self.server.state.extra["cluster"] = self
        logger.info("node %s joined cluster %s at %s", self.name, self.options.cluster_name, self.options.url)

    def watch_model(self) -> None:
        """Hear every local change of the model's value-holding elements, to publish it."""
        for element in self.sources:
            element.subscribe(self._on_local_change)

    async def _share_sub_sessions(self, js: Any) -> None:
        """The registry's permanent sub-sessions live in the cluster's KV bucket from now on."""
        try:
            kv = await _bucket(js, self.subjects.sub_session_bucket)
        except Exception as error:
            await self._abandon()
            raise ClusterError(f"the sub-session bucket cannot be opened: {error}") from None
        registry = self.server.state.sub_sessions
        if len(registry):
            logger.warning("%d sub-session(s) loaded before joining the cluster are node-local", len(registry))
        self.sub_sessions = ClusterSubSessionStore(kv, registry, self.name, self.server.model.find)
        registry.store = self.sub_sessions
        loaded = await self.sub_sessions.start()
        if loaded:
            logger.info("%d permanent sub-session(s) in the cluster", loaded)
        local_will = registry.on_will

        def on_will(session_id: uuid.UUID, will: Any, principal: Any) -> object:
            entry = registry.get(session_id)
            writer = self.sub_sessions.writers.get(session_id) if self.sub_sessions is not None else None
            if entry is not None and entry.kind == "json" and writer not in (None, self.name):
                # A JSON session is used on any node; its keep-alive lapse is seen on each of them:
                # the node that wrote its latest activity fires the will.
                logger.info("last will of sub-session %s left to node %s (its latest activity)", session_id, writer)
                return None
            result = local_will(session_id, will, principal)
            if self.sub_sessions is not None:  # no other node may fire it again when this one dies
                self._spawn(self.sub_sessions.mark_detached(session_id))
            return result

        registry.on_will = on_will
        try:
            nodes_kv = await _bucket(
                js, self.subjects.nodes_bucket, ttl=NODE_TIMEOUT_LEASES * self.options.lease_seconds
            )
        except Exception as error:
            await self._abandon()
            raise ClusterError(f"the node bucket cannot be opened: {error}") from None
        self.heartbeat = Heartbeat(nodes_kv, self.name, NODE_TIMEOUT_LEASES * self.options.lease_seconds)
        await self.heartbeat.start()
        self.orphan_wills = OrphanWills(self.sub_sessions, registry, self.heartbeat, lambda: self.is_leader)
        self.orphan_wills.start()

    async def _connect(self) -> None:
        async def on_error(error: Exception) -> None:
            self._last_error = error
            if self.connected:
                logger.warning("NATS: %s", error)

        try:
            self.nc = await asyncio.wait_for(
                nats.connect(
                    self.options.url,
                    name=f"xentara-ws {self.name}",
                    no_echo=True,  # a node never needs its own changes back (the first guard against echo loops)
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=1,
                    error_cb=on_error,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                ),
                self.options.connect_timeout,
            )
        except (TimeoutError, OSError, nats.errors.Error) as error:
            cause = self._last_error or error
            raise ClusterError(
                f"cannot reach NATS at {self.options.url} within {self.options.connect_timeout:g} s: "
                f"{str(cause) or type(cause).__name__}"
            ) from None
        self.connected = True

    async def _abandon(self) -> None:
        self._closing = True
        if self.nc is not None:
            try:
                await self.nc.close()
            except Exception:
                pass

    async def close(self) -> None:
        """Leave the cluster: hand back the lease, send what is pending, disconnect."""
        if self._closing:
            return
        self._closing = True
        for element in self.sources:
            element.unsubscribe(self._on_local_change)
        if self.lease is not None:
            await self.lease.close()
        if self.stages is not None:
            await self.stages.flush()
        if self.orphan_wills is not None:
            self.orphan_wills.close()
        if self.sub_sessions is not None:
            try:  # bounded: with NATS away a clean stop must not hang on it
                await asyncio.wait_for(self.sub_sessions.leave(), 5.0)
            except TimeoutError:
                logger.warning("could not tell the cluster which sub-sessions this node held")
            self.sub_sessions.close()
        if self.heartbeat is not None:
            await self.heartbeat.close(leaving=True)
        await self._flush()
        try:
            await asyncio.wait_for(self.nc.flush(), 2.0)
        except Exception:
            pass
        await self._abandon()

    @property
    def is_leader(self) -> bool:
        return self.lease is not None and self.lease.is_leader

    # -- values out ----------------------------------------------------------------------------

    def _stamp(self) -> int:
        # Strictly increasing on this node, so that two changes in one clock tick keep their order.
        stamp = max(self.clock(), self._last_stamp + 1)
        self._last_stamp = stamp
        return stamp

    def _on_local_change(self, element: Element, changed: frozenset[AttributeKey]) -> None:
        if self._applying:
            return  # a remote change being applied here: publishing it again would echo it forever
        change = capture(element, changed, self.name, self._stamp())
        self.order[element.uuid] = change.order
        if len(self.outbox) >= MAX_OUTBOX:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 10_000 == 0:
                logger.error("NATS cannot keep up: %d changes not sent to the cluster", self.dropped)
            return
        self.outbox.append(change)
        if not self._flushing:
            self._flushing = True
            self._spawn(self._flush())

    async def _flush(self) -> None:
        try:
            while self.outbox:
                batch, self.outbox = self.outbox, []
                for change in batch:
                    try:
                        await self.nc.publish(self.subjects.value(change.element), change.encode())
                    except Exception as error:
                        self.dropped += 1
                        logger.warning("change of %s not sent to the cluster: %s", change.element, error)
        finally:
            self._flushing = False

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- values in -----------------------------------------------------------------------------

    async def _on_value_message(self, msg: Any) -> None:
        try:
            change = ValueChange.decode(msg.data)
        except ChangeFormatError as error:
            logger.warning("ignored a malformed change on %s: %s", msg.subject, error)
            return
        self.receive(change)

    def receive(self, change: ValueChange) -> bool:
        """Apply a change from another node if it is newer than what this node holds; True if applied."""
        if change.origin == self.name:
            return False
        held = self.order.get(change.element)
        if held is not None and change.order <= held:
            return False
        element = self.server.model.find(change.element)
        if element is None:
            return False
        self.order[change.element] = change.order
        self._applying = True
        try:
            apply(element, change)
        finally:
            self._applying = False
        return True

    # -- snapshot ------------------------------------------------------------------------------

    async def catch_up(self) -> int:
        """Ask the other nodes for every element's latest change; returns how many were applied."""
        applied = 0
        after: uuid.UUID | None = None
        try:
            for _ in range(MAX_SNAPSHOT_PAGES):
                try:
                    reply = await self.nc.request(self.subjects.snapshot, snapshot.encode_request(after), timeout=2.0)
                except NoRespondersError:
                    break  # the first node of the cluster
                except NatsTimeoutError:
                    logger.warning("no node answered the snapshot request; starting from the loaded values")
                    break
                changes, more = snapshot.decode_page(reply.data)
                applied += sum(self.receive(change) for change in changes)
                if not more or not changes:
                    break
                after = changes[-1].element
        except (ChangeFormatError, ValueError) as error:
            logger.warning("ignored a malformed snapshot: %s", error)
        finally:
            self.ready = True
        return applied

    async def _on_snapshot_request(self, msg: Any) -> None:
        if not self.ready or not msg.reply:
            return  # a node still catching up itself must not hand out its loaded values
        try:
            after = snapshot.decode_request(msg.data)
        except ValueError:
            return
        model = self.server.model
        records = []
        for element_uuid, (stamp, origin) in self.order.items():
            element = model.find(element_uuid)
            if element is not None:
                records.append(capture(element, frozenset(), origin, stamp))
        await msg.respond(snapshot.encode_page(records, after))

    # -- stages --------------------------------------------------------------------------------

    async def _publish_stage(self, data: bytes) -> None:
        await self.nc.publish(self.subjects.stage, data)
        await self.nc.flush(timeout=2)

    async def _on_stage_message(self, msg: Any) -> None:
        if self.stages is not None:
            self.stages.on_message(msg.data)

    # -- outages -------------------------------------------------------------------------------

    async def _on_disconnected(self) -> None:
        if self._closing or not self.connected:
            return
        self.connected = False
        if self.lease is not None:
            self.lease.step_down()
        self._applying = True  # the marks are this node's view, not a change to tell the others
        try:
            count = self.marks.mark()
        finally:
            self._applying = False
        logger.error(
            "lost NATS at %s: serving the last known values, %d of them marked unreliable; reconnecting",
            self.options.url,
            count,
        )

    async def _on_reconnected(self) -> None:
        if self._closing:
            return
        self.connected = True
        self._applying = True
        try:
            restored = self.marks.clear()
        finally:
            self._applying = False
        logger.warning("NATS is back at %s: %d qualities restored; catching up", self.options.url, restored)
        self._spawn(self.catch_up())
        if self.sub_sessions is not None:
            self._spawn(self._rewatch_sub_sessions())

    async def _rewatch_sub_sessions(self) -> None:
        assert self.sub_sessions is not None
        try:
            await self.sub_sessions.rewatch()
        except Exception as error:
            logger.error("the sub-session registry could not be followed again after the outage: %s", error)


async def _bucket(js: Any, bucket: str, **config: Any) -> Any:
    """The bucket, created if it does not exist yet (several nodes may race to create it: all win)."""
    try:
        return await js.create_key_value(bucket=bucket, **config)
    except APIError:
        return await js.key_value(bucket)

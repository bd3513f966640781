"""The sub-session registry's storage for a cluster: one JetStream KV bucket, watched by every node.

Every node keeps the whole registry in memory (as without a cluster); the bucket
`xws_<cluster>_sub_sessions` holds each permanent sub-session under its UUID, and a watch on the
bucket mirrors every other node's change into the local registry:

* **Create** is a KV create: if another node claimed the id first, the create fails here with
  -32102 and the local entry is dropped (no two nodes can own one id).
* **Changes** (resume, alter, bind, unbind) are revision-checked KV updates: a node whose copy is
  out of date does not overwrite a newer one (the command fails with -32102, its copy is refreshed).
* **Resume on any node**: a permanent sub-session is known to every node; a resume on node B is an
  update that says "attached on B", and the node it was attached to before drops it from its
  connection (as a resume on another connection does on one server).
* **Ban and delete** reach every node through the watch (milliseconds, well within a second): a
  ban detaches the sub-session wherever it is attached, a delete removes it everywhere.

**Temporary sub-sessions that can outlive their connection** (expiry_s > 0: created with the
keep-alive/expiry options, and every JSON session) live in the bucket too, with their lease state
(last_activity, closed_at, k, e), so that they can be resumed (CBOR) or used (a JSON authToken: the
entry's secondary key travels with it) on any node:

* **Lease activity** (a request naming the sub-session, a ping, a JSON request's start and end) is
  written at most once per `ACTIVITY_INTERVAL` per sub-session (a trailing write carries the last
  one); every node therefore judges a lease `ACTIVITY_INTERVAL` late at most (`lease_grace`): a
  temporary sub-session in a cluster lives up to one second longer than its expiry says.
* **Expiry is decided once**: every node's timer finds the entry due; each re-reads it from the
  bucket and, if the bucket's lease is over too, deletes it with a revision-checked delete. One
  node wins and logs the removal; the others' deletes fail (the revision moved on), they follow the
  bucket (the watch's delete removes their copy; activity written meanwhile reschedules it).
* A sub-session attached to a node that dies (killed, cut off) gets its connection-closed time from
  the simulation leader's revision-checked claim (see `wills`), so its lease runs out elsewhere.

Temporary sub-sessions with the vendor defaults (k = 0, e = 0) die with their connection: they
stay on their node, with no NATS round-trip. A dead node's last wills: see `wills`.

What is kept of bound subscriptions across nodes: their definitions (in the bucket). What they
retained while detached lives in the memory of the node where the sub-session was last attached:
a resume on that node catches up with those changes; a resume on another node (or after that node
was killed) gets one event per element with the current values instead, as after a restart (the
changes in between are lost with that node's memory; the current values are not).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from nats.js.errors import APIError, KeyNotFoundError, KeyWrongLastSequenceError

from ..protocol import codec
from ..protocol.errors import ErrorCode, ProtocolError
from ..sessions.entry import BANNED, SubSessionEntry
from ..sessions.lease import removal_at
from ..sessions.registry import SubSessionRegistry
from ..sessions.storage import Record
from ..sessions.will import LastWill

logger = logging.getLogger(__name__)

_RECORD, _WRITER, _ATTACHED, _PRINCIPAL = 0, 1, 2, 3
_IN_PLACE = ("keep_alive_s", "expiry_s", "status", "description", "health", "last_will")
_DELETES = ("DEL", "PURGE")
REQUEST_TIMEOUT = 5.0
ACTIVITY_INTERVAL = 1.0
"""Seconds between two lease writes of one sub-session (activity is rate-limited to this)."""
_JSON = "json"


PrincipalInfo = tuple[str, str, list[str], str]
"""(kind, name, roles, issuer) of who logged in last: lets another node fire the last will with
those rights. Values written before the issuer was kept have three items (issuer "")."""


def encode_value(record: Record, writer: str, attached: bool, principal: PrincipalInfo | None = None) -> bytes:
    item: dict[int, Any] = {_RECORD: record, _WRITER: writer, _ATTACHED: attached}
    if principal is not None:
        item[_PRINCIPAL] = list(principal)
    return codec.encode(item)


def decode_value(data: bytes) -> tuple[Record, str, bool, PrincipalInfo | None]:
    item = codec.decode(data)
    if not isinstance(item, dict) or not isinstance(item.get(_RECORD), dict) or type(item.get(_WRITER)) is not str:
        raise ValueError("a stored sub-session must be {0: record, 1: writer, 2: attached}")
    info = item.get(_PRINCIPAL)
    principal: PrincipalInfo | None = None
    if isinstance(info, list) and len(info) in (3, 4) and isinstance(info[2], list):
        issuer = str(info[3]) if len(info) == 4 else ""
        principal = (str(info[0]), str(info[1]), [str(role) for role in info[2]], issuer)
    return item[_RECORD], item[_WRITER], bool(item.get(_ATTACHED)), principal


def principal_info(principal: Any) -> PrincipalInfo | None:
    """What is kept of a logged-in principal (the security module's Principal: kind, name, roles, issuer)."""
    kind, name, roles = (getattr(principal, a, None) for a in ("kind", "name", "roles"))
    if not isinstance(kind, str) or not isinstance(name, str) or roles is None:
        return None
    return (kind, name, sorted(str(role) for role in roles), str(getattr(principal, "issuer", "")))


class ClusterSubSessionStore:
    """A `SubSessionStore` on a KV bucket, mirroring the other nodes' changes into `registry`."""

    keeps_leases = True
    lease_grace = ACTIVITY_INTERVAL

    def __init__(
        self, kv: Any, registry: SubSessionRegistry, node_name: str, resolve: Callable[[uuid.UUID], Any]
    ) -> None:
        self.kv = kv
        self.registry = registry
        self.node_name = node_name
        self.resolve = resolve
        self.revisions: dict[uuid.UUID, int] = {}
        """The KV revision of each entry as this node last wrote or saw it."""
        self.attached_on: dict[uuid.UUID, str] = {}
        """The node each attached entry was last attached to, as the bucket says."""
        self.principals: dict[uuid.UUID, PrincipalInfo] = {}
        self.writers: dict[uuid.UUID, str] = {}
        """The node that last wrote each entry, as the bucket says."""
        self._touched: dict[uuid.UUID, float] = {}
        """When this node last wrote each entry (loop time), for the rate limit of lease writes."""
        self._touch_pending: dict[uuid.UUID, asyncio.TimerHandle] = {}
        self._deciding: set[uuid.UUID] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loading: list[Record] = []
        self._mirroring = False
        self.leaving = False
        self._watcher: Any = None
        self._task: asyncio.Task[None] | None = None
        self._tails: dict[uuid.UUID, asyncio.Future[None]] = {}
        """Per entry, the last of this node's writes in flight: the next one waits for it (it needs its revision)."""
        self.ready = asyncio.Event()

    # -- SubSessionStore ---------------------------------------------------------------------------

    def load(self) -> list[Record]:
        """The records staged by the watch (at start, and for each entry another node creates)."""
        records, self._loading = self._loading, []
        return records

    def put(self, record: Record) -> Awaitable[None] | None:
        if self._mirroring:
            return None  # the change came from the bucket: writing it back would echo it
        session_id = record["id"]
        entry = self.registry.get(session_id)
        # A will pending here keeps it "attached here": should this node die first, another fires it.
        attached = entry is not None and (entry.attachment is not None or self.registry.will_pending(session_id))
        principal = principal_info(entry.principal) if entry is not None else None
        if principal is None:
            principal = self.principals.get(session_id)
        return self._write(session_id, entry, encode_value(record, self.node_name, attached, principal))

    def delete(self, session_id: uuid.UUID) -> Awaitable[None] | None:
        if self._mirroring:
            return None
        return self._remove(session_id)

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for handle in self._touch_pending.values():
            handle.cancel()
        self._touch_pending.clear()
        for task in list(self._tasks):
            task.cancel()

    # -- shared leases (registry.py: touch, expire) ------------------------------------------------

    def touch(self, session_id: uuid.UUID) -> None:
        """Lease activity of a temporary entry: written now, or once the rate limit allows."""
        if self._mirroring or session_id in self._touch_pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        wait = self._touched.get(session_id, -ACTIVITY_INTERVAL) + ACTIVITY_INTERVAL - loop.time()
        self._touch_pending[session_id] = loop.call_later(max(0.0, wait), self._touch_now, session_id)

    def _touch_now(self, session_id: uuid.UUID) -> None:
        self._touch_pending.pop(session_id, None)
        self._spawn(self._write_lease(session_id))

    async def _write_lease(self, session_id: uuid.UUID) -> None:
        first = self.registry.get(session_id)
        for _ in range(3):  # a conflict refreshes this node's copy (merging the leases): then again
            entry = self.registry.get(session_id)
            if entry is None or entry is not first or not self.registry.shared(entry):
                return  # gone, or replaced by another node's (resumed there): that node writes now
            try:
                written = self.put(entry.record())
                if written is not None:
                    await written
                return
            except ProtocolError as error:
                if error.code != ErrorCode.ACCESS_DENIED:
                    return  # NATS unreachable: logged; the next activity writes again

    def expire(self, session_id: uuid.UUID) -> None:
        """The registry found the entry's lease over: decide it against the bucket (once per node)."""
        if session_id in self._deciding:
            return
        self._deciding.add(session_id)
        self._spawn(self._decide(session_id))

    async def _decide(self, session_id: uuid.UUID) -> None:
        key = str(session_id)
        retry = False
        mine = await self._in_turn(session_id)
        try:
            try:
                current = await asyncio.wait_for(self.kv.get(key), REQUEST_TIMEOUT)
            except KeyNotFoundError:
                self._gone(session_id)
                return
            record, _, _, _ = decode_value(current.value)
            due = removal_at(
                bool(record.get("permanent")),
                int(record["keep_alive_s"]),
                int(record["expiry_s"]),
                float(record["last_activity"]),
                None if record.get("closed_at") is None else float(record["closed_at"]),
            )
            if due is None or due + self.lease_grace > self.registry.clock():
                self._mirror(session_id, current.value, current.revision)  # activity elsewhere: not yet
                self._reschedule(session_id)
                return
            try:
                await asyncio.wait_for(self.kv.delete(key, last=current.revision), REQUEST_TIMEOUT)
            except APIError as error:
                if not wrong_last_sequence(error):
                    raise
                # Another node removed it first, or wrote activity meanwhile: the bucket decides.
                logger.debug("sub-session %s: its expiry was decided elsewhere", session_id)
                await self._follow_bucket(session_id)
                return
            logger.info("sub-session %s expired: removed from the cluster by node %s", session_id, self.node_name)
            self._gone(session_id)
        except (KeyError, TypeError, ValueError) as error:
            logger.error("sub-session %s in the cluster cannot be read (%s)", session_id, error)
        except Exception as error:  # NATS unreachable, timed out: decided once it is back
            logger.warning("the expiry of sub-session %s cannot be decided now: %s", session_id, error)
            retry = True
        finally:
            self._deciding.discard(session_id)
            self._turn_done(session_id, mine)
        if retry:
            asyncio.get_running_loop().call_later(ACTIVITY_INTERVAL, self._retry_expiry, session_id)

    def _retry_expiry(self, session_id: uuid.UUID) -> None:
        if self.registry.get(session_id) is not None:
            self.expire(session_id)

    def _reschedule(self, session_id: uuid.UUID) -> None:
        entry = self.registry.get(session_id)
        if entry is not None:
            self.registry.reschedule(entry)

    async def _follow_bucket(self, session_id: uuid.UUID) -> None:
        try:
            current = await asyncio.wait_for(self.kv.get(str(session_id)), REQUEST_TIMEOUT)
        except KeyNotFoundError:
            self._gone(session_id)
            return
        self._mirror(session_id, current.value, current.revision)
        self._reschedule(session_id)

    def _gone(self, session_id: uuid.UUID) -> None:
        """The bucket no longer has the entry: neither has this node."""
        self._drop(session_id)
        local = self.registry.get(session_id)
        if local is not None:
            self._forget(local)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- writing ---------------------------------------------------------------------------------

    async def _in_turn(self, session_id: uuid.UUID) -> asyncio.Future[None]:
        """Wait until this node's earlier writes of the entry are done; returns the future to finish."""
        previous = self._tails.get(session_id)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[session_id] = mine
        if previous is not None:
            try:
                await asyncio.shield(previous)  # a cancelled waiter must not cancel the write before it
            except BaseException:
                self._turn_done(session_id, mine)
                raise
        return mine

    def _turn_done(self, session_id: uuid.UUID, mine: asyncio.Future[None]) -> None:
        if not mine.done():
            mine.set_result(None)
        if self._tails.get(session_id) is mine:
            del self._tails[session_id]

    async def _write(self, session_id: uuid.UUID, entry: SubSessionEntry | None, value: bytes) -> None:
        mine = await self._in_turn(session_id)
        try:
            await self._write_now(session_id, entry, value)
        finally:
            self._turn_done(session_id, mine)

    async def _write_now(self, session_id: uuid.UUID, entry: SubSessionEntry | None, value: bytes) -> None:
        key = str(session_id)
        revision = self.revisions.get(session_id)
        try:
            if revision is None:
                self.revisions[session_id] = await asyncio.wait_for(self.kv.create(key, value), REQUEST_TIMEOUT)
            else:
                self.revisions[session_id] = await asyncio.wait_for(
                    self.kv.update(key, value, last=revision), REQUEST_TIMEOUT
                )
            self._note(session_id, value)
            try:
                self._touched[session_id] = asyncio.get_running_loop().time()
            except RuntimeError:
                pass
        except KeyWrongLastSequenceError:
            await self._refresh(session_id, entry, created=revision is None)
            if revision is None:
                raise ProtocolError(
                    ErrorCode.ACCESS_DENIED, f"sub-session {session_id} was just created on another node"
                ) from None
            raise ProtocolError(
                ErrorCode.ACCESS_DENIED, f"sub-session {session_id} was changed on another node meanwhile; try again"
            ) from None
        except Exception as error:  # NATS unreachable, timed out
            logger.error("the cluster's sub-session registry cannot be written: %s", error)
            raise ProtocolError(
                ErrorCode.INTERNAL_ERROR, "the cluster's sub-session registry is unreachable (NATS)"
            ) from None

    async def _refresh(self, session_id: uuid.UUID, entry: SubSessionEntry | None, *, created: bool) -> None:
        """After a refused write: this node's copy is replaced by the bucket's."""
        if created and entry is not None and self.registry.get(session_id) is entry:
            self._forget(entry)  # our claim lost: the entry the other node created comes in below
        try:
            current = await self.kv.get(str(session_id))
        except Exception:
            return
        self._mirror(session_id, current.value, current.revision)

    async def _remove(self, session_id: uuid.UUID) -> None:
        mine = await self._in_turn(session_id)
        try:
            await asyncio.wait_for(self.kv.delete(str(session_id)), REQUEST_TIMEOUT)
        except Exception as error:
            logger.error("the cluster's sub-session registry cannot be written: %s", error)
            raise ProtocolError(
                ErrorCode.INTERNAL_ERROR, "the cluster's sub-session registry is unreachable (NATS)"
            ) from None
        finally:
            self._turn_done(session_id, mine)
        self._drop(session_id)

    def _drop(self, session_id: uuid.UUID) -> None:
        self.revisions.pop(session_id, None)
        self.attached_on.pop(session_id, None)
        self.principals.pop(session_id, None)
        self.writers.pop(session_id, None)
        self._touched.pop(session_id, None)
        pending = self._touch_pending.pop(session_id, None)
        if pending is not None:
            pending.cancel()

    def _note(self, session_id: uuid.UUID, value: bytes) -> None:
        """Remember where the bucket says an entry is attached, and who logged in last."""
        try:
            _, writer, attached, principal = decode_value(value)
        except ValueError:
            return
        self.writers[session_id] = writer
        if attached:
            self.attached_on[session_id] = writer
        else:
            self.attached_on.pop(session_id, None)
        if principal is not None:
            self.principals[session_id] = principal

    async def claim(self, session_id: uuid.UUID, node: str) -> int | None:
        """Mark an entry that `node` (now gone) held attached as detached; the revision written, or
        None when another node claimed it first or it moved on (resumed, deleted)."""
        key = str(session_id)
        try:
            current = await self.kv.get(key)
            record, writer, attached, principal = decode_value(current.value)
            if not attached or writer != node:
                return None
            if not record.get("permanent") and record.get("closed_at") is None:
                record = {**record, "closed_at": self.registry.clock()}  # its connection ended with the node
            value = encode_value(record, self.node_name, False, principal)
            revision: int = await self.kv.update(key, value, last=current.revision)
        except KeyWrongLastSequenceError:
            return None
        except Exception as error:
            logger.debug("sub-session %s not claimed: %s", session_id, error)
            return None
        self._mirror(session_id, value, revision)
        return revision

    async def mark_detached(self, session_id: uuid.UUID) -> None:
        """The bucket says this node holds the entry attached, but it no longer does (its will fired
        here, or this node leaves): say so, so that no other node fires its will again."""
        mine = await self._in_turn(session_id)
        try:
            entry = self.registry.get(session_id)
            revision = self.revisions.get(session_id)
            if self.attached_on.get(session_id) != self.node_name or entry is None or revision is None:
                return
            if entry.attachment is not None and not self.leaving:
                return  # resumed here meanwhile
            record = entry.record()
            if not entry.permanent and record["closed_at"] is None:
                record["closed_at"] = self.registry.clock()  # this node leaves: its lease runs elsewhere
            value = encode_value(record, self.node_name, False, self.principals.get(session_id))
            self.revisions[session_id] = await asyncio.wait_for(
                self.kv.update(str(session_id), value, last=revision), REQUEST_TIMEOUT
            )
            self._note(session_id, value)
        except Exception as error:
            logger.debug("sub-session %s not marked detached: %s", session_id, error)
        finally:
            self._turn_done(session_id, mine)

    async def leave(self) -> None:
        """This node stops cleanly: nothing stays attached to it in the bucket (no will fires for it)."""
        self.leaving = True
        mine = [session_id for session_id, node in self.attached_on.items() if node == self.node_name]
        for session_id in mine:
            await self.mark_detached(session_id)

    # -- the watch: every node's changes -----------------------------------------------------------

    async def start(self) -> int:
        """Load every stored sub-session, then follow the bucket; returns how many were loaded."""
        self._watcher = await self.kv.watchall()
        while True:
            entry = await self._watcher.updates(timeout=REQUEST_TIMEOUT)
            if entry is None:
                break
            self._stage(entry)
        count = self._load_staged()
        self._task = asyncio.get_running_loop().create_task(self._follow(), name="xentara-ws sub-session watch")
        self.ready.set()
        return count

    async def rewatch(self) -> None:
        """After NATS came back: a new watch (the old one does not survive a server restart) that
        first brings every entry changed meanwhile, then follows as before."""
        if self._task is not None:
            self._task.cancel()
        old, self._watcher = self._watcher, None
        if old is not None:
            try:
                await old.stop()
            except Exception:
                pass  # its subscription went with the old connection
        self._watcher = await self.kv.watchall()
        while True:
            entry = await self._watcher.updates(timeout=REQUEST_TIMEOUT)
            if entry is None:
                break
            try:
                self.apply(entry)
            except Exception:
                logger.exception("a sub-session change from the cluster could not be applied")
        self._task = asyncio.get_running_loop().create_task(self._follow(), name="xentara-ws sub-session watch")

    def _stage(self, entry: Any) -> None:
        session_id = _session_id(entry.key)
        if session_id is None:
            return
        if entry.operation in _DELETES or entry.value is None:
            self._drop(session_id)
            return
        try:
            record, _, _, _ = decode_value(entry.value)
        except ValueError as error:
            logger.error("stored sub-session %s cannot be read (%s); it is skipped", entry.key, error)
            return
        self.revisions[session_id] = entry.revision
        self._note(session_id, entry.value)
        self._loading.append(record)

    def _load_staged(self) -> int:
        self._mirroring = True
        try:
            return self.registry.load(self.resolve)
        finally:
            self._mirroring = False

    async def _follow(self) -> None:
        async for entry in self._watcher:
            if entry is None:
                continue
            try:
                self.apply(entry)
            except Exception:
                logger.exception("a sub-session change from the cluster could not be applied")

    def apply(self, entry: Any) -> None:
        """One change of the bucket (from the watch): mirror it into the local registry."""
        session_id = _session_id(entry.key)
        if session_id is None:
            return
        if entry.operation in _DELETES or entry.value is None:
            self._drop(session_id)
            local = self.registry.get(session_id)
            if local is not None:
                logger.info("sub-session %s was deleted on another node", session_id)
                self._forget(local)
            return
        known = self.revisions.get(session_id)
        if known is not None and entry.revision <= known:
            return  # this node's own write, or older than what it has
        self._mirror(session_id, entry.value, entry.revision)

    def _mirror(self, session_id: uuid.UUID, value: bytes, revision: int) -> None:
        try:
            record, writer, attached, _ = decode_value(value)
        except ValueError as error:
            logger.error("sub-session %s from the cluster cannot be read: %s", session_id, error)
            return
        self.revisions[session_id] = revision
        self._note(session_id, value)
        local = self.registry.get(session_id)
        if local is not None and attached and writer != self.node_name and local.kind != _JSON:
            # Resumed on another node: it leaves this node's connection, and what this node retained
            # for it is stale (the other node delivers from now on). A JSON session is used by
            # requests on any node at once (the JSON front end holds its entry): updated in place.
            if local.attachment is not None:
                logger.info("sub-session %s was resumed on node %s", session_id, writer)
            self._forget(local)
            local = None
        if local is None:
            self._loading.append(record)
            self._load_staged()
            return
        reassert = False
        self._mirroring = True
        try:
            self.registry.alter(local, _options(record))
            if not local.permanent:
                closed_at = record.get("closed_at")
                reassert = self.registry.merge_lease(
                    local, float(record["last_activity"]), None if closed_at is None else float(closed_at)
                )
        finally:
            self._mirroring = False
        if reassert and writer != self.node_name:
            self.touch(session_id)  # it is attached here (a JSON session's WebSocket): the bucket must say so
        if local.status == BANNED:
            logger.info("sub-session %s was banned on node %s", session_id, writer)

    def _forget(self, entry: SubSessionEntry) -> None:
        """Drop an entry from this node only (the bucket already says so, or another node owns it)."""
        self._mirroring = True
        try:
            self.registry.delete(entry)
        finally:
            self._mirroring = False


def _session_id(key: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(key)
    except ValueError:
        return None


def _options(record: Record) -> dict[str, Any]:
    """The options of a stored record in the shape the registry applies (alter)."""
    options = {name: record[name] for name in _IN_PLACE if name in record}
    will = options.get("last_will")
    if will is not None:
        options["last_will"] = LastWill(will[0], will[1], will[2], int(will[3]))
    return options


def wrong_last_sequence(error: APIError) -> bool:
    """Whether JetStream refused a write for its expected revision. `kv.update`/`kv.create` raise
    KeyWrongLastSequenceError for it, but `kv.delete(key, last=...)` the plain BadRequestError with
    JetStream's error code (10071; 10164 for the constant form), up to nats-py 2.16 at least."""
    return isinstance(error, KeyWrongLastSequenceError) or error.err_code in (10071, 10164)

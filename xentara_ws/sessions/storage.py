"""Where permanent sub-sessions are kept: one small interface, in memory or in SQLite.

The interface (`SubSessionStore`) is four methods on plain records (the dicts of
`SubSessionEntry.record()`, CBOR-encodable: UUIDs, text, numbers, maps):

* `load() -> list[record]` — every stored entry, once at start-up;
* `put(record) -> None | Awaitable[None]` — create or replace one entry;
* `delete(session_id) -> None | Awaitable[None]` — remove one;
* `close() -> None`.

`put` and `delete` may return an awaitable: the registry hands it back to the command, which
awaits it before its reply goes out (durability before the reply, extensions §9.14). A store may
also share leases (`keeps_leases = True`, `lease_grace` seconds, `touch(id)`, `expire(id)`: the
cluster's KV bucket): it then keeps temporary entries with expiry_s > 0 too (see registry.py). The SQLite
store answers synchronously: each change is one short transaction committed before `put`
returns (a few hundred microseconds on a local disk; see the README). A network store (a NATS
key-value bucket, later) returns an awaitable instead and keeps the same contract.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import uuid
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, Protocol

from ..protocol.codec import decode_record, encode_record

logger = logging.getLogger(__name__)

FILE_NAME = "sub-sessions.sqlite3"

Record = dict[str, Any]


class StoreUnavailable(Exception):
    """The store cannot be opened (the message says where and why)."""


class SubSessionStore(Protocol):
    def load(self) -> list[Record]: ...

    def put(self, record: Record) -> Awaitable[None] | None: ...

    def delete(self, session_id: uuid.UUID) -> Awaitable[None] | None: ...

    def close(self) -> None: ...


class MemoryStore:
    """Keeps records for the lifetime of the process (the default without --state-dir)."""

    def __init__(self) -> None:
        self.records: dict[uuid.UUID, Record] = {}

    def load(self) -> list[Record]:
        return list(self.records.values())

    def put(self, record: Record) -> None:
        self.records[record["id"]] = record

    def delete(self, session_id: uuid.UUID) -> None:
        self.records.pop(session_id, None)

    def close(self) -> None:
        pass


class SqliteStore:
    """One row per permanent sub-session in `sub-sessions.sqlite3` (WAL, synchronous=FULL, mode 0600)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        directory = Path(folder)
        self.path = directory / FILE_NAME
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            # Created with 0600 before SQLite opens it; its -wal and -shm files take the same mode.
            os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed transaction survives a power cut too, not only a killed process.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("CREATE TABLE IF NOT EXISTS sub_sessions (id TEXT PRIMARY KEY, record BLOB NOT NULL)")
        except (OSError, sqlite3.Error) as error:
            raise StoreUnavailable(f"the sub-session store {self.path} cannot be opened: {error}") from None

    def load(self) -> list[Record]:
        records = []
        for session_id, blob in self._db.execute("SELECT id, record FROM sub_sessions"):
            try:
                records.append(decode_record(blob))
            except Exception:
                logger.error("%s: the stored sub-session %s cannot be read; it is skipped", self.path, session_id)
        return records

    def put(self, record: Record) -> None:
        blob = encode_record(record)
        with self._db:  # one transaction, committed on leaving the block
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT INTO sub_sessions (id, record) VALUES (?, ?) "
                "ON CONFLICT(id) DO UPDATE SET record = excluded.record",
                (str(record["id"]), blob),
            )

    def delete(self, session_id: uuid.UUID) -> None:
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM sub_sessions WHERE id = ?", (str(session_id),))

    def close(self) -> None:
        self._db.close()

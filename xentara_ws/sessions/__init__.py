"""Sub-sessions that live beyond a connection: the registry, its entries, leases, health, wills, storage."""

from .entry import Attachment, BoundSubscription, SubSessionEntry, identity
from .health import HealthThresholds
from .lease import NEVER
from .registry import Durable, SubSessionRegistry
from .storage import FILE_NAME, MemoryStore, SqliteStore, StoreUnavailable, SubSessionStore
from .will import LastWill

__all__ = [
    "FILE_NAME",
    "NEVER",
    "Attachment",
    "BoundSubscription",
    "Durable",
    "HealthThresholds",
    "LastWill",
    "MemoryStore",
    "SqliteStore",
    "StoreUnavailable",
    "SubSessionEntry",
    "SubSessionRegistry",
    "SubSessionStore",
    "identity",
]

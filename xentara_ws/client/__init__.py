"""An asyncio client for the Xentara WebSocket API: `async with connect(url, user=..., password=...) as c:`."""

from .connection import DEFAULT_URL, XentaraClient, connect
from .sub_sessions import Health, LastWill, SubSessionDescription, SubSessionSummary
from .subscription import Subscription
from .tls import certificate_fingerprint
from .types import (
    AccessRights,
    AttributeInfo,
    AttributeKey,
    Change,
    ConnectionFailed,
    Element,
    MetaData,
    Timestamp,
    Values,
    XentaraError,
)

__all__ = [
    "DEFAULT_URL",
    "AccessRights",
    "AttributeInfo",
    "AttributeKey",
    "Change",
    "ConnectionFailed",
    "Element",
    "Health",
    "LastWill",
    "MetaData",
    "SubSessionDescription",
    "SubSessionSummary",
    "Subscription",
    "Timestamp",
    "Values",
    "XentaraClient",
    "XentaraError",
    "certificate_fingerprint",
    "connect",
]

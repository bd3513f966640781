"""What several command families share: finding elements and attached sub-sessions, whose rights a
command needs, checking attribute ids, and replying once the sub-session store has committed."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from typing import Any

from ...model.element import Element
from ...protocol.errors import ErrorCode, ProtocolError
from ...protocol.identifiers import Attribute
from ...sessions.entry import SubSessionEntry
from ...sessions.registry import Durable
from ..params import invalid
from ..state import ServerState
from .context import CommandContext

_STANDARD_IDS = frozenset(int(a) for a in Attribute)


def find_element(state: ServerState, element_uuid: uuid.UUID) -> Element:
    """The element with this UUID, else -32100."""
    element = state.model.find(element_uuid)
    if element is None:
        raise ProtocolError(ErrorCode.UNKNOWN_ELEMENT, f"unknown element {element_uuid}")
    return element


def check_attribute_id(key: Any, p_key: int, name: str) -> None:
    """-32602 unless `key` is a standard attribute identifier (0-13) or an attribute UUID."""
    if type(key) is int and key not in _STANDARD_IDS:
        raise invalid(f"parameter {p_key} ({name}) holds {key}, which is not an attribute identifier (0-13)")
    if type(key) is not int and type(key) is not uuid.UUID:
        raise invalid(f"parameter {p_key} ({name}) must hold integer attribute ids or attribute UUIDs")


def attached(ctx: CommandContext, sub_session_id: uuid.UUID) -> SubSessionEntry:
    """The sub-session named by a command that *uses* it: attached here, else -32111. Counts as activity."""
    entry = ctx.connection.sub_sessions.get(sub_session_id)
    if entry is None:
        raise ProtocolError(ErrorCode.UNKNOWN_SESSION_ID, f"unknown sub-session {sub_session_id}")
    ctx.state.sub_sessions.activity(entry)
    return entry


def principals(ctx: CommandContext, sub_session_id: uuid.UUID | None) -> tuple[Any, ...]:
    """Whose permission a command needs: the connection's, and the sub-session's if one is named."""
    if sub_session_id is None:
        return (ctx.connection.principal,)
    return (ctx.connection.principal, attached(ctx, sub_session_id).principal)


async def durable_then(durable: Awaitable[None], result: Any) -> Any:
    """Reply only once the store has committed the change (extensions §9.14)."""
    await durable
    return result


def after(durable: Durable, result: Any) -> Any:
    """`result` now, or an awaitable of it when the store answers later."""
    return result if durable is None else durable_then(durable, result)

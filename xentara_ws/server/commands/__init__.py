"""The command handlers: COMMANDS maps every opcode to its handler, one module per command family.

This table is the one place an opcode leads to its code; the dispatcher runs it (Dispatcher(state)),
the JSON API runs the same table. Nothing registers itself on import.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ...protocol.identifiers import Opcode
from .browsing import browse, lookup, meta_data
from .context import Handler
from .hello import client_hello, server_information
from .stages import get_stage, resume, shutdown, suspend
from .sub_session_admin import (
    alter_sub_session,
    delete_sub_session,
    describe_sub_sessions,
    list_sub_sessions,
    ping,
)
from .sub_sessions import check_access, close_sub_session, create_sub_session
from .subscriptions import subscribe, unsubscribe
from .values import read, write

COMMANDS: Mapping[int, Handler] = MappingProxyType(
    {
        # The vendor's API (spec section 5)
        Opcode.SERVER_INFORMATION: server_information,
        Opcode.BROWSE: browse,
        Opcode.META_DATA: meta_data,
        Opcode.LOOKUP: lookup,
        Opcode.READ: read,
        Opcode.WRITE: write,
        Opcode.SUBSCRIBE: subscribe,
        Opcode.UNSUBSCRIBE: unsubscribe,
        Opcode.GET_STAGE: get_stage,
        Opcode.RESUME: resume,
        Opcode.SUSPEND: suspend,
        Opcode.SHUTDOWN: shutdown,
        Opcode.CREATE_SUB_SESSION: create_sub_session,
        Opcode.CLOSE_SUB_SESSION: close_sub_session,
        Opcode.CLIENT_HELLO: client_hello,
        Opcode.CHECK_ACCESS: check_access,
        # xentara-ws extensions (xentara-ws-extensions.md §3)
        Opcode.PING: ping,
        Opcode.LIST_SUB_SESSIONS: list_sub_sessions,
        Opcode.DESCRIBE_SUB_SESSIONS: describe_sub_sessions,
        Opcode.ALTER_SUB_SESSION: alter_sub_session,
        Opcode.DELETE_SUB_SESSION: delete_sub_session,
    }
)
"""Every opcode's handler, keyed by Opcode (an IntEnum: the integers of the wire find them).

Read-only: a dispatcher that should run other handlers is given its own table (Dispatcher(state, handlers)).
"""

__all__ = ["COMMANDS"]

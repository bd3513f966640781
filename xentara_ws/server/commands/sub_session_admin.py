"""ping (256) and the administration of sub-sessions: list (257), describe (258), alter (259), delete (260).

Using a sub-session (ping) needs it attached to this connection; administering it needs
visibility: its creator or owner sees it, a principal with `sessions.admin` sees them all
(extensions §3, §9.1, §9.2).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from ...protocol.alternatives import error_value, success_value
from ...protocol.errors import ErrorCode, ProtocolError
from ...sessions.entry import BANNED, HIDDEN, STATUSES, SubSessionEntry, identity
from ...sessions.options import parse_options
from ...sessions.views import description, summary
from ...sessions.will import check_will
from ..params import Param, invalid, is_array, is_map, is_text, parse, uuid_param
from .common import after, attached
from .context import NO_RESULT, CommandContext

ADMIN_ENTITLEMENT = "sessions.admin"


def is_admin(ctx: CommandContext) -> bool:
    return bool(ctx.state.access.allowed(ctx.connection.principal, ADMIN_ENTITLEMENT, None))


def visible(ctx: CommandContext, entry: SubSessionEntry, admin: bool | None = None) -> bool:
    if admin if admin is not None else is_admin(ctx):
        return True
    me = identity(ctx.connection.principal)
    return entry.creator == me or entry.owner == me


def _visible_entry(ctx: CommandContext, session_id: uuid.UUID) -> SubSessionEntry:
    entry = ctx.state.sub_sessions.get(session_id)
    if entry is None:
        raise ProtocolError(ErrorCode.UNKNOWN_SESSION_ID, f"unknown sub-session {session_id}")
    if not visible(ctx, entry):
        raise ProtocolError(ErrorCode.ACCESS_DENIED, f"sub-session {session_id} is not visible to this connection")
    return entry


_PING = (uuid_param(0, "sub_session_id", required=False),)


def ping(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    session_id = parse(params, _PING).get(0)
    if session_id is None:
        return NO_RESULT
    entry = attached(ctx, session_id)
    # attached() counted the activity; ping() adds nothing more than the time left.
    due = ctx.state.sub_sessions.expires_at(entry)
    now = ctx.state.sub_sessions.clock()
    return {0: None if due is None else max(0, round((due - now) * 1000))}


_LIST = (
    Param(0, "include_hidden", "a boolean", lambda v: type(v) is bool, required=False),
    Param(1, "owner", "text (an identity such as user:operator)", is_text, required=False),
    Param(2, "status", f"one of {', '.join(STATUSES)}", lambda v: v in STATUSES and type(v) is str, required=False),
)


def list_sub_sessions(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    p = parse(params, _LIST)
    status = p.get(2)
    include_hidden = p.get(0, False) or status == HIDDEN
    owner = p.get(1)
    admin = is_admin(ctx)
    registry = ctx.state.sub_sessions
    return [
        summary(registry, entry)
        for entry in registry
        if (include_hidden or entry.status != HIDDEN)
        and (owner is None or entry.owner == owner)
        and (status is None or entry.status == status)
        and visible(ctx, entry, admin)
    ]


_DESCRIBE = (Param(0, "sub_session_ids", "a non-empty array of UUIDs", is_array),)


def describe_sub_sessions(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    ids = parse(params, _DESCRIBE)[0]
    if not ids:
        raise invalid("parameter 0 (sub_session_ids) must not be empty")
    if not all(type(i) is uuid.UUID for i in ids):
        raise invalid("parameter 0 (sub_session_ids) must hold UUIDs")
    registry = ctx.state.sub_sessions
    admin = is_admin(ctx)
    results = []
    for session_id in ids:
        entry = registry.get(session_id)
        if entry is None:
            error = ProtocolError(ErrorCode.UNKNOWN_SESSION_ID, f"unknown sub-session {session_id}")
            results.append(error_value(error.code, error.message))
        elif not visible(ctx, entry, admin):
            error = ProtocolError(
                ErrorCode.ACCESS_DENIED, f"sub-session {session_id} is not visible to this connection"
            )
            results.append(error_value(error.code, error.message))
        else:
            results.append(success_value(description(registry, entry)))
    return results


_ALTER = (uuid_param(0, "sub_session_id"), Param(1, "options", "a map", is_map))


def alter_sub_session(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    p = parse(params, _ALTER)
    entry = _visible_entry(ctx, p[0])
    options = parse_options(p[1], "parameter 1 (options)", banned_allowed=True)
    if "permanent" in options and options["permanent"] != entry.permanent:
        raise invalid("parameter 1 (options) option 0 (permanent) cannot change after creation")
    if (entry.status == BANNED or options.get("status") == BANNED) and not is_admin(ctx):
        raise ProtocolError(ErrorCode.ACCESS_DENIED, f"only {ADMIN_ENTITLEMENT} may ban or unban a sub-session")
    will = options.get("last_will")
    if will is not None:
        who = [ctx.connection.principal] + ([entry.principal] if entry.principal is not None else [])
        check_will(ctx.state, will, who)
    registry = ctx.state.sub_sessions
    if entry.attachment is ctx.connection:
        registry.activity(entry)
    durable = registry.alter(entry, options)
    return after(durable, description(registry, entry))


_DELETE = (uuid_param(0, "sub_session_id"),)


def delete_sub_session(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    entry = _visible_entry(ctx, parse(params, _DELETE)[0])
    return after(ctx.state.sub_sessions.delete(entry), NO_RESULT)

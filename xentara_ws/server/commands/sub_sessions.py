"""create_sub_session (12), close_sub_session (13) and check_access (15).

Sub-sessions live in the server's registry (xentara_ws.sessions); a connection holds those that
are attached to it. Without option key 256 they behave exactly as Xentara's: they end with their
connection. The "both" rule (a command naming a sub-session needs the connection's and the
sub-session's permission) is `principals` in common.py.
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from ...protocol.alternatives import Alternative, is_alternative
from ...protocol.codec import TAG_ALTERNATIVE_0, TAG_ALTERNATIVE_1
from ...protocol.errors import ErrorCode, ProtocolError
from ...sessions.entry import (
    BANNED,
    METHOD_CERTIFICATE,
    METHOD_PASSWORD,
    METHOD_TOKEN,
    SubSessionEntry,
    identity,
)
from ...sessions.options import parse_options
from ...sessions.registry import Durable
from ...sessions.will import check_will
from ..params import Param, invalid, is_map, not_nil, parse, uuid_param
from .common import after, principals
from .context import NO_RESULT, CommandContext

logger = logging.getLogger(__name__)


def _is_authentication(value: Any) -> bool:
    return is_alternative(value)


_CREATE = (
    Param(0, "authentication_information", "a tag 121, 122 or 123 alternative", _is_authentication),
    uuid_param(1, "desired_session_id", required=False),
    Param(256, "options", "a map", is_map, required=False),
)


def _field(content: Mapping[Any, Any], key: int, kind: type, what: str) -> Any:
    value = content.get(key)
    if type(value) is not kind:
        raise invalid(f"parameter 0 (authentication_information) {what} must be key {key} of the map")
    return value


def _token_identity(token: str, principal: Any) -> str:
    """`token:ISSUER#SUBJECT`: the principal's own, else from the (already verified) token's claims
    (an embedder's authenticator may return principals that do not carry the issuer)."""
    if getattr(principal, "issuer", ""):
        return identity(principal)
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return f"token:{claims.get('iss', '')}#{claims['sub']}"
    except (IndexError, KeyError, ValueError, TypeError, AttributeError):
        return f"token:#{getattr(principal, 'name', principal)}"


def _start_login(ctx: CommandContext, alternative: Alternative) -> tuple[Any, int]:
    """Check the credentials' shape and start verifying them: (the awaitable login, method)."""
    content = alternative.value
    if not isinstance(content, Mapping):
        raise invalid("parameter 0 (authentication_information) must hold a map")
    authenticator = ctx.state.sub_session_authenticator
    peer = ctx.connection.peer
    if alternative.tag == TAG_ALTERNATIVE_0:
        token = _field(content, 0, str, "the OAuth 2.0 token (text)")
        method = METHOD_TOKEN
        login = authenticator.authenticate_token(token, peer) if authenticator else None
    elif alternative.tag == TAG_ALTERNATIVE_1:
        der = _field(content, 0, bytes, "the DER certificate (byte string)")
        method = METHOD_CERTIFICATE
        login = authenticator.authenticate_certificate(der, peer) if authenticator else None
    else:
        user = _field(content, 0, str, "the user name (text)")
        password = _field(content, 1, str, "the password (text)")
        method = METHOD_PASSWORD
        login = authenticator.authenticate_password(user, password, peer) if authenticator else None
    if login is None:
        raise ProtocolError(ErrorCode.ACCESS_DENIED, "this server has no security configuration for sub-sessions")
    return login, method


async def _authenticate(ctx: CommandContext, alternative: Alternative, login: Any, method: int) -> tuple[Any, str, int]:
    """Verify the credentials (always: a resume is a login); (principal, owner identity, method)."""
    content = alternative.value
    peer = ctx.connection.peer
    try:
        principal = await login if inspect.isawaitable(login) else login
    except ProtocolError:
        raise
    except Exception as error:  # AuthenticationFailed and friends: the reason is logged, not told
        logger.info("sub-session login refused for %s: %s", peer, error)
        retry_after = getattr(error, "retry_after", None)
        if retry_after:
            # Back-off (429) or a full login pool (503): say when trying again makes sense.
            what = "too many failed logins" if getattr(error, "status", 0) == 429 else "the server is busy with logins"
            raise ProtocolError(
                ErrorCode.ACCESS_DENIED, f"sub-session authentication refused: {what}; retry in {retry_after} s"
            ) from None
        raise ProtocolError(ErrorCode.ACCESS_DENIED, "sub-session authentication failed") from None
    if method == METHOD_TOKEN:
        owner = _token_identity(content[0], principal)
    elif method == METHOD_CERTIFICATE:
        owner = "cert:" + hashlib.sha256(content[0]).hexdigest()
    else:
        owner = f"user:{getattr(principal, 'name', None) or content[0]}"
    return principal, owner, method


def _check_limits(ctx: CommandContext, existing: SubSessionEntry | None) -> None:
    limits = ctx.state.limits
    if existing is None or existing.attachment is not ctx.connection:
        if len(ctx.connection.sub_sessions) >= limits.max_sub_sessions:
            raise invalid(
                f"too many sub-sessions on this connection (limit max_sub_sessions = {limits.max_sub_sessions})"
            )
    if existing is None and len(ctx.state.sub_sessions) >= limits.max_sub_sessions_total:
        raise invalid(
            f"too many sub-sessions on this server (limit max_sub_sessions_total = {limits.max_sub_sessions_total})"
        )


def create_sub_session(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    """Checks what it can at once; the login (and everything after it) is awaited."""
    p = parse(params, _CREATE)
    desired = p.get(1)
    if desired is not None:
        not_nil(desired, 1, "desired_session_id")
    options = parse_options(p[256], "parameter 256 (options)") if 256 in p else None
    _check_limits(ctx, ctx.state.sub_sessions.get(desired) if desired is not None else None)
    login, method = _start_login(ctx, p[0])
    return _create_after_login(ctx, p[0], login, method, desired, options)


async def _create_after_login(
    ctx: CommandContext,
    alternative: Alternative,
    login: Any,
    method: int,
    desired: uuid.UUID | None,
    options: dict[str, Any] | None,
) -> Any:
    principal, owner, method = await _authenticate(ctx, alternative, login, method)
    registry = ctx.state.sub_sessions
    connection = ctx.connection
    if connection.closed:
        raise ProtocolError(ErrorCode.ACCESS_DENIED, "the connection closed during the login")
    existing = registry.get(desired) if desired is not None else None
    _check_limits(ctx, existing)
    durable: Durable = None
    if existing is not None and existing.attachment is connection:
        # Rule 1: replaced as Xentara documents it (a delete followed by a create).
        registry.delete(existing)
        existing = None
    if existing is None:
        values = options or {}
        if values.get("last_will") is not None:
            check_will(ctx.state, values["last_will"], (connection.principal, principal))
        session_id = desired if desired is not None else uuid.uuid4()
        _, durable = registry.create(
            session_id,
            owner=owner,
            creator=identity(connection.principal),
            method=method,
            principal=principal,
            attachment=connection,
            options=values,
        )
        return await _durable(durable, session_id)
    if existing.status == BANNED:
        raise ProtocolError(ErrorCode.ACCESS_DENIED, f"sub-session {existing.id} is banned")
    if existing.owner != owner or existing.kind != "cbor":
        raise ProtocolError(ErrorCode.ACCESS_DENIED, f"sub-session {existing.id} belongs to another principal")
    if options is not None:
        if "permanent" in options and options["permanent"] != existing.permanent:
            raise invalid("parameter 256 (options) option 0 (permanent) cannot change after creation")
        if options.get("last_will") is not None:
            check_will(ctx.state, options["last_will"], (connection.principal, principal))
    durable = registry.resume(existing, connection, principal, options)
    return await _durable(durable, existing.id)


async def _durable(durable: Durable, result: Any) -> Any:
    if durable is not None:
        await durable
    return result


_SESSION_ID = (uuid_param(0, "session_id"),)


def close_sub_session(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    session_id = parse(params, _SESSION_ID)[0]
    entry = ctx.connection.sub_sessions.get(session_id)
    if entry is None:
        raise ProtocolError(ErrorCode.UNKNOWN_SESSION_ID, f"unknown sub-session {session_id}")
    return after(ctx.state.sub_sessions.close_session(entry), NO_RESULT)


_CHECK_ACCESS = (uuid_param(0, "sub_session_id"),)


def check_access(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    session_id = not_nil(parse(params, _CHECK_ACCESS)[0], 0, "sub_session_id")
    who = principals(ctx, session_id)
    access = ctx.state.access
    root = ctx.state.model.root
    return {
        0: all(access.can_read(p, root) for p in who),
        1: all(access.can_write(p, root) for p in who),
    }

"""create_sub_session (12), close_sub_session (13), check_access (15) and the "both" rule."""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from cbor2 import CBORTag

from ...protocol.codec import TAG_ALTERNATIVE_0, TAG_ALTERNATIVE_1, TAG_ALTERNATIVE_2
from ...protocol.errors import ErrorCode, ProtocolError
from ...protocol.identifiers import Opcode
from ..params import Param, invalid, not_nil, parse, uuid_param
from ..registry import NO_RESULT, CommandContext, command
from ..session import SubSession

logger = logging.getLogger(__name__)


def principals(ctx: CommandContext, sub_session_id: uuid.UUID | None) -> tuple[Any, ...]:
    """Whose permission a command needs: the connection's, and the sub-session's if one is named."""
    if sub_session_id is None:
        return (ctx.session.principal,)
    sub_session = ctx.session.sub_sessions.get(sub_session_id)
    if sub_session is None:
        raise ProtocolError(ErrorCode.UNKNOWN_SESSION_ID, f"unknown sub-session {sub_session_id}")
    return (ctx.session.principal, sub_session.principal)


def _is_authentication(value: Any) -> bool:
    return isinstance(value, CBORTag) and value.tag in (TAG_ALTERNATIVE_0, TAG_ALTERNATIVE_1, TAG_ALTERNATIVE_2)


_CREATE = (
    Param(0, "authentication_information", "a tag 121, 122 or 123 alternative", _is_authentication),
    uuid_param(1, "desired_session_id", required=False),
)


def _field(content: Mapping[Any, Any], key: int, kind: type, what: str) -> Any:
    value = content.get(key)
    if type(value) is not kind:
        raise invalid(f"parameter 0 (authentication_information) {what} must be key {key} of the map")
    return value


async def _authenticate(ctx: CommandContext, alternative: CBORTag) -> Any:
    content = alternative.value
    if not isinstance(content, Mapping):
        raise invalid("parameter 0 (authentication_information) must hold a map")
    authenticator = ctx.state.sub_session_authenticator
    peer = ctx.session.peer
    if alternative.tag == TAG_ALTERNATIVE_0:
        token = _field(content, 0, str, "the OAuth 2.0 token (text)")
        login = (lambda: authenticator.authenticate_token(token, peer)) if authenticator else None
    elif alternative.tag == TAG_ALTERNATIVE_1:
        der = _field(content, 0, bytes, "the DER certificate (byte string)")
        login = (lambda: authenticator.authenticate_certificate(der, peer)) if authenticator else None
    else:
        user = _field(content, 0, str, "the user name (text)")
        password = _field(content, 1, str, "the password (text)")
        login = (lambda: authenticator.authenticate_password(user, password, peer)) if authenticator else None
    if login is None:
        raise ProtocolError(ErrorCode.ACCESS_DENIED, "this server has no security configuration for sub-sessions")
    try:
        result = login()
        return await result if inspect.isawaitable(result) else result
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


@command(Opcode.CREATE_SUB_SESSION)
async def create_sub_session(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    p = parse(params, _CREATE)
    desired = p.get(1)
    if desired is not None:
        not_nil(desired, 1, "desired_session_id")
    sessions = ctx.session.sub_sessions
    limit = ctx.state.limits.max_sub_sessions
    if desired not in sessions and len(sessions) >= limit:
        raise invalid(f"too many sub-sessions on this connection (limit max_sub_sessions = {limit})")
    principal = await _authenticate(ctx, p[0])
    if ctx.session.closed:
        return NO_RESULT  # the connection ended while the login was verified: nobody to hold it for
    if desired not in sessions and len(sessions) >= limit:
        raise invalid(f"too many sub-sessions on this connection (limit max_sub_sessions = {limit})")
    session_id = desired if desired is not None else uuid.uuid4()
    sessions[session_id] = SubSession(session_id, principal)
    return session_id


_SESSION_ID = (uuid_param(0, "session_id"),)


@command(Opcode.CLOSE_SUB_SESSION)
def close_sub_session(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    session_id = parse(params, _SESSION_ID)[0]
    if ctx.session.sub_sessions.pop(session_id, None) is None:
        raise ProtocolError(ErrorCode.UNKNOWN_SESSION_ID, f"unknown sub-session {session_id}")
    return NO_RESULT


_CHECK_ACCESS = (uuid_param(0, "sub_session_id"),)


@command(Opcode.CHECK_ACCESS)
def check_access(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    session_id = not_nil(parse(params, _CHECK_ACCESS)[0], 0, "sub_session_id")
    who = principals(ctx, session_id)
    access = ctx.state.access
    root = ctx.state.model.root
    return {
        0: all(access.can_read(p, root) for p in who),
        1: all(access.can_write(p, root) for p in who),
    }

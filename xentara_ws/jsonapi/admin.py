"""The admin actions (extensions §8.2, §9.15-19): FairCom's session life cycle on JSON sessions."""

from __future__ import annotations

from typing import Any

from ..protocol.errors import ErrorCode
from .context import Action, ActionContext, Params, find_attribute, find_element, parse_uuid
from .envelope import DELETE_WARNING_MESSAGE, SESSION_NOT_FOUND, ActionError, ReplyWarning, invalid
from .sessions import HEALTH_KEYS, NEVER, JsonSession
from .values import format_seconds, to_json

ADMIN_ENTITLEMENT = "sessions.admin"
USER_STATUSES = ("normal", "hidden", "inactive")
MAX_DESCRIPTION_BYTES = 256
MAX_KEEP_ALIVE_S = 65535
MAX_WILL_DELAY_S = 86400
_LEASE_PARAMS = ("idleConnectionTimeoutSeconds", "keepAliveSeconds", "sessionExpiryInterval")
_WILL_PARAMS = ("willElement", "willAttribute", "willValue", "willDelaySeconds")
_SETTINGS = ("description", *_LEASE_PARAMS, "sessionStatus", *HEALTH_KEYS, *_WILL_PARAMS)
_FAIRCOM_DEFAULTS = (
    # Accepted for FairCom clients and ignored: they configure things this server does not have.
    "defaultApi",
    "defaultDebug",
    "defaultDatabaseName",
    "defaultOwnerName",
    "defaultBinaryFormat",
    "defaultVariantFormat",
    "defaultResponseOptions",
    "idleCursorTimeoutSeconds",
)


def _description(p: Params) -> str | None:
    text = p.text("description")
    if text is not None and len(text.encode("utf-8")) > MAX_DESCRIPTION_BYTES:
        raise invalid(f"parameter 'description' is longer than {MAX_DESCRIPTION_BYTES} bytes of UTF-8")
    return text


def _status(ctx: ActionContext, p: Params, *, creating: bool) -> str | None:
    status = p.text("sessionStatus")
    if status is None:
        return None
    if status == "banned":
        if creating:
            raise invalid("parameter 'sessionStatus' cannot be \"banned\" at creation")
        if not ctx.api.is_admin(ctx):
            raise ActionError(int(ErrorCode.ACCESS_DENIED), f"only holders of {ADMIN_ENTITLEMENT} may ban a session")
        return status
    if status not in USER_STATUSES:
        raise invalid('parameter \'sessionStatus\' must be "normal", "hidden" or "inactive"')
    return status


def _lease(ctx: ActionContext, p: Params) -> tuple[int | None, int | None]:
    """(keep_alive_s, expiry_s) from FairCom's names; §9.18: idleConnectionTimeoutSeconds wins."""
    keep_alive = p.uint("keepAliveSeconds", maximum=MAX_KEEP_ALIVE_S)
    idle = p.uint("idleConnectionTimeoutSeconds", maximum=NEVER)
    interval = p.uint("sessionExpiryInterval", maximum=NEVER)
    expiry: int | None = None
    if idle is not None:
        expiry = NEVER if idle == 0 else idle
    elif interval is not None:
        if interval == 0 and ctx.transport != "websocket":
            raise invalid("parameter 'sessionExpiryInterval' 0 (until the WebSocket closes) needs the /api WebSocket")
        expiry = interval
    return keep_alive, expiry


def _will(ctx: ActionContext, p: Params) -> dict[str, Any] | bool | None:
    """The last will (§9.18) as given; False when the request does not mention it."""
    if not any(name in p.values for name in _WILL_PARAMS):
        return False
    if p.values.get("willElement") is None:
        if any(p.values.get(name) is not None for name in _WILL_PARAMS):
            raise invalid("parameter 'willElement' is missing (a last will needs it)")
        return None
    element = find_element(ctx, p.raw("willElement"), "willElement")
    spec = find_attribute(element, p.raw("willAttribute", "value"), "willAttribute")
    if "willValue" not in p.values:
        raise invalid("parameter 'willValue' is missing (a last will needs it)")
    delay = p.uint("willDelaySeconds", 0, maximum=MAX_WILL_DELAY_S)
    return {
        "willElement": element.primary_key,
        "willAttribute": spec.name,
        "willValue": p.values["willValue"],
        "willDelaySeconds": delay,
    }


def _apply(ctx: ActionContext, p: Params, session: JsonSession, *, creating: bool) -> None:
    description = _description(p)
    status = _status(ctx, p, creating=creating)
    keep_alive, expiry = _lease(ctx, p)
    thresholds = {name: p.uint(name, maximum=NEVER) for name in HEALTH_KEYS}
    will = _will(ctx, p)
    # Everything is checked before anything changes: a refused request changes nothing.
    if description is not None:
        session.description = description
    if status is not None:
        session.status = status
    if keep_alive is not None:
        session.keep_alive_s = keep_alive
    if expiry is not None:
        session.expiry_s = expiry
    if any(value is not None for value in thresholds.values()):
        # §9.6: the health map is replaced whole.
        session.thresholds = {name: value or 0 for name, value in thresholds.items()}
    if will is not False:
        session.last_will = will if isinstance(will, dict) else None


def describe(ctx: ActionContext, session: JsonSession) -> dict[str, Any]:
    """A session under the §9.19 names; never its token."""
    now = ctx.api.sessions.clock()
    health, reasons = session.health(now)
    expires = session.expires_at()
    return {
        "sessionId": str(session.id),
        "username": session.username,
        "owner": session.owner,
        "creator": session.creator,
        "method": session.method,
        "sessionStatus": session.status,
        "permanentSession": session.permanent,
        "keepAliveSeconds": session.keep_alive_s,
        "sessionExpiryInterval": session.expiry_s,
        "description": session.description,
        "connected": session.connected,
        "sessionStartTimestamp": format_seconds(session.created),
        "sessionLastAccessedTimestamp": format_seconds(session.last_activity),
        "expiresAt": format_seconds(expires) if expires is not None else None,
        "sessionHealth": health,
        "healthReasons": reasons,
        "counters": {
            "requestsTotal": session.requests_total,
            "requestsLastMinute": session.requests.total(now),
            "eventsSent": session.events_sent,
            "droppedLastMinute": session.dropped.total(now),
            "subscriptions": session.subscription_count(),
        },
        "healthThresholds": dict(session.thresholds),
        "lastWill": to_json(session.last_will),
        "peer": session.peer,
    }


async def create_session(ctx: ActionContext, p: Params) -> dict[str, Any]:
    username = p.text("username")
    password = p.text("password")
    token = p.text("token")
    permanent = p.boolean("permanentSession")
    temporary = p.boolean("temporarySession")
    if permanent is not None and temporary is not None and permanent == temporary:
        raise invalid("parameters 'permanentSession' and 'temporarySession' contradict each other")
    if permanent is None:
        permanent = temporary is False
    if token is not None and (username is not None or password is not None):
        raise invalid("give either 'username' and 'password' or 'token', not both")
    if token is None and (username is None) != (password is None):
        raise invalid(f"parameter '{'password' if password is None else 'username'}' is missing")
    api = ctx.api
    if token is not None:
        principal = await api.login_token(token, ctx.peer)
        method = "token"
    elif username is not None and password is not None:
        principal = await api.login_password(username, password, ctx.peer)
        method = "password"
    else:
        principal = api.login_anonymous()
        method = "password"
    name = getattr(principal, "name", None) or username or "anonymous"
    # A throw-away session checks the settings first, so a refused request creates nothing.
    session_token, session = api.new_session(principal, method, name, ctx)
    try:
        session.permanent = permanent
        _apply(ctx, p, session, creating=True)
    except ActionError:
        api.sessions.remove(session)
        raise
    ctx.reply_token = session_token
    if ctx.sink is not None:
        api.attach(session, ctx.sink, ctx.peer_address)
    return {
        "authToken": session_token,
        "sessionId": str(session.id),
        "username": session.username,
        "description": session.description,
        "permanentSession": session.permanent,
        "keepAliveSeconds": session.keep_alive_s,
        "idleConnectionTimeoutSeconds": 0 if session.expiry_s >= NEVER else session.expiry_s,
        "sessionStatus": session.status,
        "sessionStartTimestamp": format_seconds(session.created),
        "sessionLastAccessedTimestamp": format_seconds(session.last_activity),
        "serverVersion": api.state.version,
    }


async def ping_session(ctx: ActionContext, p: Params) -> dict[str, Any]:
    # No token: the server is alive. A token: it must be a live session, which the call keeps alive.
    if ctx.request.auth_token is not None:
        ctx.api.sessions.touch(ctx.require_session())
    return {}


async def delete_session(ctx: ActionContext, p: Params) -> dict[str, Any]:
    if ctx.session is None:
        ctx.warnings.append(ReplyWarning(SESSION_NOT_FOUND, DELETE_WARNING_MESSAGE))
        return {}
    ctx.api.sessions.remove(ctx.session)
    ctx.session = None
    return {}


async def alter_session(ctx: ActionContext, p: Params) -> dict[str, Any]:
    session = ctx.require_session()
    if "permanentSession" in p.values or "temporarySession" in p.values:
        raise invalid("parameter 'permanentSession' cannot change after createSession")
    _apply(ctx, p, session, creating=False)
    ctx.api.changed(session)
    return describe(ctx, session)


def _visible(ctx: ActionContext, session: JsonSession) -> bool:
    caller = ctx.api.caller_identity(ctx)
    return session.creator == caller or session.owner == caller or ctx.api.is_admin(ctx)


async def list_sessions(ctx: ActionContext, p: Params) -> dict[str, Any]:
    ctx.require_connection()
    names = p.array("usernameFilter")
    if names is not None and not all(type(name) is str for name in names):
        raise invalid("parameter 'usernameFilter' must be an array of strings")
    include_hidden = p.boolean("includeHidden", False)
    now = ctx.api.sessions.clock()
    sessions = []
    for session in ctx.api.sessions:
        if not _visible(ctx, session) or (session.status == "hidden" and not include_hidden):
            continue
        if names and session.username not in names:
            continue
        sessions.append(
            {
                "sessionId": str(session.id),
                "username": session.username,
                "description": session.description,
                "sessionStatus": session.status,
                "permanentSession": session.permanent,
                "connected": session.connected,
                "sessionHealth": session.health(now)[0],
            }
        )
    return {"sessions": sessions}


async def describe_sessions(ctx: ActionContext, p: Params) -> dict[str, Any]:
    ctx.require_connection()
    ids = p.array("sessionIds")
    if ids is None:
        return {"sessions": [describe(ctx, s) for s in ctx.api.sessions if _visible(ctx, s)]}
    if not ids:
        raise invalid("parameter 'sessionIds' must not be empty (leave it out to describe every visible session)")
    out = []
    for index, text in enumerate(ids):
        session_id = parse_uuid(text)
        if session_id is None:
            raise invalid(f"parameter 'sessionIds' item {index} must be a UUID string")
        session = ctx.api.sessions.get(session_id)
        if session is None:
            out.append({"sessionId": text, "error": {"code": -32111, "message": f"unknown session {text}"}})
        elif not _visible(ctx, session):
            out.append({"sessionId": text, "error": {"code": -32102, "message": "access denied"}})
        else:
            out.append(describe(ctx, session))
    return {"sessions": out}


ADMIN_ACTIONS: dict[str, tuple[Action, frozenset[str]]] = {
    name.lower(): (action, frozenset(params))
    for name, action, params in (
        (
            "createSession",
            create_session,
            ("username", "password", "token", "permanentSession", "temporarySession", *_SETTINGS, *_FAIRCOM_DEFAULTS),
        ),
        ("pingSession", ping_session, ()),
        ("deleteSession", delete_session, ()),
        ("alterSession", alter_session, (*_SETTINGS, "permanentSession", "temporarySession", *_FAIRCOM_DEFAULTS)),
        ("listSessions", list_sessions, ("usernameFilter", "includeHidden")),
        ("describeSessions", describe_sessions, ("sessionIds",)),
    )
}
SESSIONLESS = frozenset(("createsession", "pingsession", "deletesession"))
"""Admin actions that run without a valid authToken (they decide themselves what a missing one means)."""

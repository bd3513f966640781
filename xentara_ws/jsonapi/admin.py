"""The admin actions (extensions §8.2, §9.15-19): FairCom's session life cycle on registry sub-sessions.

createSession makes a registry entry of kind "json"; alterSession, deleteSession, listSessions and
describeSessions run the CBOR administration handlers (259, 260, 257, 258) and rename their
results to FairCom's names, so visibility (§3) and the option rules are the same on both renditions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..protocol.alternatives import Alternative
from ..protocol.codec import TAG_ALTERNATIVE_0, TimePoint
from ..protocol.errors import ProtocolError
from ..protocol.identifiers import Opcode
from ..sessions.entry import METHOD_PASSWORD, METHOD_TOKEN
from ..sessions.health import HealthThresholds
from ..sessions.lease import NEVER
from ..sessions.will import LastWill, check_will
from .context import Action, ActionContext, Params, find_attribute, find_element, parse_uuid
from .envelope import DELETE_WARNING_MESSAGE, SESSION_NOT_FOUND, ActionError, ReplyWarning, invalid
from .sessions import DEFAULT_EXPIRY_S
from .values import format_time, from_json, to_json

USER_STATUSES = ("normal", "hidden", "inactive")
MAX_DESCRIPTION_BYTES = 256
MAX_KEEP_ALIVE_S = 65535
MAX_WILL_DELAY_S = 86400
HEALTH_KEYS = (
    "minHealthySendRatePerMinute",
    "maxHealthySendRatePerMinute",
    "maxHealthyBacklogRatePerMinute",
    "minHealthySubscribedTopicFiltersCount",
    "maxHealthySubscribedTopicFiltersCount",
)
METHOD_NAMES = {0: "token", 1: "certificate", 2: "password"}
COUNTER_NAMES = ("requestsTotal", "requestsLastMinute", "eventsSent", "droppedLastMinute", "subscriptions")
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


# -- settings: FairCom's names in, the registry's options out -------------------------------------


def _settings(ctx: ActionContext, p: Params, *, creating: bool) -> dict[str, Any]:
    """The options (by the registry's names) a createSession/alterSession asks for; all checked first."""
    options: dict[str, Any] = {}
    description = p.text("description")
    if description is not None:
        if len(description.encode("utf-8")) > MAX_DESCRIPTION_BYTES:
            raise invalid(f"parameter 'description' is longer than {MAX_DESCRIPTION_BYTES} bytes of UTF-8")
        options["description"] = description
    status = p.text("sessionStatus")
    if status is not None:
        if status == "banned" and creating:
            raise invalid("parameter 'sessionStatus' cannot be \"banned\" at creation")
        if status not in (*USER_STATUSES, "banned"):
            raise invalid('parameter \'sessionStatus\' must be "normal", "hidden" or "inactive"')
        options["status"] = status
    keep_alive = p.uint("keepAliveSeconds", maximum=MAX_KEEP_ALIVE_S)
    if keep_alive is not None:
        options["keep_alive_s"] = keep_alive
    idle = p.uint("idleConnectionTimeoutSeconds", maximum=NEVER)
    interval = p.uint("sessionExpiryInterval", maximum=NEVER)
    if idle is not None:  # §9.18: it wins over sessionExpiryInterval; 0 = never
        options["expiry_s"] = NEVER if idle == 0 else idle
    elif interval is not None:
        if interval == 0 and ctx.transport != "websocket":
            raise invalid("parameter 'sessionExpiryInterval' 0 (until the WebSocket closes) needs the /api WebSocket")
        options["expiry_s"] = interval
    thresholds = [p.uint(name, maximum=2**32) for name in HEALTH_KEYS]
    if any(value is not None for value in thresholds):
        options["health"] = HealthThresholds(*(value or 0 for value in thresholds))  # §9.6: replaced whole
    if any(name in p.values for name in _WILL_PARAMS):
        options["last_will"] = _will(ctx, p)
    return options


def _will(ctx: ActionContext, p: Params) -> LastWill | None:
    """§9.18: willElement (null removes the will), willAttribute ("value"), willValue, willDelaySeconds."""
    if p.values.get("willElement") is None:
        if any(p.values.get(name) is not None for name in _WILL_PARAMS):
            raise invalid("parameter 'willElement' is missing (a last will needs it)")
        return None
    element = find_element(ctx, p.raw("willElement"), "willElement")
    spec = find_attribute(element, p.raw("willAttribute", "value"), "willAttribute")
    if "willValue" not in p.values:
        raise invalid("parameter 'willValue' is missing (a last will needs it)")
    delay = p.uint("willDelaySeconds", 0, maximum=MAX_WILL_DELAY_S)
    assert delay is not None
    return LastWill(element.uuid, spec.key, from_json(spec.data_type, p.values["willValue"]), delay)


def _option_map(options: dict[str, Any]) -> dict[int, Any]:
    """The same options as the CBOR option map of §1.1 (for alter_sub_session)."""
    keys = {"permanent": 0, "keep_alive_s": 1, "expiry_s": 2, "description": 3, "status": 6}
    out: dict[int, Any] = {keys[name]: value for name, value in options.items() if name in keys}
    if "health" in options:
        out[4] = options["health"].to_map()
    if "last_will" in options:
        will = options["last_will"]
        out[5] = None if will is None else will.to_map()
    return out


# -- views: the CBOR description map under FairCom's names -----------------------------------------


def username(owner: str) -> str:
    """The account of an identity text: `user:NAME` -> NAME, `token:ISSUER#SUBJECT` -> SUBJECT."""
    kind, _, rest = owner.partition(":")
    if kind == "token":
        return rest.rpartition("#")[2]
    return rest if rest else owner


def _time(value: Any) -> str | None:
    return format_time(value) if isinstance(value, TimePoint) else None


def _will_json(ctx: ActionContext, will: Mapping[Any, Any] | None) -> dict[str, Any] | None:
    if will is None:
        return None
    element = ctx.api.state.model.find(will[0])
    spec = element.attributes.get(will[1]) if element is not None else None
    return {
        "willElement": element.primary_key if element is not None else str(will[0]),
        "willAttribute": spec.name if spec is not None else to_json(will[1]),
        "willValue": to_json(will[2]),
        "willDelaySeconds": will[3],
    }


def describe_json(ctx: ActionContext, item: Mapping[int, Any]) -> dict[str, Any]:
    """A §4 description map with the §9.19 names; never a token."""
    session_id = item[0]
    state = ctx.api.sessions.open_session(session_id)
    connected = state.connected if state is not None else bool(item[8])
    return {
        "sessionId": str(session_id),
        "username": username(item[1]),
        "owner": item[1],
        "creator": item[18],
        "method": METHOD_NAMES.get(item[2], str(item[2])),
        "sessionStatus": item[3],
        "permanentSession": item[4],
        "keepAliveSeconds": item[5],
        "sessionExpiryInterval": item[6],
        "description": item[7],
        "connected": connected,
        "sessionStartTimestamp": _time(item[9]),
        "sessionLastAccessedTimestamp": _time(item[10]),
        "expiresAt": _time(item[11]),
        "sessionHealth": item[12],
        "healthReasons": list(item[13]),
        "counters": {name: item[14][index] for index, name in enumerate(COUNTER_NAMES)},
        "healthThresholds": {name: item[15][index] for index, name in enumerate(HEALTH_KEYS)},
        "lastWill": _will_json(ctx, item[16]),
        "peer": item[17] if connected or state is None else None,
    }


def _unwrap(item: Any) -> Any:
    return item.value if isinstance(item, Alternative) else item


# -- actions ----------------------------------------------------------------------------------------


async def create_session(ctx: ActionContext, p: Params) -> dict[str, Any]:
    user = p.text("username")
    password = p.text("password")
    token = p.text("token")
    permanent = p.boolean("permanentSession")
    temporary = p.boolean("temporarySession")
    if permanent is not None and temporary is not None and permanent == temporary:
        raise invalid("parameters 'permanentSession' and 'temporarySession' contradict each other")
    if token is not None and (user is not None or password is not None):
        raise invalid("give either 'username' and 'password' or 'token', not both")
    if token is None and (user is None) != (password is None):
        raise invalid(f"parameter '{'password' if password is None else 'username'}' is missing")
    options: dict[str, Any] = {
        "permanent": permanent if permanent is not None else temporary is False,
        "expiry_s": DEFAULT_EXPIRY_S,
    }
    options.update(_settings(ctx, p, creating=True))
    api = ctx.api
    if token is not None:
        principal, owner = await api.login_token(token, ctx.peer)
        method = METHOD_TOKEN
    elif user is not None and password is not None:
        principal, owner = await api.login_password(user, password, ctx.peer)
        method = METHOD_PASSWORD
    else:
        principal, owner = api.login_anonymous()
        method = METHOD_PASSWORD
    if options.get("last_will") is not None:
        try:
            check_will(api.state, options["last_will"], (principal,))
        except ProtocolError as error:
            raise ActionError.from_protocol(error) from None
    session_token, session = await api.new_session(principal, owner, method, options, ctx)
    entry = session.entry
    return {
        "authToken": session_token,
        "sessionId": str(entry.id),
        "username": username(entry.owner),
        "description": entry.description,
        "permanentSession": entry.permanent,
        "keepAliveSeconds": entry.keep_alive_s,
        "idleConnectionTimeoutSeconds": 0 if entry.expiry_s >= NEVER else entry.expiry_s,
        "sessionStatus": entry.status,
        "sessionStartTimestamp": format_time(TimePoint.from_seconds(entry.created)),
        "sessionLastAccessedTimestamp": format_time(TimePoint.from_seconds(entry.last_activity)),
        "serverVersion": api.state.version,
    }


async def ping_session(ctx: ActionContext, p: Params) -> dict[str, Any]:
    # No token: the server is alive. A token: the request itself was activity on the session,
    # which restarted its lease (an unknown or expired token never gets here: 12031).
    return {}


async def delete_session(ctx: ActionContext, p: Params) -> dict[str, Any]:
    session = ctx.session
    if session is None:
        ctx.warnings.append(ReplyWarning(SESSION_NOT_FOUND, DELETE_WARNING_MESSAGE))
        return {}
    await ctx.call(Opcode.DELETE_SUB_SESSION, {0: session.id})
    ctx.api.sessions.forget(session)
    ctx.session = None
    return {}


async def alter_session(ctx: ActionContext, p: Params) -> dict[str, Any]:
    session = ctx.require_session()
    if "permanentSession" in p.values or "temporarySession" in p.values:
        raise invalid("parameter 'permanentSession' cannot change after createSession")
    options = _settings(ctx, p, creating=False)
    described = await ctx.call(Opcode.ALTER_SUB_SESSION, {0: session.id, 1: _option_map(options)})
    return describe_json(ctx, described)


async def list_sessions(ctx: ActionContext, p: Params) -> dict[str, Any]:
    ctx.require_connection()
    names = p.array("usernameFilter")
    if names is not None and not all(type(name) is str for name in names):
        raise invalid("parameter 'usernameFilter' must be an array of strings")
    include_hidden = p.boolean("includeHidden", False)
    summaries = await ctx.call(Opcode.LIST_SUB_SESSIONS, {0: include_hidden})
    registry = ctx.api.state.sub_sessions
    sessions = []
    for item in summaries:
        if names and username(item[1]) not in names:
            continue
        entry = registry.get(item[0])
        state = ctx.api.sessions.open_session(item[0])
        sessions.append(
            {
                "sessionId": str(item[0]),
                "username": username(item[1]),
                "description": entry.description if entry is not None else "",
                "sessionStatus": item[3],
                "permanentSession": item[4],
                "connected": state.connected if state is not None else item[8],
                "sessionHealth": item[12],
            }
        )
    return {"sessions": sessions}


async def describe_sessions(ctx: ActionContext, p: Params) -> dict[str, Any]:
    ctx.require_connection()
    texts = p.array("sessionIds")
    if texts is None:
        ids = [item[0] for item in await ctx.call(Opcode.LIST_SUB_SESSIONS, {0: True})]
        if not ids:
            return {"sessions": []}
    elif not texts:
        raise invalid("parameter 'sessionIds' must not be empty (leave it out to describe every visible session)")
    else:
        ids = []
        for index, text in enumerate(texts):
            session_id = parse_uuid(text)
            if session_id is None:
                raise invalid(f"parameter 'sessionIds' item {index} must be a UUID string")
            ids.append(session_id)
    described = await ctx.call(Opcode.DESCRIBE_SUB_SESSIONS, {0: ids})
    out = []
    for session_id, item in zip(ids, described, strict=True):
        if isinstance(item, Alternative) and item.tag != TAG_ALTERNATIVE_0:
            error = item.value
            out.append({"sessionId": str(session_id), "error": {"code": error[0], "message": error[1]}})
        else:
            out.append(describe_json(ctx, _unwrap(item)))
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

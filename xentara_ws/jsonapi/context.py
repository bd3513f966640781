"""What an action runs with (ActionContext) and how its named parameters are checked (Params)."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..model.element import AttributeSpec, Element
from ..protocol.codec import decode
from ..protocol.errors import ErrorCode, ProtocolError
from ..server.commands.context import NO_RESULT, CommandContext, Encoded, Handler
from ..server.connection_state import ConnectionState
from ..server.state import ServerState
from .envelope import ActionError, JsonRequest, ReplyWarning, invalid, session_not_found
from .sessions import JsonSession, JsonSessions


class JsonApi(Protocol):
    """What an action needs of the service running it (`service.JsonApi` is the one)."""

    state: ServerState
    handlers: Mapping[int, Handler]
    sessions: JsonSessions

    async def settle(self, session: JsonSession) -> None: ...

    async def wait_for_events(self, session: JsonSession, subscription_id: str | None, timeout: float) -> None: ...

    async def login_password(self, user: str, password: str, peer: str) -> tuple[Any, str]: ...

    async def login_token(self, token: str, peer: str) -> tuple[Any, str]: ...

    def login_anonymous(self) -> tuple[Any, str]: ...

    async def new_session(
        self, principal: Any, owner: str, method: int, options: dict[str, Any], ctx: ActionContext
    ) -> tuple[str, JsonSession]: ...


@dataclass(slots=True)
class ActionContext:
    api: JsonApi
    request: JsonRequest
    transport: str
    """"http" or "websocket"."""
    peer: str
    connection: ConnectionState | None = None
    """The CBOR-side state the handlers run with: the session's, or one for this request alone."""
    session: JsonSession | None = None
    sink: Any = None
    """The WebSocket connection the request came over (events are pushed there)."""
    warnings: list[ReplyWarning] = field(default_factory=list)
    reply_token: str | None = None
    """An authToken the reply carries instead of the request's (createSession)."""
    peer_address: str = ""
    """host:port of the client."""

    def require_session(self) -> JsonSession:
        if self.session is None:
            raise session_not_found()
        return self.session

    def require_connection(self) -> ConnectionState:
        if self.connection is None:
            raise session_not_found()
        return self.connection

    async def call(self, opcode: int, params: dict[int, Any] | None) -> Any:
        """Run a CBOR command handler; its result as the CBOR side has it (None for no result)."""
        handler = self.api.handlers[int(opcode)]
        try:
            result = handler(CommandContext(self.api.state, self.require_connection(), 0), params)
            if inspect.isawaitable(result):
                result = await result
        except ProtocolError as error:
            raise ActionError.from_protocol(error) from None
        if result is NO_RESULT:
            return None
        if type(result) is Encoded:
            return decode(result.data)
        return result


Action = Callable[[ActionContext, "Params"], Awaitable[dict[str, Any]]]


class Params:
    """A request's `params`, checked member by member; every failure names the member (-32602)."""

    def __init__(self, params: dict[str, Any], allowed: Iterable[str]) -> None:
        allowed = frozenset(allowed)
        for name in params:
            if name not in allowed:
                known = ", ".join(sorted(allowed)) or "none"
                raise invalid(f"unknown parameter '{name}' (known: {known})")
        self.values = params

    def __contains__(self, name: str) -> bool:
        return name in self.values and self.values[name] is not None

    def raw(self, name: str, default: Any = None) -> Any:
        value = self.values.get(name)
        return default if value is None else value

    def text(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.values.get(name)
        if value is None:
            if required:
                raise invalid(f"parameter '{name}' is missing")
            return default
        if type(value) is not str:
            raise invalid(f"parameter '{name}' must be a string")
        return value

    def required_text(self, name: str) -> str:
        value = self.text(name, required=True)
        assert value is not None
        return value

    def boolean(self, name: str, default: bool | None = None) -> bool | None:
        value = self.values.get(name)
        if value is None:
            return default
        if type(value) is not bool:
            raise invalid(f"parameter '{name}' must be true or false (a JSON boolean)")
        return value

    def uint(
        self, name: str, default: int | None = None, *, maximum: int | None = None, minimum: int = 0
    ) -> int | None:
        value = self.values.get(name)
        if value is None:
            return default
        if type(value) is not int or value < minimum or (maximum is not None and value > maximum):
            bound = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
            raise invalid(f"parameter '{name}' must be an integer {bound}")
        return value

    def array(self, name: str, *, required: bool = False) -> list[Any] | None:
        value = self.values.get(name)
        if value is None:
            if required:
                raise invalid(f"parameter '{name}' is missing")
            return None
        if type(value) is not list:
            raise invalid(f"parameter '{name}' must be an array")
        return value

    def uuid(self, name: str, *, required: bool = False) -> uuid.UUID | None:
        value = self.values.get(name)
        if value is None:
            if required:
                raise invalid(f"parameter '{name}' is missing")
            return None
        parsed = parse_uuid(value)
        if parsed is None:
            raise invalid(f"parameter '{name}' must be a UUID string")
        return parsed


def parse_uuid(value: Any) -> uuid.UUID | None:
    if type(value) is not str:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def find_element(ctx: ActionContext, value: Any, name: str, *, default_root: bool = False) -> Element:
    """An element named by primary key or UUID text (the root for "" when `default_root`)."""
    model = ctx.api.state.model
    if value is None or value == "":
        if default_root:
            return model.root
        raise invalid(f"parameter '{name}' is missing")
    if type(value) is not str:
        raise invalid(f"parameter '{name}' must be a primary key or a UUID string")
    element = model.lookup(value)
    if element is None:
        element_uuid = parse_uuid(value)
        if element_uuid is not None:
            element = model.find(element_uuid)
    if element is None:
        raise ActionError(int(ErrorCode.UNKNOWN_ELEMENT), f"unknown element {value!r}")
    return element


def find_attribute(element: Element, value: Any, name: str) -> AttributeSpec:
    """An attribute of `element` by name ("value"), id (11) or UUID text; -32101 if it has none such."""
    if type(value) is int:
        spec = element.attributes.get(value)
    elif type(value) is str:
        spec = next((s for s in element.attributes.values() if s.name == value), None)
        if spec is None:
            lowered = value.lower()
            spec = next((s for s in element.attributes.values() if s.name.lower() == lowered), None)
        if spec is None:
            attribute_uuid = parse_uuid(value)
            if attribute_uuid is not None:
                spec = next((s for s in element.attributes.values() if s.uuid == attribute_uuid), None)
    else:
        raise invalid(f"parameter '{name}' must hold attribute names, ids or UUID strings")
    if spec is None:
        label = element.primary_key or "the root element"
        raise ActionError(int(ErrorCode.MISSING_ATTRIBUTE), f"{label} has no attribute {value!r}")
    return spec

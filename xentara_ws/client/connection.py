"""XentaraClient: the API of one connection to a Xentara server (commands, subscriptions, sub-sessions).

The WebSocket itself is client/transport.py, the batching of requests client/batching.py and the
back-off between reconnects client/reconnect.py; this module ties them together.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Self

from websockets.asyncio.client import ClientConnection

from ..protocol.alternatives import alternative
from ..protocol.identifiers import (
    NIL_UUID,
    PROTOCOL_VERSION,
    Attribute,
    ElementCategory,
    Opcode,
    PacketType,
    ServerInformation,
    Stage,
)
from ..protocol.identifiers import (
    MetaData as MetaDataId,
)
from .batching import RequestBatcher
from .reconnect import ReconnectPolicy, reconnect
from .sub_sessions import (
    Health,
    LastWill,
    SubSessionDescription,
    SubSessionSummary,
    description_or_error,
    options_map,
)
from .subscription import Subscription
from .transport import auth_headers, client_ssl_context, open_websocket, read_packets
from .types import (
    AccessRights,
    AttributeKey,
    ConnectionFailed,
    Element,
    MetaData,
    Timestamp,
    Values,
    XentaraError,
    category,
    decode_meta_data,
    decode_values,
)

logger = logging.getLogger(__name__)

DEFAULT_URL: Final = "wss://127.0.0.1:8080/api/ws"
_ALL_META_DATA: Final = tuple(MetaDataId)


_ATTRIBUTE_BY_NAME: Final = {a.attribute_name.lower(): a for a in Attribute}


def _wire_attribute(key: AttributeKey | int | str) -> int | uuid.UUID:
    """An attribute as the wire addresses it; names such as "value" or "changeTime" are accepted too."""
    if isinstance(key, uuid.UUID):
        return key
    if isinstance(key, str) and not isinstance(key, int):
        found = _ATTRIBUTE_BY_NAME.get(key.lower())
        if found is None:
            raise ValueError(
                f"unknown attribute name {key!r}; use an id (0-13), a UUID or one of "
                f"{', '.join(a.attribute_name for a in Attribute)}"
            )
        return int(found)
    return int(key)


def _to_wire_value(value: Any) -> Any:
    # Timestamps go out in the -9 form the server always accepts.
    if isinstance(value, Timestamp):
        return value.to_time_point()
    if hasattr(value, "tzinfo") and hasattr(value, "year"):
        return Timestamp.from_datetime(value).to_time_point()
    return value


class _SubSessionLogin:
    """What create_sub_session was given, kept to log in again after a reconnect."""

    def __init__(self, authentication: Any) -> None:
        self.authentication = authentication


class XentaraClient:
    """An asyncio client for the Xentara WebSocket API v2.

    Requests issued in the same event-loop iteration travel in one WebSocket message and are
    matched to their replies by message id. After a lost connection the client reconnects with
    bounded exponential back-off and restores its subscriptions and sub-sessions under the same ids.
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        user: str | None = None,
        password: str | None = None,
        token: str | None = None,
        ca_file: str | None = None,
        fingerprint: str | None = None,
        insecure: bool = False,
        ssl_context: ssl.SSLContext | None = None,
        reconnect: bool = True,
        initial_backoff: float = 0.1,
        max_backoff: float = 10.0,
        max_reconnect_attempts: int | None = None,
        open_timeout: float = 10.0,
        request_timeout: float = 30.0,
        max_size: int | None = 16 * 1024 * 1024,
    ) -> None:
        if token is not None and user is not None:
            raise ValueError("give either user/password (Basic) or token (Bearer), not both")
        self.url = url
        self.user = user
        self.password = password
        self.token = token
        self.fingerprint = fingerprint
        self.reconnect = reconnect
        self.reconnect_policy = ReconnectPolicy(initial_backoff, max_backoff, max_reconnect_attempts)
        self.open_timeout = open_timeout
        self.request_timeout = request_timeout
        self.max_size = max_size
        self.protocol_version: int | None = None
        self._ssl = client_ssl_context(url, ssl_context, ca_file=ca_file, fingerprint=fingerprint, insecure=insecure)
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._reconnector: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._closing = False
        self._requests = RequestBatcher()
        self._subscriptions: dict[uuid.UUID, Subscription] = {}
        self._sub_sessions: dict[uuid.UUID, _SubSessionLogin] = {}
        self.reconnects = 0

    @property
    def messages_sent(self) -> int:
        """WebSocket messages sent; tests and diagnostics use it to see batching."""
        return self._requests.messages_sent

    # -- connection life cycle -------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def connect(self) -> Self:
        """Open the WebSocket and say client_hello; raises ConnectionFailed or XentaraError."""
        self._closing = False
        await self._open()
        return self

    async def _open(self, *, restore: bool = False) -> None:
        """Open the WebSocket and say client_hello; after a reconnect, restore what the client had."""
        ws = await open_websocket(
            self.url,
            headers=auth_headers(self.user, self.password, self.token),
            ssl_context=self._ssl,
            fingerprint=self.fingerprint,
            open_timeout=self.open_timeout,
            max_size=self.max_size,
        )
        self._ws = ws
        self._requests.sink = ws
        self._reader = asyncio.create_task(self._read(ws))
        try:
            # client_hello must be alone and first: nothing else may share its message.
            reply = await self._call_now(Opcode.CLIENT_HELLO, {0: PROTOCOL_VERSION, 1: PROTOCOL_VERSION})
            self.protocol_version = reply.get(0) if isinstance(reply, Mapping) else None
            if restore:
                await self._restore()
        except BaseException:
            await ws.close()
            raise
        self._connected.set()

    async def close(self) -> None:
        """Close the connection for good: no reconnect; subscriptions' iterators end."""
        self._closing = True
        self._connected.clear()
        if self._reconnector is not None:
            self._reconnector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconnector
        if self._ws is not None:
            await self._ws.close(1000, "closing websocket")
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        self._requests.fail_all(ConnectionFailed("closed", "the client was closed"))
        for subscription in list(self._subscriptions.values()):
            subscription._finish()
        self._subscriptions.clear()

    async def __aenter__(self) -> Self:
        return await self.connect()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- requests and what the server sends ------------------------------------------------------

    async def _call_now(self, opcode: Opcode, params: Mapping[int, Any] | None = None) -> Any:
        """Send on the current socket without waiting for 'connected' (hello and restores)."""
        return await self._requests.call(opcode, params, self.request_timeout)

    async def request(self, opcode: Opcode, params: Mapping[int, Any] | None = None) -> Any:
        """Send one request (batched with its neighbours) and return the result item, or raise."""
        if self._closing:
            raise ConnectionFailed("closed", "the client is closed")
        if not self._connected.is_set():
            if not self.reconnect or self._reconnector is None:
                raise ConnectionFailed("closed", "not connected")
            try:
                await asyncio.wait_for(self._connected.wait(), self.request_timeout)
            except TimeoutError:
                raise ConnectionFailed("timeout", "still reconnecting; the server is not reachable") from None
        return await self._call_now(opcode, params)

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for packet in read_packets(ws):
                self._dispatch(packet)
        finally:
            self._on_disconnect(ws)

    def _dispatch(self, packet: Any) -> None:
        if not isinstance(packet, list) or len(packet) < 2:
            logger.warning("ignoring a malformed packet: %r", packet)
            return
        if packet[0] == PacketType.EVENT:
            self._on_event(packet)
        elif not self._requests.settle(packet):
            logger.warning("reply for an unknown message id: %r", packet)

    def _on_event(self, packet: list[Any]) -> None:
        if len(packet) < 3 or packet[1] != 0 or not isinstance(packet[2], Mapping):
            logger.warning("ignoring an unsupported event: %r", packet)
            return
        content = packet[2]
        element = content.get(1)
        if not isinstance(element, uuid.UUID):
            logger.warning("ignoring a data-change event without an element UUID: %r", packet)
            return
        key = content.get(0)
        subscription = self._subscriptions.get(key) if isinstance(key, uuid.UUID) else None
        if subscription is None:
            # Some servers put something else in key 0; fall back to the element's subscriptions.
            matches = [s for s in self._subscriptions.values() if element in s.elements]
            if not matches:
                return
            subscription = matches[0]
        drops = content.get(256)
        dropped = drops.get(0, 0) if isinstance(drops, Mapping) else 0
        subscription._deliver(element, decode_values(content.get(2)), dropped)

    def _on_disconnect(self, ws: ClientConnection) -> None:
        if ws is not self._ws:
            return
        self._connected.clear()
        self._requests.sink = None
        self._requests.fail_all(ConnectionFailed("closed", "the connection was lost"))
        if self._closing or not self.reconnect or self.protocol_version is None:
            return
        logger.warning("connection to %s lost; reconnecting", self.url)
        if self._reconnector is None or self._reconnector.done():
            self._reconnector = asyncio.create_task(self._reconnect())

    async def _reconnect(self) -> None:
        def closing() -> bool:
            return self._closing

        if await reconnect(self.reconnect_policy, lambda: self._open(restore=True), url=self.url, closing=closing):
            self.reconnects += 1
        elif not self._closing:
            for subscription in list(self._subscriptions.values()):
                subscription._finish(ConnectionFailed("closed", "the connection was lost"))

    async def _restore(self) -> None:
        # Sub-sessions first: subscriptions do not depend on them, but writes right after may.
        restores = [
            self._call_now(Opcode.CREATE_SUB_SESSION, {0: login.authentication, 1: session_id})
            for session_id, login in self._sub_sessions.items()
        ]
        restores += [self._call_now(Opcode.SUBSCRIBE, s._params()) for s in self._subscriptions.values() if s.entries]
        results = await asyncio.gather(*restores, return_exceptions=True)
        for result in results:
            if isinstance(result, XentaraError):
                logger.warning("could not restore after reconnect: %s", result)
            elif isinstance(result, BaseException):
                raise result

    # -- commands ------------------------------------------------------------------------------

    async def server_information(
        self, ids: Sequence[ServerInformation | int] = tuple(ServerInformation)
    ) -> dict[ServerInformation | int, Any]:
        reply = await self.request(Opcode.SERVER_INFORMATION, {0: [int(i) for i in ids]})
        result: dict[ServerInformation | int, Any] = {}
        for key, value in reply.items():
            try:
                result[ServerInformation(key)] = value
            except ValueError:
                result[key] = value
        return result

    async def browse(
        self,
        element: uuid.UUID | str = NIL_UUID,
        *,
        depth: int | None = None,
        categories: Iterable[ElementCategory | int] | None = None,
    ) -> list[Element]:
        """Descendants of an element (nil UUID = the whole model); a primary key is looked up first."""
        params: dict[int, Any] = {0: await self._uuid(element)}
        if depth is not None:
            params[1] = depth
        if categories is not None:
            params[2] = [int(c) for c in categories]
        reply = await self.request(Opcode.BROWSE, params)
        return [Element(entry.get(0), entry.get(1), category(entry.get(2))) for entry in reply]

    async def meta_data(self, element: uuid.UUID | str, ids: Iterable[MetaDataId | int] = _ALL_META_DATA) -> MetaData:
        reply = await self.request(Opcode.META_DATA, {0: await self._uuid(element), 1: [int(i) for i in ids]})
        return decode_meta_data(reply)

    async def lookup(self, primary_key: str) -> uuid.UUID:
        return await self.request(Opcode.LOOKUP, {0: primary_key})  # type: ignore[no-any-return]

    async def read(
        self,
        element: uuid.UUID | str,
        attributes: Iterable[AttributeKey | int] = (
            Attribute.VALUE,
            Attribute.QUALITY,
            Attribute.CHANGE_TIME,
        ),
    ) -> Values:
        """Read attributes; a failing attribute holds an XentaraError in the result (not raised)."""
        params = {0: await self._uuid(element), 1: [_wire_attribute(a) for a in attributes]}
        return decode_values(await self.request(Opcode.READ, params))

    async def write(
        self,
        element: uuid.UUID | str,
        value: Any,
        attribute: AttributeKey | int = Attribute.VALUE,
        *,
        sub_session: uuid.UUID | None = None,
    ) -> None:
        params = {0: await self._uuid(element), 1: _wire_attribute(attribute), 2: _to_wire_value(value)}
        if sub_session is not None:
            params[3] = sub_session
        await self.request(Opcode.WRITE, params)

    async def subscribe(
        self,
        items: Mapping[uuid.UUID | str, Iterable[AttributeKey | int]] | Iterable[uuid.UUID | str],
        attributes: Iterable[AttributeKey | int] = (
            Attribute.VALUE,
            Attribute.QUALITY,
            Attribute.CHANGE_TIME,
        ),
        *,
        max_update_rate: int | None = None,
        min_update_rate: int | None = None,
        subscription_id: uuid.UUID | None = None,
        queue_size: int = 10_000,
        sub_session: uuid.UUID | None = None,
        retain: int = 1,
    ) -> Subscription:
        """Subscribe to elements (a list with common attributes, or a map element -> attributes).

        max_update_rate: shortest interval between events for one element (ms);
        min_update_rate: heartbeat interval (ms). The returned Subscription is an async iterator
        of Change objects; the first one per element carries the current values.
        sub_session binds it to that sub-session (xentara-ws): while the sub-session is detached the
        server keeps the last `retain` changes per element and sends them after a resume.
        """
        if isinstance(items, Mapping):
            pairs = list(items.items())
        else:
            common = list(attributes)
            pairs = [(element, common) for element in items]
        resolved = await asyncio.gather(*(self._uuid(element) for element, _ in pairs))
        entries = [(u, [_wire_attribute(a) for a in attrs]) for u, (_, attrs) in zip(resolved, pairs, strict=False)]
        desired = subscription_id if subscription_id is not None else uuid.uuid4()
        subscription = Subscription(self, desired, entries, max_update_rate, min_update_rate, queue_size)
        subscription.sub_session = sub_session
        subscription.retain = retain
        # Registered before the request so the initial events (sent right after the reply) are kept.
        self._subscriptions[desired] = subscription
        try:
            reply = await self.request(Opcode.SUBSCRIBE, subscription._params())
        except BaseException:
            self._subscriptions.pop(desired, None)
            raise
        if isinstance(reply, uuid.UUID) and reply != desired:
            self._subscriptions.pop(desired, None)
            subscription.id = reply
            self._subscriptions[reply] = subscription
        return subscription

    def bound_subscription(self, subscription_id: uuid.UUID, queue_size: int = 10_000) -> Subscription:
        """Receive the events of a bound subscription made on another connection.

        Call it before resuming the sub-session (create_sub_session with its id): the changes the
        server kept while it was detached arrive right after the resume.
        """
        subscription = Subscription(self, subscription_id, [], None, None, queue_size)
        self._subscriptions[subscription_id] = subscription
        return subscription

    async def unsubscribe(self, subscription: Subscription | uuid.UUID) -> None:
        subscription_id = subscription.id if isinstance(subscription, Subscription) else subscription
        local = self._subscriptions.pop(subscription_id, None)
        try:
            await self.request(Opcode.UNSUBSCRIBE, {0: subscription_id})
        finally:
            if local is not None:
                local._finish()

    async def get_stage(self) -> Stage | int:
        stage = await self.request(Opcode.GET_STAGE)
        try:
            return Stage(stage)
        except ValueError:
            return stage  # type: ignore[no-any-return]

    async def _stage_command(self, opcode: Opcode, sub_session: uuid.UUID | None) -> None:
        await self.request(opcode, None if sub_session is None else {0: sub_session})

    async def suspend(self, *, sub_session: uuid.UUID | None = None) -> None:
        await self._stage_command(Opcode.SUSPEND, sub_session)

    async def resume(self, *, sub_session: uuid.UUID | None = None) -> None:
        await self._stage_command(Opcode.RESUME, sub_session)

    async def shutdown(self, *, sub_session: uuid.UUID | None = None) -> None:
        await self._stage_command(Opcode.SHUTDOWN, sub_session)

    async def create_sub_session(
        self,
        *,
        token: str | None = None,
        certificate: bytes | None = None,
        user: str | None = None,
        password: str | None = None,
        session_id: uuid.UUID | None = None,
        permanent: bool | None = None,
        keep_alive: int | None = None,
        expiry: int | None = None,
        description: str | None = None,
        health: Health | None = None,
        last_will: LastWill | None = None,
        status: str | None = None,
    ) -> uuid.UUID:
        """Log a person in on top of the connection: OAuth token, DER certificate or user/password.

        With `session_id` naming an existing sub-session of the same person, it is resumed (moved
        here with its bound subscriptions). The keyword options are the xentara-ws extensions:
        `permanent` (survives connections and restarts), `keep_alive` and `expiry` in seconds,
        `description`, `health` thresholds, a `last_will`, `status`.
        """
        given = [token is not None, certificate is not None, user is not None]
        if sum(given) != 1:
            raise ValueError("give exactly one of token, certificate or user (with password)")
        if token is not None:
            authentication = alternative(0, {0: token})
        elif certificate is not None:
            authentication = alternative(1, {0: bytes(certificate)})
        else:
            authentication = alternative(2, {0: user, 1: password or ""})
        params: dict[int, Any] = {0: authentication}
        if session_id is not None:
            params[1] = session_id
        options = options_map(
            permanent=permanent,
            keep_alive=keep_alive,
            expiry=expiry,
            description=description,
            health=health,
            status=status,
            **({"last_will": last_will} if last_will is not None else {}),
        )
        if options:
            params[256] = options
        result: uuid.UUID = await self.request(Opcode.CREATE_SUB_SESSION, params)
        # Kept so that a reconnect logs in again under the same id.
        self._sub_sessions[result] = _SubSessionLogin(authentication)
        return result

    async def close_sub_session(self, session_id: uuid.UUID) -> None:
        self._sub_sessions.pop(session_id, None)
        await self.request(Opcode.CLOSE_SUB_SESSION, {0: session_id})

    async def ping(self, session_id: uuid.UUID | None = None) -> int | None:
        """Without an id: is the server alive (None). With one: keep it alive; ms until it expires, or None."""
        reply = await self.request(Opcode.PING, {0: session_id} if session_id is not None else None)
        return None if session_id is None or reply is None else reply.get(0)

    async def list_sub_sessions(
        self, *, include_hidden: bool = False, owner: str | None = None, status: str | None = None
    ) -> list[SubSessionSummary]:
        params: dict[int, Any] = {0: include_hidden} if include_hidden else {}
        if owner is not None:
            params[1] = owner
        if status is not None:
            params[2] = status
        reply = await self.request(Opcode.LIST_SUB_SESSIONS, params or None)
        return [SubSessionSummary.from_wire(item) for item in reply or ()]

    async def describe_sub_sessions(
        self, session_ids: Iterable[uuid.UUID]
    ) -> list[SubSessionDescription | XentaraError]:
        reply = await self.request(Opcode.DESCRIBE_SUB_SESSIONS, {0: list(session_ids)})
        return [description_or_error(item) for item in reply]

    async def alter_sub_session(self, session_id: uuid.UUID, **options: Any) -> SubSessionDescription:
        """Change options (keyword arguments as for create_sub_session; `last_will=None` removes it)."""
        reply = await self.request(Opcode.ALTER_SUB_SESSION, {0: session_id, 1: options_map(**options)})
        return SubSessionDescription.from_wire(reply)

    async def delete_sub_session(self, session_id: uuid.UUID) -> None:
        self._sub_sessions.pop(session_id, None)
        await self.request(Opcode.DELETE_SUB_SESSION, {0: session_id})

    async def check_access(self, session_id: uuid.UUID) -> AccessRights:
        reply = await self.request(Opcode.CHECK_ACCESS, {0: session_id})
        return AccessRights(read=bool(reply.get(0)), write=bool(reply.get(1)))

    # -- helpers -------------------------------------------------------------------------------

    async def _uuid(self, element: uuid.UUID | str) -> uuid.UUID:
        """Accept a UUID, a UUID string or a primary key."""
        if isinstance(element, uuid.UUID):
            return element
        try:
            return uuid.UUID(element)
        except ValueError:
            return await self.lookup(element)

    async def resolve(self, element: uuid.UUID | str) -> uuid.UUID:
        return await self._uuid(element)


def connect(url: str = DEFAULT_URL, **options: Any) -> _Connector:
    """`async with connect(url, user=..., password=...) as client:` or `client = await connect(...)`."""
    return _Connector(XentaraClient(url, **options))


class _Connector:
    """Lets connect() be both awaited and used as an async context manager."""

    def __init__(self, client: XentaraClient) -> None:
        self.client = client

    def __await__(self) -> Any:
        return self.client.connect().__await__()

    async def __aenter__(self) -> XentaraClient:
        return await self.client.connect()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.client.close()

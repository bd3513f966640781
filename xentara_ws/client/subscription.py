"""Subscription: the client side of one Xentara subscription, an async iterator of data changes."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any, Protocol, Self

from .types import Change, Values

logger = logging.getLogger(__name__)

_END = object()


class SubscriptionOwner(Protocol):
    """What a Subscription needs from its client (XentaraClient is one): whether it is connected, and
    a way to unsubscribe."""

    @property
    def connected(self) -> bool: ...

    async def unsubscribe(self, subscription: Subscription, /) -> None: ...


class Subscription:
    """Iterate with `async for change in subscription`; the iteration ends after unsubscribe/close.

    The first change per element carries its current values (the server's initial event).
    The id stays the same across reconnects: the client re-subscribes with it as the desired id.
    """

    def __init__(
        self,
        client: SubscriptionOwner,
        subscription_id: uuid.UUID,
        entries: list[tuple[uuid.UUID, list[int | uuid.UUID]]],
        max_update_rate: int | None,
        min_update_rate: int | None,
        queue_size: int,
    ) -> None:
        self.client = client
        self.id = subscription_id
        self.entries = entries
        self.max_update_rate = max_update_rate
        self.min_update_rate = min_update_rate
        self.elements = frozenset(element for element, _ in entries)
        self.latest: dict[uuid.UUID, Values] = {}
        self.closed = False
        self._error: BaseException | None = None
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=queue_size)
        self.sub_session: uuid.UUID | None = None
        """The sub-session it is bound to (xentara-ws extension), None for an ordinary subscription."""
        self.retain = 1
        """Changes per element the server keeps while that sub-session is detached (1-1000)."""

    def _params(self) -> dict[int, Any]:
        params: dict[int, Any] = {
            0: [{0: element, 1: list(attrs)} for element, attrs in self.entries],
            3: self.id,
        }
        if self.max_update_rate is not None:
            params[1] = self.max_update_rate
        if self.min_update_rate is not None:
            params[2] = self.min_update_rate
        if self.sub_session is not None:
            params[256] = {0: self.sub_session, 1: self.retain}
        return params

    def _deliver(self, element: uuid.UUID, values: Values, dropped: int = 0) -> None:
        if self.closed:
            return
        merged = Values(self.latest.get(element, {}))
        merged.update(values)
        self.latest[element] = merged
        if self._queue.full():
            # A consumer that does not keep up loses the oldest changes, not the newest.
            logger.warning("subscription %s: consumer is slow, dropping the oldest change", self.id)
            self._queue.get_nowait()
        self._queue.put_nowait(Change(self.id, element, values, dropped))

    def _finish(self, error: BaseException | None = None) -> None:
        if self.closed:
            return
        self.closed = True
        self._error = error
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(_END)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Change:
        item = await self._queue.get()
        if item is _END:
            self._queue.put_nowait(_END)  # every later call ends too
            if self._error is not None:
                raise self._error
            raise StopAsyncIteration
        return item  # type: ignore[no-any-return]

    async def next(self, timeout: float | None = None) -> Change:
        """The next change, waiting at most `timeout` seconds (TimeoutError)."""
        return await asyncio.wait_for(self.__anext__(), timeout)

    async def unsubscribe(self) -> None:
        if not self.closed:
            await self.client.unsubscribe(self)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if not self.closed and self.client.connected:
            await self.unsubscribe()
        self._finish()

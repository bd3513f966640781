"""Request batching and correlation: requests of one event-loop iteration travel in one message; replies
are matched to their requests by message id."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from websockets.exceptions import ConnectionClosed

from ..protocol.codec import encode
from ..protocol.errors import ErrorCode
from ..protocol.identifiers import Opcode, PacketType
from ..protocol.packets import Request, to_item
from .types import ConnectionFailed, XentaraError

_MAX_MESSAGE_ID = 2**31


class MessageSink(Protocol):
    """Where a batch goes: the open WebSocket (websockets' ClientConnection has this method)."""

    async def send(self, message: bytes, /) -> None: ...


class RequestBatcher:
    """Collects request packets, sends them as one message per loop iteration, and settles their futures."""

    def __init__(self) -> None:
        self.sink: MessageSink | None = None
        """The connection batches go to; None while there is none (requests then fail as "not connected")."""
        self.messages_sent = 0
        """Sent WebSocket messages; tests and diagnostics use it to see batching."""
        self._next_id = 1
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._outbox: list[list[Any]] = []
        self._flush_scheduled = False
        self._send_tasks: set[asyncio.Task[None]] = set()

    def enqueue(self, opcode: Opcode, params: Mapping[int, Any] | None) -> asyncio.Future[Any]:
        """Queue one request; the future gets its result item, or the error the server answered with."""
        loop = asyncio.get_running_loop()
        message_id = self._next_id
        self._next_id = self._next_id + 1 if self._next_id < _MAX_MESSAGE_ID else 1
        future: asyncio.Future[Any] = loop.create_future()
        self._pending[message_id] = future
        self._outbox.append(to_item(Request(message_id, int(opcode), None if params is None else dict(params))))
        if not self._flush_scheduled:
            # Everything requested before the loop gets back to us goes out in one message.
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return future

    async def call(self, opcode: Opcode, params: Mapping[int, Any] | None, timeout: float) -> Any:
        """Queue one request and wait at most `timeout` seconds for its reply."""
        return await asyncio.wait_for(self.enqueue(opcode, params), timeout)

    def _flush(self) -> None:
        self._flush_scheduled = False
        packets, self._outbox = self._outbox, []
        if not packets:
            return
        sink = self.sink
        ids = [packet[1] for packet in packets]
        if sink is None:
            self.fail(ids, ConnectionFailed("closed", "not connected"))
            return
        try:
            data = encode(packets)
        except (TypeError, ValueError) as error:
            self.fail(ids, TypeError(f"cannot encode the request: {error}"))
            return
        task = asyncio.create_task(self._send(sink, data, ids))
        self._send_tasks.add(task)
        task.add_done_callback(self._send_tasks.discard)

    async def _send(self, sink: MessageSink, data: bytes, ids: list[int]) -> None:
        try:
            await sink.send(data)
            self.messages_sent += 1
        except ConnectionClosed:
            self.fail(ids, ConnectionFailed("closed", "the connection was lost"))

    def settle(self, packet: list[Any]) -> bool:
        """Hand a reply packet (success or error) to its request; False if no request waits for it."""
        future = self._pending.pop(packet[1], None)
        if future is None or future.done():
            return False
        kind = packet[0]
        if kind == PacketType.SUCCESS:
            future.set_result(packet[2] if len(packet) > 2 else None)
        elif kind == PacketType.ERROR:
            future.set_exception(XentaraError.from_map(packet[2] if len(packet) > 2 else None))
        else:
            future.set_exception(XentaraError(ErrorCode.INTERNAL_ERROR, f"unexpected packet type {kind!r}"))
        return True

    def fail(self, ids: Iterable[int], error: BaseException) -> None:
        for message_id in ids:
            future = self._pending.pop(message_id, None)
            if future is not None and not future.done():
                future.set_exception(error)

    def fail_all(self, error: BaseException) -> None:
        """Every request still waiting for a reply fails with `error` (the connection is gone)."""
        self.fail(list(self._pending), error)

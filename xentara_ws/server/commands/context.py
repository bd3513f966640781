"""What a command handler is given (CommandContext) and what it may return besides a plain value."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..connection_state import ConnectionState
from ..state import ServerState


class _NoResult:
    """Marks a success response without an item: `[1, id]`."""

    def __repr__(self) -> str:
        return "NO_RESULT"


NO_RESULT: Any = _NoResult()


class Encoded:
    """A result that is already CBOR: the dispatcher splices it into the reply unchanged."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


@dataclass(slots=True)
class CommandContext:
    state: ServerState
    connection: ConnectionState
    message_id: int


Handler = Callable[[CommandContext, Mapping[Any, Any] | None], Any]
"""A command: its result, NO_RESULT, an Encoded result, or an awaitable of one of these."""

"""The table of command handlers keyed by opcode; command modules add to it with @command."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..protocol.identifiers import Opcode
from .session import Session
from .state import ServerState


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
    session: Session
    message_id: int


Handler = Callable[[CommandContext, Mapping[Any, Any] | None], Any]

HANDLERS: dict[int, Handler] = {}


def command(opcode: Opcode) -> Callable[[Handler], Handler]:
    """Register a handler for `opcode` in the standard table."""

    def register(handler: Handler) -> Handler:
        HANDLERS[int(opcode)] = handler
        return handler

    return register

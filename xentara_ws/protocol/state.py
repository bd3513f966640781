"""The per-connection protocol state machine (spec section 2), in the style of h11's `_state.py`.

A connection awaits client_hello, is then ready for every command, and ends closed. Events move it
along a fixed transition table; an event the table has no entry for raises LocalProtocolError, so a
state change nobody planned cannot happen silently.
"""

from __future__ import annotations

from enum import Enum
from typing import Final

from .errors import ErrorCode, ProtocolError


class ConnectionPhase(Enum):
    AWAITING_HELLO = "awaiting hello"
    READY = "ready"
    CLOSED = "closed"


class ConnectionEvent(Enum):
    HELLO_RECEIVED = "hello received"
    CONNECTION_CLOSED = "connection closed"


AWAITING_HELLO: Final = ConnectionPhase.AWAITING_HELLO
READY: Final = ConnectionPhase.READY
CLOSED: Final = ConnectionPhase.CLOSED
HELLO_RECEIVED: Final = ConnectionEvent.HELLO_RECEIVED
CONNECTION_CLOSED: Final = ConnectionEvent.CONNECTION_CLOSED

TRANSITIONS: Final[dict[ConnectionPhase, dict[ConnectionEvent, ConnectionPhase]]] = {
    AWAITING_HELLO: {HELLO_RECEIVED: READY, CONNECTION_CLOSED: CLOSED},
    READY: {CONNECTION_CLOSED: CLOSED},
    CLOSED: {CONNECTION_CLOSED: CLOSED},
}
"""Where each event leads from each state; anything not listed is a protocol error."""


class LocalProtocolError(Exception):
    """An event the current state does not allow (a bug in the caller, not the peer's fault)."""


def missing_hello() -> ProtocolError:
    """The error for a command other than client_hello before the hello (-32000)."""
    return ProtocolError(ErrorCode.MISSING_CLIENT_HELLO)


class ProtocolState:
    """One connection's place in the state machine."""

    __slots__ = ("state",)

    def __init__(self, state: ConnectionPhase = AWAITING_HELLO) -> None:
        self.state = state

    def process_event(self, event: ConnectionEvent) -> ConnectionPhase:
        try:
            self.state = TRANSITIONS[self.state][event]
        except KeyError:
            raise LocalProtocolError(f"cannot handle {event.value} in state {self.state.value}") from None
        return self.state

    def may_run(self, is_hello: bool) -> bool:
        """Whether a command may run now: everything once ready, only client_hello before."""
        state = self.state
        return state is READY or (is_hello and state is AWAITING_HELLO)

    def __repr__(self) -> str:
        return f"ProtocolState({self.state.value})"
